# Browser client (issue 14), the parts in tests/web/ not tied to Chromium: the TypeScript
# declarations and the native/JS same-answers test. Included from tests/CMakeLists.txt.

# web/ocpp-actions.d.ts must match codegen/generate_dts.py; like messages.codegen_up_to_date, it
# fails (never skips) without Python.
find_package(Python3 COMPONENTS Interpreter)
if(Python3_Interpreter_FOUND)
  add_test(NAME web.dts_up_to_date COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/codegen/generate_dts.py --check)
else()
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/dts_no_python.cmake
       "message(FATAL_ERROR \"Python 3 not found: cannot run codegen/generate_dts.py\")\n")
  add_test(NAME web.dts_up_to_date COMMAND ${CMAKE_COMMAND} -P ${CMAKE_CURRENT_BINARY_DIR}/dts_no_python.cmake)
endif()

# tsc --noEmit --strict over tests/web/types/usage.ts (TypeScript pinned in its package.json,
# installed by scripts/setup.sh), and the check's own check: a broken declaration must fail it.
add_test(NAME web.types_check COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/types/check.sh)
add_test(NAME web.types_check_catches_broken_declaration COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/types/check.sh --broken)
set_tests_properties(web.types_check web.types_check_catches_broken_declaration PROPERTIES TIMEOUT 120)

# The same malformed frames and invalid payloads to the native client and to web/ocpp.js (the
# wasm build's site directory): identical CALLERROR codes, ids and close codes.
add_executable(native_station ${CMAKE_CURRENT_LIST_DIR}/native_station.cpp)
target_link_libraries(native_station PRIVATE ocpp)
set(OCPP_WEB_SITE_DIR ${PROJECT_SOURCE_DIR}/build/wasm/web/site CACHE PATH
    "The wasm build's site directory (ocpp.js, ocpp-engine.wasm) for web.same_answers_native_and_browser")
add_test(NAME web.same_answers_native_and_browser
         COMMAND node ${CMAKE_CURRENT_LIST_DIR}/same_answers.mjs --native $<TARGET_FILE:native_station>
                 --site ${OCPP_WEB_SITE_DIR})
# The harness's own test, without the wasm build: native against native agrees, and against a native
# station answering Reset "Rejected" the differences are reported.
add_test(NAME web.same_answers_self_check
         COMMAND node ${CMAKE_CURRENT_LIST_DIR}/same_answers.mjs --native $<TARGET_FILE:native_station> --self-check)
set_tests_properties(web.same_answers_native_and_browser web.same_answers_self_check PROPERTIES TIMEOUT 180)
