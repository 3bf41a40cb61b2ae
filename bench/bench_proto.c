/* bench_proto.c — wire-format throughput on one core, and through a real socket.
 *
 * Message: a transition batch of 256 CartPole transitions (obs_dim 4, 2
 * actions, one finished episode), ~11 KB.
 *   encode          proto_encode_batch into a reused buffer
 *   decode          proto_decode_batch: full validation, views only
 *   decode+copy     the same plus proto_copy_* of every array into SoA buffers
 *   naive decode    msgpack-c's msgpack_unpack_next into a zone, key lookup by
 *                   strcmp, memcpy of the bins: no validation at all (reference)
 *   socket          PUSH -> PULL on tcp://127.0.0.1:*, 1 and 2 sender threads
 *                   each encoding its own messages, the receiver decoding and
 *                   copying out every message
 * Each figure is the median of several repeats.
 *
 * usage: bench-proto [--quick] [--repeats N] */
#include "bench_util.h"
#include <msgpack.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "proto.h"
#include "rendezvous.h"

enum { N = 256, D = 4, A = 2, MAX_REPEATS = 51 };


static float obs[N * D], obs2[N * D], rew[N], disc[N], ep_ret[1] = { 57.0f };
static int32_t act[N], ep_len[1] = { 57 };

/* Destination SoA buffers for decode+copy (what a learner's ingest does). */
static float c_obs[N * D], c_obs2[N * D], c_rew[N], c_disc[N], c_ret[64];
static int32_t c_act[N], c_len[64];
static volatile uint64_t sink;

static proto_batch_t make_batch(uint64_t seq) {
    proto_batch_t m = { .actor_id = 1, .seq = seq, .policy_version = 3, .n = N, .obs_dim = D, .n_actions = A,
                        .obs = obs, .actions = act, .rewards = rew, .next_obs = obs2, .discounts = disc,
                        .n_episodes = 1, .ep_returns = ep_ret, .ep_lengths = ep_len };
    return m;
}

static void copy_out(const proto_batch_t *m) {
    size_t no = (size_t)m->n * m->obs_dim;
    proto_copy_f32(c_obs, m->obs, no);
    proto_copy_f32(c_obs2, m->next_obs, no);
    proto_copy_f32(c_rew, m->rewards, m->n);
    proto_copy_f32(c_disc, m->discounts, m->n);
    proto_copy_i32(c_act, m->actions, m->n);
    if (m->n_episodes <= 64) {
        proto_copy_f32(c_ret, m->ep_returns, m->n_episodes);
        proto_copy_i32(c_len, m->ep_lengths, m->n_episodes);
    }
}

/* The naive reference: msgpack-c's unpacker (allocates a zone per message). */
static int naive_decode(const uint8_t *f, size_t len) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int ok = msgpack_unpack_next(&u, (const char *)f, len, &off) == MSGPACK_UNPACK_SUCCESS
             && u.data.type == MSGPACK_OBJECT_MAP;
    if (ok) {
        const msgpack_object_map *mp = &u.data.via.map;
        for (uint32_t i = 0; i < mp->size; i++) {
            const msgpack_object *k = &mp->ptr[i].key, *v = &mp->ptr[i].val;
            if (k->type != MSGPACK_OBJECT_STR) continue;
            char key[16];
            size_t kl = k->via.str.size < 15 ? k->via.str.size : 15;
            memcpy(key, k->via.str.ptr, kl);
            key[kl] = 0;
            if (v->type == MSGPACK_OBJECT_BIN) {
                const void *p = v->via.bin.ptr;
                size_t n = v->via.bin.size;
                if (!strcmp(key, "obs") && n <= sizeof c_obs) memcpy(c_obs, p, n);
                else if (!strcmp(key, "obs2") && n <= sizeof c_obs2) memcpy(c_obs2, p, n);
                else if (!strcmp(key, "rew") && n <= sizeof c_rew) memcpy(c_rew, p, n);
                else if (!strcmp(key, "disc") && n <= sizeof c_disc) memcpy(c_disc, p, n);
                else if (!strcmp(key, "act") && n <= sizeof c_act) memcpy(c_act, p, n);
            } else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                sink += v->via.u64;
            }
        }
    }
    msgpack_unpacked_destroy(&u);
    return ok ? 0 : -1;
}

typedef struct {
    const char *name;
    double per_msg_s;
} result_t;

static void report(const char *name, double secs_per_msg, size_t bytes, double ref) {
    double tps = N / secs_per_msg;
    printf("  %-14s %9.0f ns/msg  %7.2f M transitions/s  %6.2f GB/s", name, secs_per_msg * 1e9, tps / 1e6,
           bytes / secs_per_msg / 1e9);
    if (ref > 0) printf("  (%.1fx naive)", ref / secs_per_msg);
    printf("\n");
}

/* ---- socket benchmark ------------------------------------------------------- */

typedef struct {
    void *ctx;
    const char *endpoint;
    int n_msgs;
} sender_arg_t;

static void *sender(void *p) {
    sender_arg_t *a = p;
    void *s = zmq_socket(a->ctx, ZMQ_PUSH);
    int linger = 2000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(s, a->endpoint);
    proto_buf_t b;
    proto_buf_init(&b);
    for (int i = 0; i < a->n_msgs; i++) {
        proto_batch_t m = make_batch((uint64_t)i + 1);
        if (proto_encode_batch(&b, &m) || zmq_send(s, b.data, b.len, 0) < 0) break;
    }
    proto_buf_free(&b);
    zmq_close(s);
    return NULL;
}

