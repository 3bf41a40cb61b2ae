/* test_teacher_util.h — helpers shared by the teacher tests and benchmark:
 * checkpoints, starting kdqn-teacher as a child process, DEALER clients.
 * Every helper reports failure by its return value; none exits. */
#ifndef KDQN_TEST_TEACHER_UTIL_H
#define KDQN_TEST_TEACHER_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mlp.h"
#include "proto.h"

extern int tt_failures;
/* Counts and prints a failed check; evaluates to cond. */
#define TT_CHECK(cond, ...) tt_check((cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
int tt_check(int cond, const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Writes a random-initialised checkpoint of arch_spec to path; *params_out
 * (malloc'ed, (n_params)) and *arch get the same network. 0 or -1. */
int tt_make_ckpt(const char *path, const char *arch_spec, uint64_t seed, mlp_arch_t *arch,
                 float **params_out);

/* fork+exec of argv (NULL-terminated) with stderr (and stdout) to log_path;
 * returns the pid or -1. */
pid_t tt_spawn(char *const argv[], const char *log_path);
/* Waits up to timeout_s for pid; 1 and *status (waitpid status) if it exited,
 * 0 if still running, -1 on error. */
int tt_wait(pid_t pid, double timeout_s, int *status);
/* Polls for a non-empty file and reads its first line into buf; 0 or -1 on timeout. */
int tt_read_endpoint(const char *path, double timeout_s, char *buf, size_t n);
/* Whole file into a malloc'ed NUL-terminated string, or NULL. */
char *tt_slurp(const char *path);
/* The value of "key=" in text as an unsigned number, or -1 if absent (last occurrence). */
long long tt_counter(const char *text, const char *key);

/* A DEALER connected to ep (linger 0, rcv timeout set by tt_recv). NULL on failure. */
void *tt_dealer(void *ctx, const char *ep);
/* Encodes and sends; 0 or -1. */
int tt_send_buf(void *sock, const proto_buf_t *b);
int tt_send_query(void *sock, proto_buf_t *b, uint64_t req_id, float T, uint32_t n, uint32_t D,
                  const float *obs);
int tt_send_status(void *sock, proto_buf_t *b, int type, uint32_t id);
/* Receives one frame (waiting up to timeout_ms) into a malloc'ed buffer;
 * returns its length, or -1 on timeout/error. */
long tt_recv(void *sock, int timeout_ms, uint8_t **data);

double tt_now(void);

#endif
