# Fault tests (label fault): real processes, real signals; bash scripts in tests/fault/.
# Each prints `measure: key=value` lines (launch/bench-load collects them) and ok:/FAIL: lines.
set(KDQN_FAULT_WORK ${CMAKE_BINARY_DIR}/faultrun)
add_executable(ckpt_check ${CMAKE_CURRENT_LIST_DIR}/fault/ckpt_check.c)
target_link_libraries(ckpt_check PRIVATE kdqn_core)
foreach(t actor_killed actor_join teacher_killed learner_resume ckpt_kill clean_stop)
  add_test(NAME fault_${t} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/fault/${t}.sh ${CMAKE_BINARY_DIR} ${KDQN_FAULT_WORK})
  set_tests_properties(fault_${t} PROPERTIES LABELS fault TIMEOUT 180 RUN_SERIAL TRUE)
endforeach()
