# CartPole: the environment against Gymnasium's trajectories, and the kdqn-cartpole CLI.
set(KDQN_CARTPOLE_REF ${CMAKE_SOURCE_DIR}/tests/data/cartpole_reference.json)

add_library(kdqn_test_json STATIC ${CMAKE_CURRENT_LIST_DIR}/json_mini.c)
target_include_directories(kdqn_test_json PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(kdqn_test_json PUBLIC ${MATH_LIB})

add_executable(test_cartpole ${CMAKE_CURRENT_LIST_DIR}/test_cartpole.c)
target_link_libraries(test_cartpole PRIVATE kdqn_core kdqn_test_json)
add_test(NAME cartpole COMMAND test_cartpole ${KDQN_CARTPOLE_REF})

add_executable(test_cartpole_cli ${CMAKE_CURRENT_LIST_DIR}/test_cartpole_cli.c)
target_link_libraries(test_cartpole_cli PRIVATE kdqn_test_json)
add_dependencies(test_cartpole_cli kdqn-cartpole)
add_test(NAME cartpole_cli COMMAND test_cartpole_cli $<TARGET_FILE:kdqn-cartpole> ${KDQN_CARTPOLE_REF})

set_tests_properties(cartpole cartpole_cli PROPERTIES LABELS unit TIMEOUT 60)
