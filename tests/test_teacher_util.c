/* test_teacher_util.c — see test_teacher_util.h. */
#include "test_teacher_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "ckpt.h"
#include "rng.h"

int tt_failures;

int tt_check(int cond, const char *file, int line, const char *expr, const char *fmt, ...)
{
    if (cond)
        return 1;
    tt_failures++;
    fprintf(stderr, "FAIL %s:%d: %s: ", file, line, expr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 0;
}

double tt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int tt_make_ckpt(const char *path, const char *arch_spec, uint64_t seed, mlp_arch_t *arch,
                 float **params_out)
{
    if (mlp_arch_parse(arch, arch_spec) != MLP_OK)
        return -1;
    mlp_t *net = mlp_new(arch, 1);
    if (!net)
        return -1;
    rng_t rng;
    rng_seed(&rng, seed);
    mlp_init(net, &rng);
    ckpt_t ck;
    memset(&ck, 0, sizeof ck);
    ck.arch = *arch;
    ck.params = net->params;
    int rc = ckpt_save(path, &ck);
    float *p = malloc(arch->n_params * sizeof(float));
    if (p)
        memcpy(p, net->params, arch->n_params * sizeof(float));
    mlp_destroy(&net);
    if (rc != CKPT_OK || !p) {
        free(p);
        return -1;
    }
    *params_out = p;
    return 0;
}

pid_t tt_spawn(char *const argv[], const char *log_path)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    execv(argv[0], argv);
    _exit(127);
}

int tt_wait(pid_t pid, double timeout_s, int *status)
{
    double end = tt_now() + timeout_s;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0)
            return -1;
        if (tt_now() >= end)
            return 0;
        usleep(5000);
    }
}

int tt_read_endpoint(const char *path, double timeout_s, char *buf, size_t n)
{
    double end = tt_now() + timeout_s;
    while (tt_now() < end) {
        FILE *f = fopen(path, "r");
        if (f) {
            int ok = fgets(buf, (int)n, f) != NULL;
            fclose(f);
            if (ok) {
                buf[strcspn(buf, "\r\n")] = '\0';
                if (buf[0])
                    return 0;
            }
        }
        usleep(10000);
    }
    return -1;
}

char *tt_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *s = malloc(cap);
    while (s) {
        size_t got = fread(s + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
        if (cap - len - 1 == 0) {
            char *t = realloc(s, cap * 2);
            if (!t) {
                free(s);
                s = NULL;
                break;
            }
            s = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (s)
        s[len] = '\0';
    return s;
}

long long tt_counter(const char *text, const char *key)
{
    long long v = -1;
    size_t kl = strlen(key);
    for (const char *p = text; (p = strstr(p, key)) != NULL; p += kl)
        if (p[kl] == '=')
            v = strtoll(p + kl + 1, NULL, 10);
    return v;
}

void *tt_dealer(void *ctx, const char *ep)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    if (!s)
        return NULL;
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(s, ep) != 0) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

int tt_send_buf(void *sock, const proto_buf_t *b)
{
    return zmq_send(sock, b->data, b->len, 0) == (int)b->len ? 0 : -1;
}

int tt_send_query(void *sock, proto_buf_t *b, uint64_t req_id, float T, uint32_t n, uint32_t D,
                  const float *obs)
{
    proto_query_t q = {.req_id = req_id, .temperature = T, .n = n, .obs_dim = D, .obs = obs};
    if (proto_encode_query(b, &q) != 0)
        return -1;
    return tt_send_buf(sock, b);
}

int tt_send_status(void *sock, proto_buf_t *b, int type, uint32_t id)
{
    proto_status_t m;
    memset(&m, 0, sizeof m);
    m.type = type;
    strcpy(m.role, "learner");
    m.id = id;
    strcpy(m.host, "localhost");
    m.pid = getpid();
    m.obs_dim = 4;
    m.n_actions = 2;
    if (proto_encode_status(b, &m) != 0)
        return -1;
    return tt_send_buf(sock, b);
}

long tt_recv(void *sock, int timeout_ms, uint8_t **data)
{
    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return -1;
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0) {
        zmq_msg_close(&m);
        return -1;
    }
    size_t len = zmq_msg_size(&m);
    *data = malloc(len ? len : 1);
    if (*data)
        memcpy(*data, zmq_msg_data(&m), len);
    zmq_msg_close(&m);
    return *data ? (long)len : -1;
}
