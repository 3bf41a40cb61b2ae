# proto/: wire format unit tests, the MPI rendezvous on localhost, and (with
# -DKDQN_FUZZ=ON) a bounded libFuzzer run per decoder.
add_executable(test_proto ${CMAKE_CURRENT_LIST_DIR}/test_proto.c)
target_link_libraries(test_proto PRIVATE kdqn_proto)
add_test(NAME proto_unit COMMAND test_proto)
set_tests_properties(proto_unit PROPERTIES LABELS unit TIMEOUT 120)

add_executable(test_rdv ${CMAKE_CURRENT_LIST_DIR}/test_rendezvous.c)
target_link_libraries(test_rdv PRIVATE kdqn_proto)
add_test(NAME rdv_unit COMMAND test_rdv --unit)
set_tests_properties(rdv_unit PROPERTIES LABELS unit TIMEOUT 30)
set(KDQN_MPIRUN ${MPIEXEC_EXECUTABLE} --allow-run-as-root --oversubscribe --bind-to none)
add_test(NAME rdv_mpmd COMMAND ${KDQN_MPIRUN}
         -np 1 $<TARGET_FILE:test_rdv> --role teacher :
         -np 1 $<TARGET_FILE:test_rdv> --role learner :
         -np 2 $<TARGET_FILE:test_rdv> --role actor)
set_tests_properties(rdv_mpmd PROPERTIES LABELS integration TIMEOUT 60)
add_test(NAME rdv_mpmd_2learners COMMAND ${KDQN_MPIRUN}
         -np 1 $<TARGET_FILE:test_rdv> --role teacher :
         -np 2 $<TARGET_FILE:test_rdv> --role learner :
         -np 3 $<TARGET_FILE:test_rdv> --role actor)
set_tests_properties(rdv_mpmd_2learners PROPERTIES LABELS integration TIMEOUT 60)

if(KDQN_FUZZ)
  # Targets come from proto/fuzz/CMakeLists.txt. libFuzzer writes new inputs into
  # its first corpus folder, so that is a scratch folder in the build tree and the
  # committed seeds (second folder) are only read.
  set(KDQN_ASAN_FUZZ_ENV ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=256)
  set(KDQN_FUZZ_SECONDS 10 CACHE STRING "seconds each libFuzzer target runs under CTest")
  foreach(t peek status batch weights stop query reply info_req info error)
    set(scratch ${CMAKE_CURRENT_BINARY_DIR}/fuzz_work/${t})
    file(MAKE_DIRECTORY ${scratch})
    add_test(NAME fuzz_proto_${t}
             COMMAND ${CMAKE_COMMAND} -E env ${KDQN_ASAN_FUZZ_ENV}
                     $<TARGET_FILE:fuzz_proto_${t}> -max_total_time=${KDQN_FUZZ_SECONDS} -rss_limit_mb=2048 -malloc_limit_mb=4096
                     -print_final_stats=1 ${scratch} ${CMAKE_SOURCE_DIR}/proto/fuzz/corpus/${t})
    math(EXPR fuzz_timeout "${KDQN_FUZZ_SECONDS} * 3 + 60")
    set_tests_properties(fuzz_proto_${t} PROPERTIES LABELS fuzz TIMEOUT ${fuzz_timeout})
  endforeach()
endif()

if(KDQN_SANITIZE)
  # Open MPI's own start-up allocations (MCA components, dlopen'ed) are never freed
  # and LeakSanitizer reports them in every rank; proto's own leak checking is done
  # by proto_unit and rdv_unit, which run without MPI.
  set_tests_properties(rdv_mpmd rdv_mpmd_2learners PROPERTIES ENVIRONMENT "ASAN_OPTIONS=detect_leaks=0")
endif()
