# Network math (core/mlp.c, core/loss.c): gradient checks, sgemm vs naive, Adam, losses.
add_executable(test_mlp ${CMAKE_CURRENT_LIST_DIR}/test_mlp.c)
target_link_libraries(test_mlp PRIVATE kdqn_core)
add_test(NAME core_mlp COMMAND test_mlp)

add_executable(test_loss ${CMAKE_CURRENT_LIST_DIR}/test_loss.c)
target_link_libraries(test_loss PRIVATE kdqn_core)
add_test(NAME core_loss COMMAND test_loss)

set_tests_properties(core_mlp core_loss PROPERTIES LABELS unit TIMEOUT 120)
