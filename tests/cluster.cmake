# Cluster tests: real mpirun jobs across three "hosts" (network namespaces made by
# ../shared/tools/netns-cluster beside the repository). Need root and iproute2;
# skipped (77) otherwise. One at a time: the namespaces kh1-kh3 are machine-wide.
set(KDQN_NETNS_CLUSTER ${CMAKE_SOURCE_DIR}/../shared/tools/netns-cluster)
set(KDQN_CLUSTER_WORK ${CMAKE_BINARY_DIR}/clusterrun)
set(_kc ${CMAKE_CURRENT_LIST_DIR}/cluster)
add_test(NAME cluster_teacher COMMAND bash ${_kc}/teacher.sh ${CMAKE_BINARY_DIR} ${KDQN_CLUSTER_WORK})
set_tests_properties(cluster_teacher PROPERTIES LABELS cluster TIMEOUT 300 FIXTURES_SETUP cluster_teacher_ckpt
                     RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
foreach(t misconfig solve host_back shared_teacher)
  add_test(NAME cluster_${t} COMMAND bash ${_kc}/${t}.sh ${CMAKE_BINARY_DIR} ${KDQN_CLUSTER_WORK} ${KDQN_NETNS_CLUSTER})
endforeach()
foreach(m cut freeze)
  add_test(NAME cluster_host_lost_${m} COMMAND bash ${_kc}/host_lost.sh ${CMAKE_BINARY_DIR} ${KDQN_CLUSTER_WORK}
           ${KDQN_NETNS_CLUSTER} ${m})
endforeach()
set_tests_properties(cluster_misconfig cluster_solve cluster_host_back cluster_shared_teacher
                     cluster_host_lost_cut cluster_host_lost_freeze
                     PROPERTIES LABELS cluster TIMEOUT 420 RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
set_tests_properties(cluster_solve cluster_host_back cluster_shared_teacher cluster_host_lost_cut
                     cluster_host_lost_freeze PROPERTIES FIXTURES_REQUIRED cluster_teacher_ckpt)
