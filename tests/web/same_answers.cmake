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
