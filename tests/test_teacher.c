/* test_teacher.c — kdqn-teacher end to end (label integration).
 *
 * Starts the real executable standalone on an ephemeral port with a random
 * 4-32-32-2 checkpoint, then: 20 pipelined queries at several temperatures
 * and sizes (q must equal mlp_infer of the same parameters, probs must equal
 * softmax(q / T), request ids must match), an info request (arch, dims,
 * CRC-32C of the parameters, counters), two concurrent clients, and a
 * SIGTERM that must end the process with status 0 and its final counters.
 *
 *   test_teacher PATH/TO/kdqn-teacher */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "ckpt.h"
#include "loss.h"
#include "mlp.h"
#include "proto.h"
#include "rng.h"
#include "test_teacher_util.h"

#define D 4
#define A 2
#define MAX_N 300

static mlp_arch_t arch;
static float *params;

/* Checks one reply frame against the reference for the query (obs (n, D), T). */
static void check_reply(const uint8_t *f, long len, uint64_t want_id, uint32_t n, const float *obs, float T)
{
    proto_reply_t r;
    int rc = proto_decode_reply(f, (size_t)len, &r);
    if (!TT_CHECK(rc == 0, "decode reply: %s (type %s)", proto_strerror(rc),
                  proto_type_name(proto_peek_type(f, (size_t)len))))
        return;
    TT_CHECK(r.req_id == want_id, "req_id %llu, want %llu", (unsigned long long)r.req_id,
             (unsigned long long)want_id);
    if (!TT_CHECK(r.n == n && r.n_actions == A, "shape %u x %u", (unsigned)r.n, (unsigned)r.n_actions))
        return;
    static float q_ref[MAX_N * A], q[MAX_N * A], p[MAX_N * A], p_ref[MAX_N * A];
    float *scratch = malloc(mlp_infer_scratch(&arch, (int)n) * sizeof(float));
    mlp_infer(&arch, params, obs, (int)n, q_ref, scratch);
    free(scratch);
    proto_copy_f32(q, r.q, (size_t)n * A);
    proto_copy_f32(p, r.probs, (size_t)n * A);
    loss_softmax(q, (int)n, A, T, p_ref);
    double max_dq = 0, max_dp = 0;
    for (size_t i = 0; i < (size_t)n * A; i++) {
        double dq = fabs((double)q[i] - q_ref[i]) / (1.0 + fabs(q_ref[i]));
        double dp = fabs((double)p[i] - p_ref[i]);
        if (dq > max_dq) max_dq = dq;
        if (dp > max_dp) max_dp = dp;
    }
    TT_CHECK(max_dq <= 1e-6, "req %llu: q differs from mlp_infer by %g", (unsigned long long)want_id, max_dq);
    TT_CHECK(max_dp <= 1e-6, "req %llu (T=%g): probs differ from softmax(q/T) by %g",
             (unsigned long long)want_id, T, max_dp);
}

typedef struct {
    uint64_t id;
    uint32_t n;
    float T;
    float *obs;
    int answered;
} sent_t;

/* Sends count queries pipelined on sock (ids from first_id), then reads all
 * replies and checks them. Returns the number answered. */
