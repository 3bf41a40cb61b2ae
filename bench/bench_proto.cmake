# bench-proto: transition-batch encode/decode throughput (vs msgpack-c's unpacker) and PUSH->PULL on loopback.
find_package(Threads REQUIRED)
add_executable(bench-proto ${CMAKE_CURRENT_LIST_DIR}/bench_proto.c)
target_link_libraries(bench-proto PRIVATE kdqn_proto Threads::Threads)
