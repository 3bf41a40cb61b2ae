# bench-math: sgemm peak, forward states/s and DQN update steps/s, fast vs naive path.
add_executable(bench-math ${CMAKE_CURRENT_LIST_DIR}/bench_math.c)
target_link_libraries(bench-math PRIVATE kdqn_core)
