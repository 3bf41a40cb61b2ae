# System tests: real mpirun jobs on localhost (small -np, --oversubscribe).
set(KDQN_SYS_WORK ${CMAKE_BINARY_DIR}/sysrun)
add_test(NAME sys_teacher_train COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/system/teacher_train.sh ${CMAKE_BINARY_DIR} ${KDQN_SYS_WORK})
set_tests_properties(sys_teacher_train PROPERTIES LABELS integration TIMEOUT 300 FIXTURES_SETUP teacher_ckpt RUN_SERIAL TRUE)
add_test(NAME sys_two_students COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/system/two_students.sh ${CMAKE_BINARY_DIR} ${KDQN_SYS_WORK})
set_tests_properties(sys_two_students PROPERTIES LABELS integration TIMEOUT 240 FIXTURES_REQUIRED teacher_ckpt RUN_SERIAL TRUE)
add_test(NAME sys_shared_teacher COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/system/shared_teacher.sh ${CMAKE_BINARY_DIR} ${KDQN_SYS_WORK})
set_tests_properties(sys_shared_teacher PROPERTIES LABELS integration TIMEOUT 240 FIXTURES_REQUIRED teacher_ckpt RUN_SERIAL TRUE)
