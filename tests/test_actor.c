/* test_actor — the real kdqn-actor process against a fake learner with real sockets.
 *
 *   test_actor PATH/kdqn-actor CASE
 *     main     hello, batches (seq from 1, shapes, discounts, episodes), weights
 *              taken (policy version and greedy actions), stop -> goodbye, exit 0 < 2 s
 *     silent   the learner stops talking -> exit 3 within learner-timeout + 2 s
 *     garbage  garbage, bad-CRC and wrong-architecture weights are dropped and
 *              counted; the actor keeps running and still takes good weights
 *     maxsteps --max-env-steps: all transitions sent, goodbye, exit 0
 *     usage    unknown flag, bad value, missing value -> exit 2; Ape-X epsilons
 *     mpi      run as the learner rank of
 *              mpirun -np 1 test_actor ACTOR mpi : -np 2 kdqn-actor ...
 *              (rendezvous, then both actors stream and stop on request)
 * Exits non-zero on any failure. */
#include "check.h"
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include <mpi.h>

#include "actor.h"
#include "mlp.h"
#include "proto.h"
#include "rendezvous.h"


static const char *actor_path;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- the fake learner --------------------------------------------------- */

typedef struct {
    void *ctx, *pull, *pub;
    char pull_ep[128], pub_ep[128];
    proto_buf_t buf;
    double next_hb;
    int heartbeats_on;
} fake_t;

static void bind_any(void *s, char *ep, size_t n)
{
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(s, "tcp://127.0.0.1:*")) {
        fprintf(stderr, "bind: %s\n", zmq_strerror(errno));
        exit(1);
    }
    size_t len = n;
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len);
}

static void fake_init(fake_t *f)
{
    memset(f, 0, sizeof *f);
    f->ctx = zmq_ctx_new();
    f->pull = zmq_socket(f->ctx, ZMQ_PULL);
    f->pub = zmq_socket(f->ctx, ZMQ_XPUB); /* XPUB: we can see the actor subscribe */
    bind_any(f->pull, f->pull_ep, sizeof f->pull_ep);
    bind_any(f->pub, f->pub_ep, sizeof f->pub_ep);
    proto_buf_init(&f->buf);
    f->heartbeats_on = 1;
}

static void fake_free(fake_t *f)
{
    zmq_close(f->pull);
    zmq_close(f->pub);
    zmq_ctx_term(f->ctx);
    proto_buf_free(&f->buf);
}

/* Waits until the actor's SUB has subscribed (PUB drops what is published
 * before that: the slow-joiner problem). Returns 0, or -1 on timeout. */
static int fake_wait_subscribed(fake_t *f, double timeout_s)
{
    double end = now_s() + timeout_s;
    while (now_s() < end) {
        zmq_pollitem_t it = {f->pub, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) > 0) {
            uint8_t frame[64];
            int n = zmq_recv(f->pub, frame, sizeof frame, 0);
            if (n >= 1 && frame[0] == 1)
                return 0;
        }
    }
    return -1;
}

static void fake_publish(fake_t *f) { zmq_send(f->pub, f->buf.data, f->buf.len, 0); }

static void fake_heartbeat(fake_t *f)
{
    proto_status_t s;
    memset(&s, 0, sizeof s);
    s.type = PROTO_T_HEARTBEAT;
    strcpy(s.role, "learner");
    strcpy(s.host, "test");
    s.pid = getpid();
    s.obs_dim = 4;
    s.n_actions = 2;
    if (proto_encode_status(&f->buf, &s) == 0)
        fake_publish(f);
}

static void fake_tick(fake_t *f)
{
    double t = now_s();
    if (f->heartbeats_on && t >= f->next_hb) {
        fake_heartbeat(f);
        f->next_hb = t + 0.2;
    }
}

/* A 4-16-2 net that always prefers action 1 (output bias 0, 1; all else 0). */
static void fake_weights(fake_t *f, const char *arch_s, uint64_t version)
{
    mlp_arch_t arch;
    if (mlp_arch_parse(&arch, arch_s)) {
        fprintf(stderr, "bad arch %s\n", arch_s);
        exit(1);
    }
    float *p = calloc(arch.n_params, sizeof(float));
    int L = arch.n_layers - 1;
    p[arch.b_off[L] + 1] = 1.0f; /* q = (0, 1) for every state */
    proto_weights_t w = {.version = version, .n_params = (uint32_t)arch.n_params, .params = p};
    snprintf(w.arch, sizeof w.arch, "%s", arch_s);
    int rc = proto_encode_weights(&f->buf, &w);
    CHECK(rc == 0, "encode weights: %s", proto_strerror(rc));
    free(p);
}

