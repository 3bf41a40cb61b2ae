# tools/ (kdqn-eval, kdqn-export) and examples/python/: end to end through their command lines.
# Scripts: tests/test_tools_*.sh BUILD_DIR WORK_DIR SOURCE_DIR; exit 77 = skipped (no python3 modules).
set(KDQN_TOOLS_WORK ${CMAKE_CURRENT_BINARY_DIR}/tools_work)
add_test(NAME tools_eval
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_tools_eval.sh ${CMAKE_BINARY_DIR} ${KDQN_TOOLS_WORK}/tools_eval ${CMAKE_SOURCE_DIR})
set_tests_properties(tools_eval PROPERTIES LABELS "integration;unit" TIMEOUT 60 SKIP_RETURN_CODE 77)
add_test(NAME tools_export_cli
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_tools_export.sh cli ${CMAKE_BINARY_DIR} ${KDQN_TOOLS_WORK}/tools_export_cli ${CMAKE_SOURCE_DIR})
set_tests_properties(tools_export_cli PROPERTIES LABELS "integration;unit" TIMEOUT 60 SKIP_RETURN_CODE 77)
add_test(NAME tools_export_numpy
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_tools_export.sh numpy ${CMAKE_BINARY_DIR} ${KDQN_TOOLS_WORK}/tools_export_numpy ${CMAKE_SOURCE_DIR})
set_tests_properties(tools_export_numpy PROPERTIES LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)
add_test(NAME tools_teacher_client
         COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/test_tools_teacher_client.sh ${CMAKE_BINARY_DIR} ${KDQN_TOOLS_WORK}/tools_teacher_client ${CMAKE_SOURCE_DIR})
set_tests_properties(tools_teacher_client PROPERTIES LABELS integration TIMEOUT 120 SKIP_RETURN_CODE 77)
