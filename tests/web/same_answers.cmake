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
