# bench-env: raw CartPole steps/s on one core (vector cartpole_step vs a naive port).
add_executable(bench-env ${CMAKE_CURRENT_LIST_DIR}/bench_env.c)
target_link_libraries(bench-env PRIVATE kdqn_core)
