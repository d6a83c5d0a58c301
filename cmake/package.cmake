# Debian packages of the install's two components (`cpack -G DEB` in the build directory):
# libocpp-ws-io-dev (headers, libraries, CMake and pkg-config files) and ocpp-ws-io-tools (`ocpp` and
# its man page). tests/consumer/packages.sh builds them, runs lintian on them and builds the
# consumer against their contents.
set(OCPP_PACKAGE_MAINTAINER "ocpp-ws-io maintainers <maintainers@users.noreply.r-seed-be075cca.example>"
    CACHE STRING "The Maintainer of the Debian packages")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ocpp-ws-io)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${OCPP_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL dev tools)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SOURCE ocpp-ws-io)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libocpp-ws-io-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The -dev packages of what the public headers and the static libraries use (ocpp-ws-ioConfig.cmake
# and ocpp-ws-io.pc find the same). spdlog only for <ocpp/log/spdlog.hpp>.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libboost1.81-dev, libboost-json1.81-dev, libboost-system1.81-dev, libssl-dev, libhiredis-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS "libspdlog-dev, pkg-config, cmake")
# The first line is the synopsis; CPack indents the others and turns an empty one into " .".
set(CPACK_DEBIAN_DEV_DESCRIPTION "OCPP-J client, server and cluster library for C++20 (development files)
ocpp-ws-io speaks OCPP-J, JSON-RPC over WebSocket between EV charging
stations and a central system, for OCPP 1.6, 2.0.1 and 2.1: typed messages
validated against the official schemas, a client, a server pipeline, TLS
security profiles and clustering over Redis.

This package holds the headers, the static libraries, the CMake package
(find_package(ocpp-ws-io)) and the pkg-config file (ocpp-ws-io).")

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME ocpp-ws-io-tools)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "OCPP-J command-line tools: demo CSMS, charge point simulator, load generator
The ocpp command of ocpp-ws-io: a demo central system (ocpp serve),
simulated charging stations (ocpp simulate), a load generator for any
OCPP-J server (ocpp bench), calls through a cluster (ocpp call, ocpp
cluster) and test certificates for the TLS security profiles (ocpp certs).")

# Debian wants a copyright file and the changelog in each package's documentation directory.
string(TIMESTAMP OCPP_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file(${CMAKE_CURRENT_LIST_DIR}/debian/changelog.in ${PROJECT_BINARY_DIR}/debian/changelog.Debian @ONLY)
execute_process(COMMAND gzip -9nf ${PROJECT_BINARY_DIR}/debian/changelog.Debian COMMAND_ERROR_IS_FATAL ANY)
foreach(component dev tools)
  string(TOUPPER ${component} upper)
  install(FILES ${CMAKE_CURRENT_LIST_DIR}/debian/copyright ${PROJECT_BINARY_DIR}/debian/changelog.Debian.gz
          DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${CPACK_DEBIAN_${upper}_PACKAGE_NAME} COMPONENT ${component}
          EXCLUDE_FROM_ALL)
endforeach()

include(CPack)
