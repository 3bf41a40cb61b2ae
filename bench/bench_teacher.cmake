# bench-teacher: teacher service states/s and latency, 1/2/4 clients, batched vs one forward per query.
find_package(Threads REQUIRED)
add_executable(bench-teacher ${CMAKE_CURRENT_LIST_DIR}/bench_teacher.c)
target_link_libraries(bench-teacher PRIVATE kdqn_teacher_service Threads::Threads)
