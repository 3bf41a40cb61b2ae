# Load tests (label load): the teacher under 4 concurrent students, a learner under
# 8 actors, for KDQN_LOAD_SECONDS (default 15; launch/bench-load runs them for 60).
set(KDQN_LOAD_WORK ${CMAKE_BINARY_DIR}/loadrun)
find_package(Threads REQUIRED)
add_executable(teacher_load ${CMAKE_CURRENT_LIST_DIR}/load/teacher_load.c)
target_link_libraries(teacher_load PRIVATE kdqn_proto PkgConfig::ZMQ Threads::Threads)
foreach(t teacher_load learner_load)
  add_test(NAME load_${t} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/load/${t}.sh ${CMAKE_BINARY_DIR} ${KDQN_LOAD_WORK} 15)
  set_tests_properties(load_${t} PROPERTIES LABELS load TIMEOUT 120 RUN_SERIAL TRUE)
endforeach()