static int pipelined(void *sock, proto_buf_t *b, rng_t *rng, uint64_t first_id, int count, sent_t *sent)
{
    static const float temps[] = {0.01f, 0.1f, 0.5f, 1.0f, 2.0f, 10.0f};
    for (int k = 0; k < count; k++) {
        sent_t *s = &sent[k];
        s->id = first_id + (uint64_t)k;
        s->n = 1 + rng_below(rng, MAX_N);
        s->T = temps[k % 6];
        s->obs = malloc((size_t)s->n * D * sizeof(float));
        for (size_t i = 0; i < (size_t)s->n * D; i++)
            s->obs[i] = 4.0f * (rng_uniformf(rng) - 0.5f);
        s->answered = 0;
        TT_CHECK(tt_send_query(sock, b, s->id, s->T, s->n, D, s->obs) == 0, "send query %d", k);
    }
    int answered = 0;
    for (int k = 0; k < count; k++) {
        uint8_t *f = NULL;
        long len = tt_recv(sock, 5000, &f);
        if (!TT_CHECK(len > 0, "reply %d of %d did not arrive", k, count))
            break;
        proto_reply_t r;
        int match = -1;
        if (proto_decode_reply(f, (size_t)len, &r) == 0)
            for (int j = 0; j < count; j++)
                if (sent[j].id == r.req_id && !sent[j].answered)
                    match = j;
        if (TT_CHECK(match >= 0, "reply with unknown or repeated id")) {
            check_reply(f, len, sent[match].id, sent[match].n, sent[match].obs, sent[match].T);
            sent[match].answered = 1;
            answered++;
        }
        free(f);
    }
    for (int k = 0; k < count; k++)
        free(sent[k].obs);
    return answered;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_teacher PATH/TO/kdqn-teacher\n");
        return 2;
    }
    char dir[] = "/tmp/kdqn-test-teacher-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char ckpath[256], epfile[256], logpath[256];
    snprintf(ckpath, sizeof ckpath, "%s/teacher.ckpt", dir);
    snprintf(epfile, sizeof epfile, "%s/endpoint", dir);
    snprintf(logpath, sizeof logpath, "%s/teacher.log", dir);
    if (tt_make_ckpt(ckpath, "4-32-32-2", 42, &arch, &params) != 0) {
        fprintf(stderr, "cannot write checkpoint\n");
        return 1;
    }
    char *targv[] = {argv[1], "--checkpoint", ckpath, "--bind", "tcp://127.0.0.1:*", "--endpoint-file",
                     epfile, "--no-mpi", "--stats-interval", "1", NULL};
    pid_t pid = tt_spawn(targv, logpath);
    char ep[256];
    if (!TT_CHECK(pid > 0 && tt_read_endpoint(epfile, 10.0, ep, sizeof ep) == 0, "teacher did not start")) {
        if (pid > 0) kill(pid, SIGKILL);
        char *log = tt_slurp(logpath);
        fprintf(stderr, "%s", log ? log : "");
        return 1;
    }
    printf("teacher at %s\n", ep);

    void *ctx = zmq_ctx_new();
    void *c1 = tt_dealer(ctx, ep), *c2 = tt_dealer(ctx, ep);
    proto_buf_t b1, b2;
    proto_buf_init(&b1);
    proto_buf_init(&b2);
    rng_t rng;
    rng_seed(&rng, 7);
    TT_CHECK(tt_send_status(c1, &b1, PROTO_T_HELLO, 0) == 0, "hello");

    /* 1. twenty pipelined queries, sent before any reply is read */
    sent_t sent[40];
    int got = pipelined(c1, &b1, &rng, 1000, 20, sent);
    TT_CHECK(got == 20, "pipelined: %d of 20 answered", got);
    printf("pipelined: %d/20 answered and checked\n", got);

    /* 2. info */
    proto_info_req_t ir = {.req_id = 77};
    proto_encode_info_req(&b1, &ir);
    tt_send_buf(c1, &b1);
    uint8_t *f = NULL;
    long len = tt_recv(c1, 5000, &f);
    proto_info_t info;
    if (TT_CHECK(len > 0 && proto_decode_info(f, (size_t)len, &info) == 0, "info reply")) {
        uint32_t crc = ckpt_crc32c(0, params, arch.n_params * sizeof(float));
        TT_CHECK(info.req_id == 77, "info req_id %llu", (unsigned long long)info.req_id);
        TT_CHECK(!strcmp(info.arch, "4-32-32-2"), "info arch %s", info.arch);
        TT_CHECK(info.obs_dim == D && info.n_actions == A, "info dims %u %u", (unsigned)info.obs_dim,
                 (unsigned)info.n_actions);
        TT_CHECK(info.model_crc == crc, "info crc %08x, want %08x", (unsigned)info.model_crc, (unsigned)crc);
        TT_CHECK(info.served_requests == 20, "served_requests %llu", (unsigned long long)info.served_requests);
        printf("info: arch %s crc %08x served %llu requests, %llu states\n", info.arch,
               (unsigned)info.model_crc, (unsigned long long)info.served_requests,
               (unsigned long long)info.served_states);
    }
    free(f);

    /* 3. two concurrent clients: both send before either reads */
    TT_CHECK(tt_send_status(c2, &b2, PROTO_T_HELLO, 1) == 0, "hello 2");
    const float T = 0.5f;
    static float obs1[64 * D], obs2[64 * D];
    for (int i = 0; i < 64 * D; i++) {
        obs1[i] = rng_uniformf(&rng) - 0.5f;
        obs2[i] = rng_uniformf(&rng) - 0.5f;
    }
    for (int k = 0; k < 10; k++) {
        tt_send_query(c1, &b1, 5000 + k, T, 64, D, obs1);
        tt_send_query(c2, &b2, 9000 + k, T, 64, D, obs2);
    }
    int got1 = 0, got2 = 0;
    for (int k = 0; k < 10; k++) {
        f = NULL;
        if ((len = tt_recv(c1, 5000, &f)) > 0) {
            check_reply(f, len, 5000 + k, 64, obs1, T);
            got1++;
        }
        free(f);
        f = NULL;
        if ((len = tt_recv(c2, 5000, &f)) > 0) {
            check_reply(f, len, 9000 + k, 64, obs2, T);
            got2++;
        }
        free(f);
    }
    TT_CHECK(got1 == 10 && got2 == 10, "concurrent: %d and %d of 10 answered", got1, got2);
    printf("concurrent clients: %d/10 and %d/10 answered\n", got1, got2);
    tt_send_status(c1, &b1, PROTO_T_GOODBYE, 0);
    tt_send_status(c2, &b2, PROTO_T_GOODBYE, 1);
    usleep(200000);

    /* 4. SIGTERM: exit 0 within 2 s, final counters in the log */
    double t0 = tt_now();
    kill(pid, SIGTERM);
    int status = 0;
    int exited = tt_wait(pid, 2.0, &status);
    TT_CHECK(exited == 1, "still running 2 s after SIGTERM");
    if (exited != 1)
        kill(pid, SIGKILL), waitpid(pid, &status, 0);
    TT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
    printf("SIGTERM: exited in %.3f s\n", tt_now() - t0);
    char *log = tt_slurp(logpath);
    if (TT_CHECK(log != NULL, "no log")) {
        TT_CHECK(tt_counter(log, "requests") == 40, "final requests=%lld", tt_counter(log, "requests"));
        TT_CHECK(tt_counter(log, "rejected") == 0, "final rejected=%lld", tt_counter(log, "rejected"));
        TT_CHECK(tt_counter(log, "clients_seen") == 2, "final clients_seen=%lld",
                 tt_counter(log, "clients_seen"));
        TT_CHECK(tt_counter(log, "goodbyes") == 2, "final goodbyes=%lld", tt_counter(log, "goodbyes"));
        if (tt_failures)
            fprintf(stderr, "---- teacher log ----\n%s", log);
    }
    free(log);

    zmq_close(c1);
    zmq_close(c2);
    zmq_ctx_term(ctx);
    proto_buf_free(&b1);
    proto_buf_free(&b2);
    free(params);
    unlink(ckpath);
    unlink(epfile);
    unlink(logpath);
    rmdir(dir);
    printf(tt_failures ? "test_teacher: %d FAILED\n" : "test_teacher: ok\n", tt_failures);
    return tt_failures ? 1 : 0;
}