/* Next message on PULL within timeout_s (heartbeats go on meanwhile); its
 * type, or 0 on timeout. The frame is left in *msg (caller closes). */
static int fake_recv(fake_t *f, zmq_msg_t *msg, double timeout_s)
{
    double end = now_s() + timeout_s;
    while (now_s() < end) {
        fake_tick(f);
        zmq_pollitem_t it = {f->pull, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) > 0) {
            zmq_msg_init(msg);
            if (zmq_msg_recv(msg, f->pull, 0) < 0) {
                zmq_msg_close(msg);
                continue;
            }
            int t = proto_peek_type(zmq_msg_data(msg), zmq_msg_size(msg));
            CHECK(t > 0, "actor sent an undecodable frame: %s", proto_strerror(t));
            return t > 0 ? t : -1;
        }
    }
    return 0;
}

/* ---- the actor process --------------------------------------------------- */

static pid_t spawn_actor(const char *const *extra, const char *stderr_file)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = actor_path;
    for (int i = 0; extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        if (stderr_file) {
            FILE *e = freopen(stderr_file, "w", stderr);
            (void)e;
        }
        execv(actor_path, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Exit status of pid within timeout_s, or -1 (and the process is killed). */
static int wait_exit(pid_t pid, double timeout_s, double *took)
{
    double t0 = now_s();
    int st;
    while (now_s() - t0 < timeout_s) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            if (took)
                *took = now_s() - t0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(5000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

/* ---- checks on messages --------------------------------------------------- */

typedef struct {
    uint64_t next_seq;
    int batches, episodes, v_batches, v_actions_ok;
    uint64_t last_version, want_version;
    int heartbeats;
    uint64_t hb_steps;
    int goodbye;
} seen_t;

static void check_batch(const uint8_t *data, size_t len, seen_t *s, int send_batch)
{
    proto_batch_t b;
    int rc = proto_decode_batch(data, len, &b);
    CHECK(rc == 0, "batch does not decode: %s", proto_strerror(rc));
    if (rc)
        return;
    CHECK(b.seq == s->next_seq, "seq %llu, expected %llu", (unsigned long long)b.seq,
          (unsigned long long)s->next_seq);
    s->next_seq = b.seq + 1;
    CHECK(b.n >= 1 && b.n <= (uint32_t)send_batch, "n = %u > send-batch %d", b.n, send_batch);
    CHECK(b.obs_dim == 4 && b.n_actions == 2, "shape %u/%u", b.obs_dim, b.n_actions);
    CHECK(b.policy_version >= s->last_version, "policy version went back %llu -> %llu",
          (unsigned long long)s->last_version, (unsigned long long)b.policy_version);
    CHECK(b.policy_version <= s->want_version, "unexpected policy version %llu",
          (unsigned long long)b.policy_version);
    s->last_version = b.policy_version;
    int all_one = 1;
    for (uint32_t i = 0; i < b.n; i++) {
        int32_t a = proto_i32_at(b.actions, i);
        float d = proto_f32_at(b.discounts, i), r = proto_f32_at(b.rewards, i);
        CHECK(a == 0 || a == 1, "action %d", a);
        CHECK(d == 0.0f || (d > 0.0f && d <= 1.0f), "discount %g", d);
        CHECK(r >= 0.0f && r <= 3.0f, "3-step reward %g out of [0, 3]", r);
        for (int k = 0; k < 4; k++)
            CHECK(isfinite(proto_f32_at(b.obs, i * 4 + k)) && isfinite(proto_f32_at(b.next_obs, i * 4 + k)),
                  "non-finite obs");
        all_one &= a == 1;
    }
    for (uint32_t e = 0; e < b.n_episodes; e++) {
        float ret = proto_f32_at(b.ep_returns, e);
        int32_t len_e = proto_i32_at(b.ep_lengths, e);
        CHECK(len_e >= 1 && len_e <= 500, "episode length %d", len_e);
        CHECK(ret == (float)len_e, "CartPole return %g != length %d", ret, len_e);
    }
    s->episodes += (int)b.n_episodes;
    s->batches++;
    if (s->want_version && b.policy_version == s->want_version) {
        s->v_batches++;
        s->v_actions_ok += all_one;
        CHECK(all_one, "batch %llu acted by version %llu (eps 0) has a non-1 action",
              (unsigned long long)b.seq, (unsigned long long)b.policy_version);
    }
}

/* Handles one message of any type into s; returns its type (0: timeout). */
static int take(fake_t *f, seen_t *s, int send_batch, double timeout_s)
{
    zmq_msg_t m;
    int t = fake_recv(f, &m, timeout_s);
    if (t == 0)
        return 0;
    const uint8_t *d = zmq_msg_data(&m);
    size_t n = zmq_msg_size(&m);
    if (t == PROTO_T_BATCH) {
        check_batch(d, n, s, send_batch);
    } else if (t == PROTO_T_HEARTBEAT || t == PROTO_T_GOODBYE || t == PROTO_T_HELLO) {
        proto_status_t st;
        int rc = proto_decode_status(d, n, &st);
        CHECK(rc == 0, "status does not decode: %s", proto_strerror(rc));
        CHECK(rc || strcmp(st.role, "actor") == 0, "role %s", st.role);
        if (t == PROTO_T_HEARTBEAT) {
            s->heartbeats++;
            s->hb_steps = st.env_steps;
        }
        if (t == PROTO_T_GOODBYE)
            s->goodbye = 1;
        if (t == PROTO_T_HELLO)
            CHECK(0, "a second hello");
    } else if (t > 0) {
        CHECK(0, "unexpected %s from the actor", proto_type_name(t));
    }
    zmq_msg_close(&m);
    return t;
}

static int expect_hello(fake_t *f, int envs)
{
    zmq_msg_t m;
    int t = fake_recv(f, &m, 10.0);
    CHECK(t == PROTO_T_HELLO, "first message is %s, not hello", t > 0 ? proto_type_name(t) : "nothing");
    if (t == 0)
        return -1;
    proto_status_t st;
    int rc = proto_decode_status(zmq_msg_data(&m), zmq_msg_size(&m), &st);
    CHECK(rc == 0 && strcmp(st.role, "actor") == 0 && st.n_envs == (uint32_t)envs && st.obs_dim == 4 &&
              st.n_actions == 2 && st.seq == 0 && st.pid > 0,
          "hello fields (rc %d role %s n_envs %u)", rc, st.role, st.n_envs);
    zmq_msg_close(&m);
    return 0;
}

static void fake_stop(fake_t *f, const char *reason)
{
    proto_stop_t s;
    snprintf(s.reason, sizeof s.reason, "%s", reason);
    if (proto_encode_stop(&f->buf, &s) == 0)
        fake_publish(f);
}

/* Publishes a stop, then expects goodbye and exit 0 within 2 s. */
static void stop_and_check(fake_t *f, seen_t *s, pid_t pid, int send_batch)
{
    double t0 = now_s();
    fake_stop(f, "test");
    while (!s->goodbye && now_s() - t0 < 2.0)
        take(f, s, send_batch, 2.0 - (now_s() - t0));
    CHECK(s->goodbye, "no goodbye within 2 s of stop");
    double took = 0;
    int st = wait_exit(pid, 2.5 - (now_s() - t0), &took);
    CHECK(st == 0, "exit status %d after stop (want 0)", st);
    CHECK(now_s() - t0 <= 2.0 + 0.2, "exit took %.2f s after stop", now_s() - t0);
}

/* ---- cases ---------------------------------------------------------------- */

static void case_main(void)
{
    fake_t f;
    fake_init(&f);
    const char *args[] = {"--no-mpi", "--learner", f.pull_ep, "--weights", f.pub_ep, "--envs", "8",
                          "--send-batch", "64", "--eps-schedule", "0,0,1", "--stats-interval", "1",
                          "--seed", "7", "--heartbeat", "0.1", NULL};
    pid_t pid = spawn_actor(args, NULL);
    seen_t s = {.next_seq = 1};
    if (expect_hello(&f, 8) == 0) {
        double t0 = now_s();
        while ((s.batches < 10 || s.episodes < 3 || s.heartbeats < 1) && now_s() - t0 < 10.0)
            take(&f, &s, 64, 1.0);
        CHECK(s.batches >= 10 && s.episodes >= 3 && s.heartbeats >= 1,
              "random phase: %d batches, %d episodes, %d heartbeats", s.batches, s.episodes, s.heartbeats);
        CHECK(s.last_version == 0, "acting with version %llu before any weights",
              (unsigned long long)s.last_version);
        CHECK(fake_wait_subscribed(&f, 5.0) == 0, "actor never subscribed");
        /* weights that always pick action 1; republished until they show */
        s.want_version = 5;
        fake_weights(&f, "4-16-2", 5);
        proto_buf_t w = f.buf;
        proto_buf_init(&f.buf);
        t0 = now_s();
        double next_pub = 0;
        while (s.v_batches < 5 && now_s() - t0 < 10.0) {
            if (now_s() >= next_pub) {
                zmq_send(f.pub, w.data, w.len, 0);
                next_pub = now_s() + 0.5;
            }
            take(&f, &s, 64, 0.2);
        }
        proto_buf_free(&w);
        CHECK(s.v_batches >= 5, "only %d batches carried policy version 5", s.v_batches);
        CHECK(s.v_actions_ok == s.v_batches, "%d of %d version-5 batches not all action 1",
              s.v_batches - s.v_actions_ok, s.v_batches);
        CHECK(s.hb_steps > 0, "heartbeats report no env steps");
        stop_and_check(&f, &s, pid, 64);
        printf("main: %d batches, %d episodes, %d heartbeats, %d batches of version 5\n", s.batches,
               s.episodes, s.heartbeats, s.v_batches);
    } else {
        wait_exit(pid, 0.1, NULL);
    }
    fake_free(&f);
}

static void case_silent(void)
{
    fake_t f;
    fake_init(&f);
    const char *args[] = {"--no-mpi", "--learner", f.pull_ep, "--weights", f.pub_ep, "--envs", "4",
                          "--learner-timeout", "2", "--stats-interval", "0", NULL};
    pid_t pid = spawn_actor(args, NULL);
    seen_t s = {.next_seq = 1};
    if (expect_hello(&f, 4) == 0) {
        /* heartbeats alone for 3 s (longer than the timeout: they must keep it
         * alive), then silence (still draining so the actor never blocks) */
        double t0 = now_s();
        while (now_s() - t0 < 3.0)
            take(&f, &s, 256, 0.1);
        CHECK(waitpid(pid, NULL, WNOHANG) == 0, "actor exited although the learner sent heartbeats");
        f.heartbeats_on = 0;
        const double silent_from = now_s();
        int st = -1;
        double took = 0;
        while (now_s() - silent_from < 2.0 + 2.0) {
            take(&f, &s, 256, 0.05);
            int r = waitpid(pid, &st, WNOHANG);
            if (r == pid) {
                took = now_s() - silent_from;
                st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                break;
            }
            st = -1;
        }
        if (st == -1)
            st = wait_exit(pid, 0.01, NULL);
        CHECK(st == 3, "exit status %d when the learner went silent (want 3)", st);
        CHECK(st != 3 || (took >= 1.5 && took <= 4.0), "exited %.2f s after the learner went silent (timeout 2)",
              took);
        printf("silent: exit %d %.2f s after the learner went silent (timeout 2 s)\n", st, took);
    } else {
        wait_exit(pid, 0.1, NULL);
    }
    fake_free(&f);
}

static void case_garbage(void)
{
    fake_t f;
    fake_init(&f);
    char errfile[] = "/tmp/test_actor_garbage_XXXXXX";
    int fd = mkstemp(errfile);
    if (fd >= 0)
        close(fd);
    const char *args[] = {"--no-mpi", "--learner", f.pull_ep, "--weights", f.pub_ep, "--envs", "8",
                          "--send-batch", "32", "--eps-schedule", "0,0,1", "--stats-interval", "0", NULL};
    pid_t pid = spawn_actor(args, errfile);
    seen_t s = {.next_seq = 1, .want_version = 9};
    if (expect_hello(&f, 8) == 0) {
        double t0 = now_s();
        while (s.batches < 2 && now_s() - t0 < 5.0)
            take(&f, &s, 32, 0.2);
        CHECK(fake_wait_subscribed(&f, 5.0) == 0, "actor never subscribed");
        /* hostile messages: raw garbage, msgpack-looking garbage, an empty frame */
        static const uint8_t junk1[] = {0xde, 0xad, 0xbe, 0xef};
        static const uint8_t junk2[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
        zmq_send(f.pub, junk1, sizeof junk1, 0);
        zmq_send(f.pub, junk2, sizeof junk2, 0);
        zmq_send(f.pub, "", 0, 0);
        /* a weights message whose params were changed after the CRC was computed */
        fake_weights(&f, "4-16-2", 7);
        int flipped = 0;
        for (size_t i = 0; i + 4 <= f.buf.len && !flipped; i++) {
            static const uint8_t one_le[4] = {0x00, 0x00, 0x80, 0x3f}; /* 1.0f, the output bias */
            if (memcmp(f.buf.data + i, one_le, 4) == 0) {
                f.buf.data[i + 3] = 0x40; /* 1.0f -> 2.0f */
                flipped = 1;
            }
        }
        CHECK(flipped, "could not find a parameter to corrupt");
        fake_publish(&f);
        /* valid CRC but a network for another problem (3 inputs, 2 actions) */
        fake_weights(&f, "3-16-2", 8);
        fake_publish(&f);
        /* the actor keeps running and still acts at random (version 0) */
        t0 = now_s();
        int before = s.batches;
        while ((s.batches < before + 5 || now_s() - t0 < 1.0) && now_s() - t0 < 5.0)
            take(&f, &s, 32, 0.2);
        CHECK(s.batches >= before + 5, "actor stopped sending after bad weights");
        CHECK(s.last_version == 0, "bad weights were taken (version %llu)", (unsigned long long)s.last_version);
        CHECK(waitpid(pid, NULL, WNOHANG) == 0, "actor died after bad weights");
        /* good weights still work */
        fake_weights(&f, "4-16-2", 9);
        t0 = now_s();
        double next_pub = 0;
        while (s.v_batches < 3 && now_s() - t0 < 5.0) {
            if (now_s() >= next_pub) {
                fake_publish(&f);
                next_pub = now_s() + 0.5;
            }
            take(&f, &s, 32, 0.2);
        }
        CHECK(s.v_batches >= 3, "good weights not taken after bad ones");
        /* a new architecture mid-run: the actor regrows its buffers */
        s.want_version = 10;
        s.v_batches = s.v_actions_ok = 0;
        fake_weights(&f, "4-32-32-2", 10);
        t0 = now_s();
        next_pub = 0;
        while (s.v_batches < 3 && now_s() - t0 < 5.0) {
            if (now_s() >= next_pub) {
                fake_publish(&f);
                next_pub = now_s() + 0.5;
            }
            take(&f, &s, 32, 0.2);
        }
        CHECK(s.v_batches >= 3 && s.v_actions_ok == s.v_batches, "4-32-32-2 weights: %d batches, %d all-1",
              s.v_batches, s.v_actions_ok);
        stop_and_check(&f, &s, pid, 32);
        /* the drop counter: the actor reports it on exit */
        FILE *e = fopen(errfile, "r");
        char line[1024];
        int counted = 0;
        while (e && fgets(line, sizeof line, e)) {
            unsigned long long nw = 0, nm = 0;
            const char *p = strstr(line, "dropped ");
            if (p && sscanf(p, "dropped %llu bad weights and %llu other", &nw, &nm) == 2) {
                counted = 1;
                CHECK(nw >= 2 && nm >= 3, "drop counters %llu weights / %llu other, want >= 2 / >= 3", nw, nm);
                printf("garbage: actor counted %llu bad weights, %llu other bad messages\n", nw, nm);
            }
        }
        if (e)
            fclose(e);
        CHECK(counted, "actor did not report its drop counters (stderr in %s)", errfile);
        if (!failures)
            unlink(errfile);
    } else {
        wait_exit(pid, 0.1, NULL);
    }
    fake_free(&f);
}

static void case_usage(void)
{
    static const char *bad[][4] = {
        {"--no-such-flag", NULL},
        {"--envs", "zero", NULL},
        {"--envs", "0", NULL},
        {"--eps", "1.5", NULL},
        {"--eps-schedule", "1,0", NULL},
        {"--gamma", "nan", NULL},
        {"--learner", "not-an-endpoint", NULL},
        {"--actor-id", "3", "--num-actors", NULL},
        {"--envs", NULL},
        {"extra-argument", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[6] = {"--no-mpi"};
        for (int k = 0; k < 4 && bad[i][k]; k++)
            args[k + 1] = bad[i][k];
        pid_t pid = spawn_actor(args, "/dev/null");
        int st = wait_exit(pid, 5.0, NULL);
        CHECK(st == 2, "'%s %s' exited %d, want 2", bad[i][0], bad[i][1] ? bad[i][1] : "", st);
    }
    const char *idn[] = {"--no-mpi", "--actor-id", "3", "--num-actors", "2", NULL};
    int st = wait_exit(spawn_actor(idn, "/dev/null"), 5.0, NULL);
    CHECK(st == 2, "--actor-id 3 --num-actors 2 exited %d, want 2", st);
    const char *help[] = {"--help", NULL};
    st = wait_exit(spawn_actor(help, NULL), 5.0, NULL);
    CHECK(st == 0, "--help exited %d", st);
}

/* --max-env-steps: every transition goes out, goodbye, exit 0. */
static void case_maxsteps(void)
{
    fake_t f;
    fake_init(&f);
    const char *args[] = {"--no-mpi", "--learner", f.pull_ep, "--weights", f.pub_ep, "--envs", "16",
                          "--max-env-steps", "20000", "--send-batch", "100", "--stats-interval", "0", NULL};
    pid_t pid = spawn_actor(args, NULL);
    seen_t s = {.next_seq = 1};
    uint64_t sent = 0, bye_steps = 0;
    if (expect_hello(&f, 16) == 0) {
        double t0 = now_s();
        while (!s.goodbye && now_s() - t0 < 10.0) {
            zmq_msg_t m;
            int ty = fake_recv(&f, &m, 0.2);
            if (ty <= 0)
                continue;
            proto_batch_t b;
            proto_status_t st;
            if (ty == PROTO_T_BATCH && proto_decode_batch(zmq_msg_data(&m), zmq_msg_size(&m), &b) == 0) {
                check_batch(zmq_msg_data(&m), zmq_msg_size(&m), &s, 100);
                sent += b.n;
            } else if (ty == PROTO_T_GOODBYE &&
                       proto_decode_status(zmq_msg_data(&m), zmq_msg_size(&m), &st) == 0) {
                s.goodbye = 1;
                bye_steps = st.env_steps;
                CHECK(st.seq == s.next_seq - 1, "goodbye seq %llu, last batch %llu", (unsigned long long)st.seq,
                      (unsigned long long)(s.next_seq - 1));
            }
            zmq_msg_close(&m);
        }
        CHECK(s.goodbye, "no goodbye after --max-env-steps");
        CHECK(bye_steps >= 20000 && bye_steps < 20000 + 16, "goodbye reports %llu env steps",
              (unsigned long long)bye_steps);
        /* n-step: at most n - 1 = 2 steps per copy are still in a window at the end */
        CHECK(sent <= bye_steps && sent + 16 * 2 >= bye_steps, "%llu transitions sent for %llu env steps",
              (unsigned long long)sent, (unsigned long long)bye_steps);
        int st = wait_exit(pid, 3.0, NULL);
        CHECK(st == 0, "exit status %d after --max-env-steps", st);
        printf("maxsteps: %llu env steps, %llu transitions in %d batches, exit %d\n",
               (unsigned long long)bye_steps, (unsigned long long)sent, s.batches, st);
    } else {
        wait_exit(pid, 0.1, NULL);
    }
    fake_free(&f);
}

/* The learner rank of an MPMD job with two kdqn-actor ranks. */
static void case_mpi(void)
{
    MPI_Init(NULL, NULL);
    fake_t f;
    fake_init(&f);
    const char *eps[RDV_N_EP] = {f.pull_ep, f.pub_ep, NULL};
    rdv_table_t t;
    int rc = rdv_exchange(MPI_COMM_WORLD, RDV_ROLE_LEARNER, eps, &t);
    CHECK(rc == 0, "rdv_exchange: %s", rdv_strerror(rc));
    const int n_actors = rc ? 0 : t.n_role[RDV_ROLE_ACTOR];
    CHECK(n_actors == 2, "%d actor ranks, want 2", n_actors);
    rdv_table_free(&t);
    MPI_Finalize();
    uint64_t next_seq[2] = {1, 1};
    int hello[2] = {0}, batches[2] = {0}, bye[2] = {0};
    double t0 = now_s();
    double next_stop = 0;
    while (now_s() - t0 < 20.0 && !(bye[0] && bye[1])) {
        /* repeated: a SUB that has not subscribed yet would miss a single one */
        if (batches[0] >= 3 && batches[1] >= 3 && now_s() >= next_stop) {
            fake_stop(&f, "test");
            next_stop = now_s() + 0.5;
        }
        zmq_msg_t m;
        int ty = fake_recv(&f, &m, 0.2);
        if (ty <= 0)
            continue;
        const uint8_t *d = zmq_msg_data(&m);
        size_t n = zmq_msg_size(&m);
        if (ty == PROTO_T_BATCH) {
            proto_batch_t b;
            if (proto_decode_batch(d, n, &b) == 0 && b.actor_id < 2) {
                CHECK(b.seq == next_seq[b.actor_id], "actor %u seq %llu", b.actor_id, (unsigned long long)b.seq);
                next_seq[b.actor_id] = b.seq + 1;
                batches[b.actor_id]++;
            } else {
                CHECK(0, "bad batch or actor id");
            }
        } else {
            proto_status_t st;
            if (proto_decode_status(d, n, &st) == 0 && st.id < 2) {
                if (ty == PROTO_T_HELLO)
                    hello[st.id]++;
                if (ty == PROTO_T_GOODBYE)
                    bye[st.id]++;
            } else {
                CHECK(0, "bad status or actor id");
            }
        }
        zmq_msg_close(&m);
    }
    CHECK(hello[0] == 1 && hello[1] == 1, "hellos %d/%d", hello[0], hello[1]);
    CHECK(batches[0] >= 3 && batches[1] >= 3, "batches %d/%d", batches[0], batches[1]);
    CHECK(bye[0] && bye[1], "goodbyes %d/%d", bye[0], bye[1]);
    printf("mpi: actors 0 and 1 sent %d and %d batches\n", batches[0], batches[1]);
    fake_free(&f);
}

static void case_epsilon(void)
{
    actor_config_t c;
    actor_config_default(&c);
    CHECK(fabsf(actor_epsilon(&c, 0) - 0.4f) < 1e-7f, "N = 1: eps %g", actor_epsilon(&c, 0));
    c.num_actors = 8;
    c.eps_index = 0;
    CHECK(fabsf(actor_epsilon(&c, 0) - 0.4f) < 1e-6f, "i = 0: eps %g", actor_epsilon(&c, 0));
    c.eps_index = 7;
    CHECK(fabsf(actor_epsilon(&c, 0) - powf(0.4f, 8.0f)) < 1e-6f, "i = N-1: eps %g", actor_epsilon(&c, 0));
    c.eps_index = 3;
    CHECK(fabsf(actor_epsilon(&c, 0) - powf(0.4f, 4.0f)) < 1e-6f, "i = 3: eps %g", actor_epsilon(&c, 0));
    c.eps_schedule = 1;
    c.eps_start = 1.0f;
    c.eps_end = 0.1f;
    c.eps_steps = 1000;
    CHECK(fabsf(actor_epsilon(&c, 0) - 1.0f) < 1e-6f && fabsf(actor_epsilon(&c, 500) - 0.55f) < 1e-6f &&
              fabsf(actor_epsilon(&c, 5000) - 0.1f) < 1e-6f,
          "schedule %g %g %g", actor_epsilon(&c, 0), actor_epsilon(&c, 500), actor_epsilon(&c, 5000));
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: test_actor PATH/kdqn-actor main|silent|garbage|maxsteps|usage|mpi\n");
        return 2;
    }
    actor_path = argv[1];
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(argv[2], "main"))
        case_main();
    else if (!strcmp(argv[2], "silent"))
        case_silent();
    else if (!strcmp(argv[2], "garbage"))
        case_garbage();
    else if (!strcmp(argv[2], "usage")) {
        case_usage();
        case_epsilon();
    } else if (!strcmp(argv[2], "maxsteps"))
        case_maxsteps();
    else if (!strcmp(argv[2], "mpi"))
        case_mpi();
    else {
        fprintf(stderr, "unknown case %s\n", argv[2]);
        return 2;
    }
    if (failures)
        fprintf(stderr, "test_actor %s: %d failure(s)\n", argv[2], failures);
    else
        printf("test_actor %s: ok\n", argv[2]);
    return failures ? 1 : 0;
}
