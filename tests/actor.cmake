# kdqn-actor against a fake learner (real sockets, the real process).
add_executable(test_actor ${CMAKE_CURRENT_LIST_DIR}/test_actor.c)
target_link_libraries(test_actor PRIVATE kdqn_actor kdqn_proto kdqn_core MPI::MPI_C PkgConfig::ZMQ)
foreach(case main silent garbage maxsteps)
  add_test(NAME actor_${case} COMMAND test_actor $<TARGET_FILE:kdqn-actor> ${case})
  set_tests_properties(actor_${case} PROPERTIES LABELS integration TIMEOUT 60)
endforeach()
add_test(NAME actor_usage COMMAND test_actor $<TARGET_FILE:kdqn-actor> usage)
set_tests_properties(actor_usage PROPERTIES LABELS unit TIMEOUT 60)
# Under mpirun: the test plays the learner rank, two real actors find it by rendezvous.
add_test(NAME actor_mpi COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe --bind-to none
         -np 1 $<TARGET_FILE:test_actor> $<TARGET_FILE:kdqn-actor> mpi
         : -np 2 $<TARGET_FILE:kdqn-actor> --envs 8 --stats-interval 0)
set_tests_properties(actor_mpi PROPERTIES LABELS integration TIMEOUT 60)
if(KDQN_SANITIZE)
  # Open MPI's own start-up allocations (MPI_Init, ompi_op_base_op_select, ...) are
  # never freed; leak checking of the actor itself is done by the standalone cases.
  set_tests_properties(actor_mpi PROPERTIES ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
endif()
