# The layers' libraries, in link order (a library before those it uses, which the static install's
# ocpp-ws-io.pc needs). With BUILD_SHARED_LIBS=ON they stay static archives of position-independent,
# hidden-visibility objects, and `ocpp` becomes one libocpp-ws-io.so made of all their objects: users
# expect one library, and one export (ocpp::ocpp) needs no link order. Only the declarations between
# OCPP_API_BEGIN/END in include/ocpp (ocpp/rpc/visibility.hpp) are exported from it.
set(OCPP_LAYER_LIBRARIES
    ocpp_server ocpp_client ocpp_session ocpp_cluster ocpp_redis ocpp_transport ocpp_engine ocpp_messages
    ocpp_schema_compact ocpp_schema_runtime ocpp_log ocpp_http ocpp_tls ocpp_rpc)
if(NOT BUILD_SHARED_LIBS)
  return()
endif()

add_library(ocpp SHARED)
foreach(library IN LISTS OCPP_LAYER_LIBRARIES)
  target_sources(ocpp PRIVATE $<TARGET_OBJECTS:${library}>)
endforeach()
# The archives only bring their own dependencies (Boost, OpenSSL, hiredis): every object is already in.
target_link_libraries(ocpp PRIVATE ${OCPP_LAYER_LIBRARIES})
target_link_options(ocpp PRIVATE LINKER:--no-undefined)
# What the public headers need, as the layers declare it PUBLIC (src/CMakeLists.txt).
target_include_directories(ocpp PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
                                       $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>)
target_link_libraries(ocpp PUBLIC Boost::json Boost::system OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
target_compile_definitions(ocpp PUBLIC BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)
if(NOT OCPP_LOG_OUTPUT)
  target_compile_definitions(ocpp PUBLIC OCPP_NO_LOG_OUTPUT)
endif()
# 0.x: a minor release may break the ABI as well as the API, so the SONAME carries major.minor.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(OCPP_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(OCPP_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()
set_target_properties(ocpp PROPERTIES OUTPUT_NAME ocpp-ws-io VERSION ${PROJECT_VERSION} SOVERSION ${OCPP_SOVERSION})
