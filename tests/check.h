/* check.h — the tests' one assertion macro. A failed CHECK prints where and why and
 * is counted; the test goes on, so one run reports every failure. A test's main
 * ends with `return check_report("name");`, which exits non-zero on any failure. */
#ifndef KDQN_TEST_CHECK_H
#define KDQN_TEST_CHECK_H
#include <stdio.h>

static int failures, checks;

#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; \
    fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); fprintf(stderr, __VA_ARGS__); \
    fputc('\n', stderr); } } while (0)

static inline int check_report(const char *name)
{
    if (failures) {
        fprintf(stderr, "%s: %d of %d checks failed\n", name, failures, checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, checks);
    return 0;
}

#endif
