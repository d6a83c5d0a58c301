# `cmake --install`: public headers, the libraries (static, or libocpp-ws-io.so with
# BUILD_SHARED_LIBS=ON), the `ocpp` tool and its man page, a CMake package
# (find_package(ocpp-ws-io CONFIG) -> ocpp::ocpp) and ocpp-ws-io.pc. Two components, which
# cmake/package.cmake turns into Debian packages: `dev` (what a build against the library needs) and
# `tools` (`ocpp`).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

if(BUILD_SHARED_LIBS)
  # One library: the export set is ocpp::ocpp alone, and the layers' archives stay in the build tree.
  set(OCPP_PC_LIBS "-locpp-ws-io")
  set(OCPP_PC_REQUIRES "openssl")
  set(OCPP_LINKS_HIREDIS FALSE)
  install(TARGETS ocpp EXPORT ocpp-ws-ioTargets
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
else()
  set(OCPP_PC_LIBS "")
  foreach(library IN LISTS OCPP_LAYER_LIBRARIES)
    string(REPLACE "ocpp_" "" name ${library})
    set_target_properties(${library} PROPERTIES EXPORT_NAME ${name})
    string(APPEND OCPP_PC_LIBS " -l${library}")
  endforeach()
  string(STRIP "${OCPP_PC_LIBS}" OCPP_PC_LIBS)
  set(OCPP_PC_REQUIRES "openssl hiredis")
  set(OCPP_LINKS_HIREDIS TRUE)  # the static ocpp::redis carries it along
  install(TARGETS ${OCPP_LAYER_LIBRARIES} ocpp EXPORT ocpp-ws-ioTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ocpp ${PROJECT_BINARY_DIR}/include/ocpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
if(TARGET ocpp_cli)
  install(TARGETS ocpp_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
endif()
if(TARGET ocpp_man)
  install(FILES ${OCPP_MAN_PAGE} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT tools)
endif()

set(OCPP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ocpp-ws-io)
install(EXPORT ocpp-ws-ioTargets NAMESPACE ocpp:: DESTINATION ${OCPP_CMAKE_DIR} COMPONENT dev)
configure_file(${CMAKE_CURRENT_LIST_DIR}/ocpp-ws-ioConfig.cmake.in ${PROJECT_BINARY_DIR}/ocpp-ws-ioConfig.cmake @ONLY)
# 0.x: a minor release may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ocpp-ws-ioConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ocpp-ws-ioConfig.cmake ${PROJECT_BINARY_DIR}/ocpp-ws-ioConfigVersion.cmake
        DESTINATION ${OCPP_CMAKE_DIR} COMPONENT dev)

# The definitions the libraries' targets carry PUBLIC, for users without CMake.
set(OCPP_PC_CFLAGS "-DBOOST_ASIO_NO_DEPRECATED -DBOOST_BEAST_USE_STD_STRING_VIEW")
if(NOT OCPP_LOG_OUTPUT)
  string(APPEND OCPP_PC_CFLAGS " -DOCPP_NO_LOG_OUTPUT")
endif()
# The prefix relative to the .pc file: `cmake --install --prefix P` picks P after configuring.
file(RELATIVE_PATH OCPP_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" OCPP_PC_TO_PREFIX "${OCPP_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/ocpp-ws-io.pc.in ${PROJECT_BINARY_DIR}/ocpp-ws-io.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ocpp-ws-io.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
if(OCPP_INSTALL_WEB_SITE)
  install(DIRECTORY ${OCPP_INSTALL_WEB_SITE}/ DESTINATION ${CMAKE_INSTALL_DATADIR}/ocpp-ws-io/web COMPONENT tools)
endif()
