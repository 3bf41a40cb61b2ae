# Replay buffer and checkpoint tests. They compile the few core sources they need
# directly, so each module is testable alone (and test_ckpt can wrap malloc/free
# in ckpt.c to count allocations).
set(KDQN_CORE_DIR ${CMAKE_SOURCE_DIR}/core)

add_executable(test_replay ${CMAKE_CURRENT_LIST_DIR}/test_replay.c
               ${KDQN_CORE_DIR}/replay.c ${KDQN_CORE_DIR}/rng.c)
target_include_directories(test_replay PRIVATE ${KDQN_CORE_DIR})
target_link_libraries(test_replay PRIVATE ${MATH_LIB})
add_test(NAME replay_unit COMMAND test_replay)
set_tests_properties(replay_unit PROPERTIES LABELS unit TIMEOUT 60)

add_executable(test_ckpt ${CMAKE_CURRENT_LIST_DIR}/test_ckpt.c
               ${KDQN_CORE_DIR}/ckpt.c ${KDQN_CORE_DIR}/rng.c ${KDQN_CORE_DIR}/mlp_arch.c)
target_include_directories(test_ckpt PRIVATE ${KDQN_CORE_DIR})
target_link_libraries(test_ckpt PRIVATE ${MATH_LIB})
target_link_options(test_ckpt PRIVATE "LINKER:--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free")
add_test(NAME ckpt_unit COMMAND test_ckpt unit)
set_tests_properties(ckpt_unit PROPERTIES LABELS unit TIMEOUT 60)
add_test(NAME ckpt_corrupt COMMAND test_ckpt fault)
set_tests_properties(ckpt_corrupt PROPERTIES LABELS "unit;fault" TIMEOUT 300)
