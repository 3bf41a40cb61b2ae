# Replay buffer and checkpoint throughput (not a test).
set(KDQN_CORE_DIR ${CMAKE_SOURCE_DIR}/core)
add_executable(bench_replay ${CMAKE_CURRENT_LIST_DIR}/bench_replay.c ${KDQN_CORE_DIR}/replay.c
               ${KDQN_CORE_DIR}/ckpt.c ${KDQN_CORE_DIR}/rng.c ${KDQN_CORE_DIR}/mlp_arch.c)
target_include_directories(bench_replay PRIVATE ${KDQN_CORE_DIR})
target_link_libraries(bench_replay PRIVATE ${MATH_LIB})
