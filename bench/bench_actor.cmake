# bench-actor: env steps/s of the whole actor loop for K = 1, 8..128 copies per actor.
find_package(Threads REQUIRED)
add_executable(bench-actor ${CMAKE_CURRENT_LIST_DIR}/bench_actor.c)
target_link_libraries(bench-actor PRIVATE kdqn_actor kdqn_core PkgConfig::ZMQ Threads::Threads)
