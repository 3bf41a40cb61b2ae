/* test_teacher_bad.c — hostile input and faults for kdqn-teacher (label fault).
 *
 * While a good client's pipelined traffic flows (a thread), a second client
 * sends garbage, an empty frame, a truncated query, a wrong version, NaN
 * states, a wrong obs_dim, a huge declared count (dd ff 00 00 00), an
 * unknown type, a message the teacher does not read, a multipart message;
 * each must get an error reply with the right code (and request id where one
 * is readable). A third client sends a frame over ZMQ_MAXMSGSIZE (connection
 * dropped, no reply possible). The good client must be fully answered, the
 * process alive, and the final counters must show the rejections. Then:
 * SIGTERM ends it with status 0 within 2 s; bad checkpoints (missing,
 * truncated, corrupt, wrong version) and bad flags give status 2 with a
 * message naming the problem.
 *
 *   test_teacher_bad PATH/TO/kdqn-teacher */
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "proto.h"
#include "rng.h"
#include "test_teacher_util.h"

#define D 4
#define GOOD_REQUESTS 400
#define ANY_ID UINT64_MAX   /* the id may or may not be readable */

static char ep[256];
static void *ctx;

/* ---- the good client ---------------------------------------------------- */

typedef struct {
    int answered, wrong;
} good_result_t;

static void *good_client(void *arg)
{
    good_result_t *res = arg;
    void *s = tt_dealer(ctx, ep);
    proto_buf_t b;
    proto_buf_init(&b);
    static float obs[128 * D];
    for (int i = 0; i < 128 * D; i++)
        obs[i] = (float)(i % 7) * 0.1f - 0.3f;
    uint64_t next = 1, expect = 1;
    int inflight = 0;
    while (expect <= GOOD_REQUESTS) {
        while (inflight < 4 && next <= GOOD_REQUESTS) {
            tt_send_query(s, &b, next++, 1.0f, 128, D, obs);
            inflight++;
        }
        uint8_t *f = NULL;
        long len = tt_recv(s, 5000, &f);
        if (len < 0)
            break;
        proto_reply_t r;
        if (proto_decode_reply(f, (size_t)len, &r) == 0 && r.req_id == expect && r.n == 128)
            res->answered++;
        else
            res->wrong++;
        free(f);
        expect++;
        inflight--;
    }
    proto_buf_free(&b);
    zmq_close(s);
    return NULL;
}

/* ---- bad messages ------------------------------------------------------- */

/* Replaces the first occurrence of pat (plen bytes) in buf with rep (same length). */
static int patch(uint8_t *buf, size_t len, const void *pat, const void *rep, size_t plen)
{
    for (size_t i = 0; i + plen <= len; i++)
        if (memcmp(buf + i, pat, plen) == 0) {
            memcpy(buf + i, rep, plen);
            return 0;
        }
    return -1;
}

/* Sends frames (nf of them) and expects an error with code want_code (0 = any
 * negative code) and request id want_id (ANY_ID: any). */
static void expect_error(void *s, const char *what, const void *const *frames, const size_t *lens, int nf,
                         int want_code, uint64_t want_id)
{
    for (int i = 0; i < nf; i++)
        zmq_send(s, frames[i], lens[i], i + 1 < nf ? ZMQ_SNDMORE : 0);
    uint8_t *f = NULL;
    long len = tt_recv(s, 5000, &f);
    if (!TT_CHECK(len > 0, "%s: no reply", what))
        return;
    proto_error_t e;
    int rc = proto_decode_error(f, (size_t)len, &e);
    if (TT_CHECK(rc == 0, "%s: reply is not an error (%s)", what, proto_strerror(rc))) {
        TT_CHECK(e.code < 0 && (want_code == 0 || e.code == want_code), "%s: code %d (%s), want %d", what,
                 (int)e.code, proto_strerror(e.code), want_code);
        TT_CHECK(want_id == ANY_ID || e.req_id == want_id, "%s: req_id %llu, want %llu", what, (unsigned long long)e.req_id,
                 (unsigned long long)want_id);
        printf("  %-28s -> error %d (%s) req_id %llu: %s\n", what, (int)e.code, proto_strerror(e.code),
               (unsigned long long)e.req_id, e.text);
    }
    free(f);
}

