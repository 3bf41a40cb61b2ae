# Security (CURVE, safe defaults) and hostile input on live sockets.
# Labels: unit (secure module in-process), security (CURVE end to end, safe defaults),
# fault (bad input while real traffic flows).
add_executable(test_secure ${CMAKE_CURRENT_LIST_DIR}/test_secure.c)
target_link_libraries(test_secure PRIVATE kdqn_proto kdqn_core PkgConfig::ZMQ)
add_test(NAME secure_unit COMMAND test_secure)
set_tests_properties(secure_unit PROPERTIES LABELS unit TIMEOUT 60)

add_executable(hostile_client ${CMAKE_CURRENT_LIST_DIR}/hostile_client.c)
target_link_libraries(hostile_client PRIVATE kdqn_proto kdqn_core PkgConfig::ZMQ PkgConfig::MSGPACK ${MATH_LIB})

set(KDQN_SEC_WORK ${CMAKE_BINARY_DIR}/secrun)
foreach(t curve_teacher curve_actors safe_defaults)
  add_test(NAME security_${t} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/security/${t}.sh ${CMAKE_BINARY_DIR} ${KDQN_SEC_WORK}/${t})
  set_tests_properties(security_${t} PROPERTIES LABELS security TIMEOUT 120 RUN_SERIAL TRUE)
endforeach()
foreach(t bad_input_learner bad_input_teacher)
  add_test(NAME fault_${t} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/security/${t}.sh ${CMAKE_BINARY_DIR} ${KDQN_SEC_WORK}/${t})
  set_tests_properties(fault_${t} PROPERTIES LABELS fault TIMEOUT 180 RUN_SERIAL TRUE)
endforeach()
