# `cmake --install`: public headers, the static libraries, the `ocpp` tool, a CMake package
# (find_package(ocpp-ws-io CONFIG) -> ocpp::ocpp) and ocpp-ws-io.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# In link order (a library before those it uses), which the .pc file's Libs needs for static libraries.
set(OCPP_INSTALLED_LIBRARIES
    ocpp_server ocpp_client ocpp_session ocpp_cluster ocpp_redis ocpp_transport ocpp_engine ocpp_messages
    ocpp_schema_compact ocpp_schema_runtime ocpp_log ocpp_http ocpp_tls ocpp_rpc)
set(OCPP_PC_LIBS "")
foreach(library IN LISTS OCPP_INSTALLED_LIBRARIES)
  string(REPLACE "ocpp_" "" name ${library})
  set_target_properties(${library} PROPERTIES EXPORT_NAME ${name})
  string(APPEND OCPP_PC_LIBS " -l${library}")
endforeach()
string(STRIP "${OCPP_PC_LIBS}" OCPP_PC_LIBS)

install(TARGETS ${OCPP_INSTALLED_LIBRARIES} ocpp EXPORT ocpp-ws-ioTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ocpp ${PROJECT_BINARY_DIR}/include/ocpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET ocpp_cli)
  install(TARGETS ocpp_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(OCPP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ocpp-ws-io)
install(EXPORT ocpp-ws-ioTargets NAMESPACE ocpp:: DESTINATION ${OCPP_CMAKE_DIR})
configure_file(${CMAKE_CURRENT_LIST_DIR}/ocpp-ws-ioConfig.cmake.in ${PROJECT_BINARY_DIR}/ocpp-ws-ioConfig.cmake @ONLY)
# 0.x: a minor release may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ocpp-ws-ioConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ocpp-ws-ioConfig.cmake ${PROJECT_BINARY_DIR}/ocpp-ws-ioConfigVersion.cmake
        DESTINATION ${OCPP_CMAKE_DIR})

# The definitions the libraries' targets carry PUBLIC, for users without CMake.
set(OCPP_PC_CFLAGS "-DBOOST_ASIO_NO_DEPRECATED -DBOOST_BEAST_USE_STD_STRING_VIEW")
if(NOT OCPP_LOG_OUTPUT)
  string(APPEND OCPP_PC_CFLAGS " -DOCPP_NO_LOG_OUTPUT")
endif()
# The prefix relative to the .pc file: `cmake --install --prefix P` picks P after configuring.
file(RELATIVE_PATH OCPP_PC_TO_PREFIX /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" OCPP_PC_TO_PREFIX "${OCPP_PC_TO_PREFIX}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/ocpp-ws-io.pc.in ${PROJECT_BINARY_DIR}/ocpp-ws-io.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ocpp-ws-io.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
