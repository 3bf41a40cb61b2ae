# teacher/ (kdqn-teacher): the service through its API (unit), end to end (integration),
# hostile input and faults (fault), and as an mpirun rank (integration).
find_package(Threads REQUIRED)
add_library(test_teacher_util STATIC ${CMAKE_CURRENT_LIST_DIR}/test_teacher_util.c)
target_include_directories(test_teacher_util PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(test_teacher_util PUBLIC kdqn_core kdqn_proto PkgConfig::ZMQ)

add_executable(test_teacher_service ${CMAKE_CURRENT_LIST_DIR}/test_teacher_service.c)
target_link_libraries(test_teacher_service PRIVATE test_teacher_util kdqn_teacher_service)
add_test(NAME teacher_service COMMAND test_teacher_service)
set_tests_properties(teacher_service PROPERTIES LABELS unit TIMEOUT 30)

add_executable(test_teacher ${CMAKE_CURRENT_LIST_DIR}/test_teacher.c)
target_link_libraries(test_teacher PRIVATE test_teacher_util)
add_test(NAME teacher_serve COMMAND test_teacher $<TARGET_FILE:kdqn-teacher>)
set_tests_properties(teacher_serve PROPERTIES LABELS integration TIMEOUT 60)

add_executable(test_teacher_bad ${CMAKE_CURRENT_LIST_DIR}/test_teacher_bad.c)
target_link_libraries(test_teacher_bad PRIVATE test_teacher_util Threads::Threads)
add_test(NAME teacher_bad_input COMMAND test_teacher_bad $<TARGET_FILE:kdqn-teacher>)
set_tests_properties(teacher_bad_input PROPERTIES LABELS fault TIMEOUT 60)

# Under mpirun: the teacher rank and a stand-in learner rank (test_teacher_mpi) rendezvous;
# the teacher must exit 0 by itself after the learner's goodbye.
add_executable(test_teacher_mpi ${CMAKE_CURRENT_LIST_DIR}/test_teacher_mpi.c)
target_link_libraries(test_teacher_mpi PRIVATE test_teacher_util MPI::MPI_C)
set(TEACHER_TEST_CKPT ${CMAKE_CURRENT_BINARY_DIR}/teacher_test_4-32-32-2.ckpt)
add_test(NAME teacher_mkckpt COMMAND kdqn-teacher-mkckpt 4-32-32-2 ${TEACHER_TEST_CKPT} 3)
set_tests_properties(teacher_mkckpt PROPERTIES FIXTURES_SETUP teacher_random_ckpt LABELS integration TIMEOUT 30)
add_test(NAME teacher_mpi COMMAND ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe --bind-to none
         -np 1 $<TARGET_FILE:kdqn-teacher> --checkpoint ${TEACHER_TEST_CKPT} --max-seconds 40 --idle-exit 20
         : -np 1 $<TARGET_FILE:test_teacher_mpi>)
set_tests_properties(teacher_mpi PROPERTIES FIXTURES_REQUIRED teacher_random_ckpt LABELS integration TIMEOUT 60)
if(KDQN_SANITIZE)
  # Open MPI's start-up allocations are never freed and LeakSanitizer reports them in
  # every rank; the teacher's own leak checking is done by the standalone tests.
  set_tests_properties(teacher_mpi PROPERTIES ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
endif()
