# Settings of the WebAssembly (emscripten) build, included by the root CMakeLists.txt before the
# IO-free libraries are added.

# Without an exceptions flag at compile and link time every throw aborts. WebAssembly's own
# exceptions (Chromium, node >= 17) make smaller and faster code than the JavaScript-based -fexceptions.
# No RTTI: nothing IO-free uses typeid or dynamic_cast, and the type names were 1.5 KB of the
# browser engine. Link-time optimisation: 4 % smaller and 13 % faster on a frame.
add_compile_options(-fwasm-exceptions -fno-rtti -flto)
add_link_options(-fwasm-exceptions -flto)
# std::bit_cast and floating-point std::to_chars, missing from the libc++ of emscripten 3.1.6.
add_compile_options("SHELL:-include \"${CMAKE_CURRENT_LIST_DIR}/libcxx13_compat.hpp\"")

# Boost.JSON (with the Boost.Container and Boost.System headers it uses) from the host's Boost
# headers. /usr/include itself must not be on em++'s include path (glibc's headers would shadow
# emscripten's libc), so a directory holding only a `boost` symlink stands in for it.
set(OCPP_HOST_BOOST_INCLUDE "/usr/include/boost" CACHE PATH "The host's Boost headers (the `boost` directory)")
if(NOT EXISTS "${OCPP_HOST_BOOST_INCLUDE}/json/src.hpp")
  message(FATAL_ERROR "No Boost.JSON headers in ${OCPP_HOST_BOOST_INCLUDE} (libboost-json1.81-dev)")
endif()
set(_ocpp_boost_dir "${CMAKE_BINARY_DIR}/host-boost")
file(MAKE_DIRECTORY "${_ocpp_boost_dir}")
file(CREATE_LINK "${OCPP_HOST_BOOST_INCLUDE}" "${_ocpp_boost_dir}/boost" SYMBOLIC)

add_library(boost_json_wasm STATIC ${CMAKE_CURRENT_LIST_DIR}/boost_json.cpp)
# The build is -Oz (the browser's size budget) but the parser is where a frame's time goes: -Oz
# (which also stops inlining, and a later -O2 alone does not restore it) parses bench/'s 1.8 KB
# TransactionEvent several times slower.
set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/boost_json.cpp PROPERTIES COMPILE_OPTIONS "-O2;-finline-functions")
target_include_directories(boost_json_wasm SYSTEM PUBLIC "${_ocpp_boost_dir}")
target_compile_features(boost_json_wasm PUBLIC cxx_std_20)
# No header paths in exceptions' messages (the browser shows them); Ryu's small tables (the full
# ones were 9 KB of the gzipped engine, the digits are the same).
target_compile_definitions(boost_json_wasm PUBLIC BOOST_DISABLE_CURRENT_LOCATION BOOST_JSON_RYU_OPTIMIZE_SIZE)
add_library(Boost::json ALIAS boost_json_wasm)

# A memcpy that copies eight bytes at a time in place of -Oz libc's byte loop (wasm/fast_memcpy.cpp),
# linked into every WebAssembly executable as an object, outside link-time optimisation.
add_library(ocpp_wasm_memcpy OBJECT ${CMAKE_CURRENT_LIST_DIR}/fast_memcpy.cpp)
set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/fast_memcpy.cpp PROPERTIES COMPILE_OPTIONS "-O2;-fno-lto")
target_link_libraries(ocpp_wasm_memcpy PRIVATE boost_json_wasm)  # the forced libcxx13_compat.hpp includes Boost