/* Returns seconds for n_senders * n_msgs messages received and decoded, or -1. */
static double socket_run(int n_senders, int n_msgs, uint64_t *rejected) {
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    char ep[RDV_MAX_ENDPOINT];
    if (rdv_bind_ephemeral(pull, "127.0.0.1", ep, sizeof ep)) return -1;
    pthread_t th[8];
    sender_arg_t arg = { ctx, ep, n_msgs };
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    /* Time from the first message so connection set-up is excluded. */
    for (int i = 0; i < n_senders; i++) pthread_create(&th[i], NULL, sender, &arg);
    int total = n_senders * n_msgs;
    double t0 = 0;
    for (int got = 0; got < total; got++) {
        if (zmq_msg_recv(&msg, pull, 0) < 0) break;
        if (got == 0) t0 = bench_wall();
        proto_batch_t m;
        if (proto_decode_batch(zmq_msg_data(&msg), zmq_msg_size(&msg), &m)) { (*rejected)++; continue; }
        copy_out(&m);
    }
    double dt = bench_wall() - t0;
    for (int i = 0; i < n_senders; i++) pthread_join(th[i], NULL);
    zmq_msg_close(&msg);
    zmq_close(pull);
    zmq_ctx_term(ctx);
    return dt * total / (total - 1); /* the first message is not timed */
}

int main(int argc, char **argv) {
    int repeats = 9, quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) quick = 1, repeats = 3;
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = atoi(argv[++i]);
        else { fprintf(stderr, "usage: bench-proto [--quick] [--repeats N]\n"); return 2; }
    }
    if (repeats < 1) repeats = 1;
    if (repeats > MAX_REPEATS) repeats = MAX_REPEATS;
    for (int i = 0; i < N * D; i++) { obs[i] = (float)(i % 97) * 0.01f - 0.5f; obs2[i] = obs[i] + 0.01f; }
    for (int i = 0; i < N; i++) { act[i] = i & 1; rew[i] = 2.97f; disc[i] = i % 50 ? 0.970299f : 0.0f; }

    proto_buf_t b;
    proto_buf_init(&b);
    proto_batch_t m = make_batch(1);
    if (proto_encode_batch(&b, &m)) { fprintf(stderr, "encode failed\n"); return 1; }
    uint8_t *frame = malloc(b.len);
    size_t flen = b.len;
    memcpy(frame, b.data, flen);
    int iters = quick ? 2000 : 20000;
    double t[MAX_REPEATS];
    printf("bench-proto: batch of %d CartPole transitions, %zu bytes/message, %d messages x %d repeats (median)\n",
           N, flen, iters, repeats);

    double naive = 0;
    for (int r = 0; r < repeats; r++) {
        double t0 = bench_wall();
        for (int i = 0; i < iters; i++) if (naive_decode(frame, flen)) return 1;
        t[r] = (bench_wall() - t0) / iters;
    }
    naive = bench_median(t, repeats);
    for (int r = 0; r < repeats; r++) {
        double t0 = bench_wall();
        for (int i = 0; i < iters; i++) { m.seq = (uint64_t)i; if (proto_encode_batch(&b, &m)) return 1; }
        t[r] = (bench_wall() - t0) / iters;
    }
    report("encode", bench_median(t, repeats), flen, 0);
    for (int r = 0; r < repeats; r++) {
        double t0 = bench_wall();
        proto_batch_t d;
        for (int i = 0; i < iters; i++) { if (proto_decode_batch(frame, flen, &d)) return 1; sink += d.n; }
        t[r] = (bench_wall() - t0) / iters;
    }
    report("decode (views)", bench_median(t, repeats), flen, naive);
    for (int r = 0; r < repeats; r++) {
        double t0 = bench_wall();
        proto_batch_t d;
        for (int i = 0; i < iters; i++) { if (proto_decode_batch(frame, flen, &d)) return 1; copy_out(&d); }
        t[r] = (bench_wall() - t0) / iters;
    }
    report("decode+copy", bench_median(t, repeats), flen, naive);
    report("naive decode", naive, flen, 0);

    int msgs = quick ? 5000 : 50000, sock_repeats = quick ? 1 : 3;
    for (int senders = 1; senders <= 2; senders++) {
        uint64_t rejected = 0;
        double s[MAX_REPEATS];
        for (int r = 0; r < sock_repeats; r++) {
            s[r] = socket_run(senders, msgs / senders, &rejected);
            if (s[r] < 0) { fprintf(stderr, "socket run failed\n"); return 1; }
        }
        double dt = bench_median(s, sock_repeats);
        int total = senders * (msgs / senders);
        printf("  PUSH->PULL %d sender%s: %8.0f messages/s  %6.2f M transitions/s  %5.2f GB/s  (decoded+copied, %llu rejected)\n",
               senders, senders > 1 ? "s" : " ", total / dt, total * (double)N / dt / 1e6, total * (double)flen / dt / 1e9,
               (unsigned long long)rejected);
    }
    free(frame);
    proto_buf_free(&b);
    return 0;
}