static void expect_error1(void *s, const char *what, const void *frame, size_t len, int want_code,
                          uint64_t want_id)
{
    expect_error(s, what, &frame, &len, 1, want_code, want_id);
}

static int send_bad_messages(void)
{
    void *s = tt_dealer(ctx, ep);
    proto_buf_t b;
    proto_buf_init(&b);
    float obs[8 * D];
    for (int i = 0; i < 8 * D; i++)
        obs[i] = 0.25f;
    int n_bad = 0;

    static const uint8_t garbage[] = {0x01, 0x02, 'g', 'a', 'r', 'b', 'a', 'g', 'e', 0xc1};
    expect_error1(s, "garbage bytes", garbage, sizeof garbage, 0, 0), n_bad++;
    expect_error1(s, "empty frame", "", 0, PROTO_EEMPTY, 0), n_bad++;

    proto_query_t q = {.req_id = 31, .temperature = 1.0f, .n = 8, .obs_dim = D, .obs = obs};
    proto_encode_query(&b, &q);
    expect_error1(s, "truncated query", b.data, b.len / 2, 0, ANY_ID), n_bad++;

    q.req_id = 32;
    proto_encode_query(&b, &q);
    static const uint8_t v1[] = {0xa1, 'v', 0x01}, v2[] = {0xa1, 'v', 0x02};
    TT_CHECK(patch(b.data, b.len, v1, v2, 3) == 0, "version field not found");
    expect_error1(s, "wrong version", b.data, b.len, PROTO_EVERSION, 32), n_bad++;

    q.req_id = 33;
    obs[5] = 1234.5f;
    proto_encode_query(&b, &q);
    obs[5] = 0.25f;
    float marker = 1234.5f, nan = __builtin_nanf("");
    TT_CHECK(patch(b.data, b.len, &marker, &nan, 4) == 0, "marker float not found");
    expect_error1(s, "NaN in obs", b.data, b.len, PROTO_ENONFINITE, 33), n_bad++;

    proto_query_t q3 = {.req_id = 34, .temperature = 1.0f, .n = 8, .obs_dim = 3, .obs = obs};
    proto_encode_query(&b, &q3);
    expect_error1(s, "obs_dim 3 for a 4-input net", b.data, b.len, PROTO_ESHAPE, 34), n_bad++;

    static const uint8_t huge[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
    expect_error1(s, "huge declared count", huge, sizeof huge, 0, 0), n_bad++;

    q.req_id = 35;
    proto_encode_query(&b, &q);
    TT_CHECK(patch(b.data, b.len, "\xa5query", "\xa5qzery", 6) == 0, "type field not found");
    expect_error1(s, "unknown type", b.data, b.len, PROTO_EMSGTYPE, 35), n_bad++;

    float qv[2] = {1, 2}, pv[2] = {0.5f, 0.5f};
    proto_reply_t r = {.req_id = 36, .n = 1, .n_actions = 2, .q = qv, .probs = pv};
    proto_encode_reply(&b, &r);
    expect_error1(s, "reply sent to the teacher", b.data, b.len, PROTO_EWRONGMSG, 36), n_bad++;

    q.req_id = 37;
    proto_encode_query(&b, &q);
    const void *frames[2] = {b.data, b.data};
    size_t lens[2] = {b.len, b.len};
    expect_error(s, "multipart (2 frames)", frames, lens, 2, PROTO_ETRAILING, 37), n_bad++;
    const void *frames3[2] = {"", b.data};
    size_t lens3[2] = {0, b.len};
    expect_error(s, "REQ-style empty delimiter", frames3, lens3, 2, PROTO_ETRAILING, 0), n_bad++;

    proto_query_t qt = {.req_id = 38, .temperature = 1.0f, .n = 8, .obs_dim = D, .obs = obs};
    proto_encode_query(&b, &qt);
    static const uint8_t t1[] = {0xa1, 'T', 0xca, 0x3f, 0x80, 0x00, 0x00};   /* "T": 1.0f */
    static const uint8_t t0[] = {0xa1, 'T', 0xca, 0xbf, 0x80, 0x00, 0x00};   /* "T": -1.0f */
    TT_CHECK(patch(b.data, b.len, t1, t0, sizeof t1) == 0, "temperature field not found");
    expect_error1(s, "negative temperature", b.data, b.len, PROTO_ERANGE, 38), n_bad++;

    /* after all that, the same client is still served */
    q.req_id = 40;
    proto_encode_query(&b, &q);
    tt_send_buf(s, &b);
    uint8_t *f = NULL;
    long len = tt_recv(s, 5000, &f);
    proto_reply_t ok;
    TT_CHECK(len > 0 && proto_decode_reply(f, (size_t)len, &ok) == 0 && ok.req_id == 40,
             "a valid query after the bad ones was not answered");
    free(f);

    /* a frame above ZMQ_MAXMSGSIZE: ZeroMQ drops the connection, nothing to answer */
    void *big = tt_dealer(ctx, ep);
    size_t big_len = 8u << 20;
    uint8_t *blob = calloc(1, big_len);
    zmq_send(big, blob, big_len, 0);
    free(blob);
    f = NULL;
    TT_CHECK(tt_recv(big, 300, &f) < 0, "oversized frame got a reply");
    free(f);
    zmq_close(big);

    proto_buf_free(&b);
    zmq_close(s);
    return n_bad;
}

/* ---- process-level faults ----------------------------------------------- */

/* Runs the teacher with argv (NULL-terminated after argv[0]); returns its exit
 * status (or -1) and the log text in *log (malloc'ed). */
static int run_to_exit(char *const argv[], const char *logpath, char **log)
{
    pid_t pid = tt_spawn(argv, logpath);
    int status = 0;
    if (tt_wait(pid, 10.0, &status) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        *log = tt_slurp(logpath);
        return -1;
    }
    *log = tt_slurp(logpath);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int copy_prefix(const char *from, const char *to, long keep, long flip_at)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    if (!in || !out) {
        if (in) fclose(in);
        if (out) fclose(out);
        return -1;
    }
    int c;
    long i = 0;
    while ((c = fgetc(in)) != EOF && (keep < 0 || i < keep)) {
        fputc(i == flip_at ? c ^ 0x5a : c, out);
        i++;
    }
    fclose(in);
    fclose(out);
    return 0;
}

static void bad_checkpoints(const char *exe, const char *dir, const char *good)
{
    char path[256], logpath[256];
    snprintf(logpath, sizeof logpath, "%s/bad.log", dir);
    struct {
        const char *name;
        long keep, flip;
        const char *expect;
    } cases[] = {
        {"missing.ckpt", -2, -1, "missing.ckpt"},
        {"truncated.ckpt", 100, -1, "truncated.ckpt"},
        {"corrupt.ckpt", -1, 400, "corrupt.ckpt"},
        {"version.ckpt", -1, 8, "version.ckpt"},   /* the byte after the 8-byte magic */
        {"magic.ckpt", -1, 0, "magic.ckpt"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cases[i].name);
        if (cases[i].keep != -2)
            copy_prefix(good, path, cases[i].keep, cases[i].flip);
        char *argv[] = {(char *)exe, "--checkpoint", path, "--no-mpi", "--bind", "tcp://127.0.0.1:*", NULL};
        char *log = NULL;
        int st = run_to_exit(argv, logpath, &log);
        TT_CHECK(st == 2, "%s: exit status %d, want 2", cases[i].name, st);
        TT_CHECK(log && strstr(log, cases[i].expect), "%s: message does not name the file: %s",
                 cases[i].name, log ? log : "");
        printf("  %-16s -> exit %d: %s", cases[i].name, st, log ? log : "\n");
        free(log);
        unlink(path);
    }
    unlink(logpath);
}

static void bad_flags(const char *exe, const char *dir, const char *good)
{
    char logpath[256];
    snprintf(logpath, sizeof logpath, "%s/flags.log", dir);
    char *e = (char *)exe, *g = (char *)good;
    char *const cases[][8] = {
        {e, NULL},
        {e, "--checkpoint", g, "--frobnicate", NULL},
        {e, "--checkpoint", g, "--stats-interval", "soon", NULL},
        {e, "--checkpoint", g, "--max-batch-states", "0", NULL},
        {e, "--checkpoint", g, "--bind", "tcp://*:5555", NULL},
        {e, "--checkpoint", g, "--bind", "tcp://0.0.0.0:5555", NULL},
        {e, "--checkpoint", g, "--bind", "udp://127.0.0.1:5555", NULL},
        {e, "--checkpoint", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *log = NULL;
        int st = run_to_exit(cases[i], logpath, &log);
        TT_CHECK(st == 2, "flags case %zu: exit %d, want 2", i, st);
        TT_CHECK(log && strstr(log, "kdqn-teacher"), "flags case %zu: no message", i);
        free(log);
    }
    char *help[] = {e, "--help", NULL};
    char *log = NULL;
    TT_CHECK(run_to_exit(help, logpath, &log) == 0, "--help exit status");
    TT_CHECK(log && strstr(log, "--max-seconds") && strstr(log, "--allow-all-interfaces"), "--help text");
    free(log);
    char *ver[] = {e, "--version", NULL};
    TT_CHECK(run_to_exit(ver, logpath, &log) == 0 && log && strstr(log, "kdqn-teacher"), "--version");
    free(log);
    unlink(logpath);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_teacher_bad PATH/TO/kdqn-teacher\n");
        return 2;
    }
    char dir[] = "/tmp/kdqn-test-teacher-bad-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char ckpath[256], epfile[256], logpath[256];
    snprintf(ckpath, sizeof ckpath, "%s/teacher.ckpt", dir);
    snprintf(epfile, sizeof epfile, "%s/endpoint", dir);
    snprintf(logpath, sizeof logpath, "%s/teacher.log", dir);
    mlp_arch_t arch;
    float *params;
    if (tt_make_ckpt(ckpath, "4-32-32-2", 5, &arch, &params) != 0)
        return 1;
    free(params);

    char *targv[] = {argv[1], "--checkpoint", ckpath, "--bind", "tcp://127.0.0.1:*", "--endpoint-file",
                     epfile, "--no-mpi", NULL};
    pid_t pid = tt_spawn(targv, logpath);
    if (!TT_CHECK(tt_read_endpoint(epfile, 10.0, ep, sizeof ep) == 0, "teacher did not start")) {
        kill(pid, SIGKILL);
        return 1;
    }
    ctx = zmq_ctx_new();

    printf("bad messages while a good client runs:\n");
    good_result_t good = {0, 0};
    pthread_t th;
    pthread_create(&th, NULL, good_client, &good);
    int n_bad = send_bad_messages();
    pthread_join(th, NULL);
    TT_CHECK(good.answered == GOOD_REQUESTS && good.wrong == 0, "good client: %d answered, %d wrong of %d",
             good.answered, good.wrong, GOOD_REQUESTS);
    printf("good client: %d/%d answered in order\n", good.answered, GOOD_REQUESTS);
    int status = 0;
    TT_CHECK(waitpid(pid, &status, WNOHANG) == 0, "teacher died");

    double t0 = tt_now();
    kill(pid, SIGTERM);
    int exited = tt_wait(pid, 2.0, &status);
    TT_CHECK(exited == 1, "still running 2 s after SIGTERM");
    if (exited != 1)
        kill(pid, SIGKILL), waitpid(pid, &status, 0);
    TT_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d after SIGTERM", status);
    printf("SIGTERM: exited in %.3f s with status %d\n", tt_now() - t0, WEXITSTATUS(status));
    char *log = tt_slurp(logpath);
    long long rejected = log ? tt_counter(log, "rejected") : -1;
    TT_CHECK(rejected == n_bad, "final rejected=%lld, want %d", rejected, n_bad);
    TT_CHECK(log && tt_counter(log, "requests") == GOOD_REQUESTS + 1, "final requests=%lld",
             log ? tt_counter(log, "requests") : -1);
    printf("final counters: rejected=%lld requests=%lld\n", rejected, log ? tt_counter(log, "requests") : -1);
    if (tt_failures && log)
        fprintf(stderr, "---- teacher log ----\n%s", log);
    free(log);

    printf("bad checkpoints:\n");
    bad_checkpoints(argv[1], dir, ckpath);
    printf("bad flags\n");
    bad_flags(argv[1], dir, ckpath);

    zmq_ctx_term(ctx);
    unlink(ckpath);
    unlink(epfile);
    unlink(logpath);
    rmdir(dir);
    printf(tt_failures ? "test_teacher_bad: %d FAILED\n" : "test_teacher_bad: ok\n", tt_failures);
    return tt_failures ? 1 : 0;
}
