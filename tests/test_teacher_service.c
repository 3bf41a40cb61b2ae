/* test_teacher_service.c — teacher/service.c through its API, one thread, no
 * MPI, no child process (label unit).
 *
 * A service with a tiny round (100 states, 3 queries) must defer what does
 * not fit to the next round and answer a query larger than the round alone;
 * replies must be bitwise the same with and without batching and match
 * mlp_infer of the parameters; peers, info and rejection counters must move
 * as documented; a peer silent past peer_timeout after its hello is lost. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "loss.h"
#include "mlp.h"
#include "proto.h"
#include "rng.h"
#include "service.h"
#include "test_teacher_util.h"

#define D 4
#define A 3
#define NQ 12

static const uint32_t sizes[NQ] = {64, 64, 64, 30, 5, 300, 1, 99, 100, 101, 64, 7};

/* Polls the service until want frames arrived on the client (or 3 s). */
static int collect(teacher_service_t *svc, void *cli, int want, uint8_t **frames, long *lens)
{
    int got = 0;
    double end = tt_now() + 3.0;
    while (got < want && tt_now() < end) {
        teacher_service_poll_once(svc, 10);
        long len;
        while (got < want && (len = tt_recv(cli, 0, &frames[got])) >= 0)
            lens[got++] = len;
    }
    return got;
}

/* Runs the scenario once; q_out (NQ, 300 * A) gets each reply's q. */
static void scenario(const mlp_arch_t *arch, const float *params, int batching, float *q_out)
{
    teacher_config_t cfg;
    teacher_config_default(&cfg);
    cfg.max_round_states = 100;
    cfg.max_round_requests = 3;
    cfg.infer_chunk = 37;   /* odd chunking must not change results */
    cfg.batching = batching;
    cfg.peer_timeout = 0.3;
    int err;
    teacher_service_t *svc = teacher_service_new(arch, params, &cfg, &err);
    if (!TT_CHECK(svc != NULL, "teacher_service_new: %s", teacher_strerror(err)))
        return;
    char ep[256];
    TT_CHECK(teacher_service_bind(svc, "tcp://127.0.0.1:*", ep, sizeof ep) == 0, "bind");
    void *ctx = zmq_ctx_new();
    void *cli = tt_dealer(ctx, ep);
    proto_buf_t b;
    proto_buf_init(&b);
    rng_t rng;
    rng_seed(&rng, 11);
    static float obs[NQ][300 * D];
    for (int k = 0; k < NQ; k++) {
        for (uint32_t i = 0; i < sizes[k] * D; i++)
            obs[k][i] = 2.0f * rng_uniformf(&rng) - 1.0f;
        tt_send_query(cli, &b, 100 + (uint64_t)k, 0.05f * (float)(k + 1), sizes[k], D, obs[k]);
    }
    uint8_t *frames[NQ];
    long lens[NQ];
    int got = collect(svc, cli, NQ, frames, lens);
    TT_CHECK(got == NQ, "%d of %d replies", got, NQ);
    float *scratch = malloc(mlp_infer_scratch(arch, 300) * sizeof(float));
    static float q_ref[300 * A], p_ref[300 * A], p[300 * A];
    for (int k = 0; k < got; k++) {
        proto_reply_t r;
        if (!TT_CHECK(proto_decode_reply(frames[k], (size_t)lens[k], &r) == 0, "reply %d", k))
            continue;
        TT_CHECK(r.req_id == 100 + (uint64_t)k, "reply %d has id %llu (order kept)", k,
                 (unsigned long long)r.req_id);
        int j = (int)(r.req_id - 100);
        if (j < 0 || j >= NQ || !TT_CHECK(r.n == sizes[j] && r.n_actions == A, "shape"))
            continue;
        mlp_infer(arch, params, obs[j], (int)r.n, q_ref, scratch);
        proto_copy_f32(q_out + (size_t)j * 300 * A, r.q, (size_t)r.n * A);
        proto_copy_f32(p, r.probs, (size_t)r.n * A);
        loss_softmax(q_out + (size_t)j * 300 * A, (int)r.n, A, 0.05f * (float)(j + 1), p_ref);
        double dq = 0, dp = 0;
        for (size_t i = 0; i < (size_t)r.n * A; i++) {
            dq = fmax(dq, fabs((double)q_out[(size_t)j * 300 * A + i] - q_ref[i]) / (1 + fabs(q_ref[i])));
            dp = fmax(dp, fabs((double)p[i] - p_ref[i]));
        }
        TT_CHECK(dq <= 1e-6 && dp <= 1e-6, "query %d: q off by %g, probs by %g", j, dq, dp);
    }
    for (int k = 0; k < got; k++)
        free(frames[k]);
    free(scratch);

    teacher_stats_t st;
    teacher_service_stats(svc, &st);
    uint64_t total = 0;
    for (int k = 0; k < NQ; k++)
        total += sizes[k];
    TT_CHECK(st.requests == NQ && st.states == total, "counters %llu requests %llu states",
             (unsigned long long)st.requests, (unsigned long long)st.states);
    /* rounds of at most 3 queries and 100 states (300 and 101 alone): at least
     * [64] [64] [64 30 5] [300] [1 99] [100] [101] [64 7] */
    TT_CHECK(st.rounds >= 8, "only %llu rounds: the round caps were not applied", (unsigned long long)st.rounds);
    printf("batching=%d: %llu rounds, %llu forwards for %d queries\n", batching,
           (unsigned long long)st.rounds, (unsigned long long)st.forwards, NQ);

    /* a bad message is rejected and answered; info reflects the counters */
    static const uint8_t junk[] = {0x93, 1, 2, 3};
    zmq_send(cli, junk, sizeof junk, 0);
    proto_info_req_t ir = {.req_id = 9};
    proto_encode_info_req(&b, &ir);
    tt_send_buf(cli, &b);
    got = collect(svc, cli, 2, frames, lens);
    if (TT_CHECK(got == 2, "error + info: %d frames", got)) {
        proto_error_t e;
        proto_info_t in;
        TT_CHECK(proto_decode_error(frames[0], (size_t)lens[0], &e) == 0 && e.code == PROTO_ENOTMAP,
                 "error reply for a msgpack array");
        TT_CHECK(proto_decode_info(frames[1], (size_t)lens[1], &in) == 0 && in.served_requests == NQ &&
                     in.served_states == total && in.model_crc == teacher_service_model_crc(svc),
                 "info reply");
        free(frames[0]);
        free(frames[1]);
    }
    teacher_service_stats(svc, &st);
    TT_CHECK(st.rejected == 1 && st.info_requests == 1, "rejected %llu info %llu",
             (unsigned long long)st.rejected, (unsigned long long)st.info_requests);

    /* hello, then silence: lost after peer_timeout; goodbye from another peer closes it */
    tt_send_status(cli, &b, PROTO_T_HELLO, 0);
    void *cli2 = tt_dealer(ctx, ep);
    tt_send_status(cli2, &b, PROTO_T_HELLO, 1);
    tt_send_status(cli2, &b, PROTO_T_GOODBYE, 1);
    double end = tt_now() + 1.0;
    while (tt_now() < end) {
        teacher_service_poll_once(svc, 10);
        teacher_service_check_peers(svc);
    }
    teacher_service_stats(svc, &st);
    TT_CHECK(st.hellos == 2 && st.goodbyes == 1 && st.peers_lost == 1 && st.peers_open == 0 &&
                 st.clients_seen == 2,
             "peers: hellos %llu goodbyes %llu lost %llu open %d seen %llu", (unsigned long long)st.hellos,
             (unsigned long long)st.goodbyes, (unsigned long long)st.peers_lost, st.peers_open,
             (unsigned long long)st.clients_seen);

    zmq_close(cli);
    zmq_close(cli2);
    zmq_ctx_term(ctx);
    proto_buf_free(&b);
    teacher_service_destroy(&svc);
    TT_CHECK(svc == NULL, "destroy nulls the pointer");
    teacher_service_destroy(&svc);   /* NULL-safe */
}

int main(void)
{
    mlp_arch_t arch;
    TT_CHECK(mlp_arch_parse(&arch, "4-16-16-3") == 0, "arch");
    mlp_t *net = mlp_new(&arch, 1);
    rng_t rng;
    rng_seed(&rng, 3);
    mlp_init(net, &rng);
    float *q_batched = calloc((size_t)NQ * 300 * A, sizeof(float));
    float *q_naive = calloc((size_t)NQ * 300 * A, sizeof(float));
    scenario(&arch, net->params, 1, q_batched);
    scenario(&arch, net->params, 0, q_naive);
    TT_CHECK(memcmp(q_batched, q_naive, (size_t)NQ * 300 * A * sizeof(float)) == 0,
             "batched and per-query forwards differ");

    /* models the protocol cannot carry, bad configs */
    mlp_arch_t wide;
    mlp_arch_parse(&wide, "4-8-300");
    int err = 0;
    float *zeros = calloc(wide.n_params, sizeof(float));
    teacher_service_t *svc = teacher_service_new(&wide, zeros, NULL, &err);
    TT_CHECK(svc == NULL && err == TEACHER_EINVAL, "300 actions accepted");
    teacher_config_t cfg;
    teacher_config_default(&cfg);
    cfg.max_round_states = 0;
    svc = teacher_service_new(&arch, net->params, &cfg, &err);
    TT_CHECK(svc == NULL && err == TEACHER_EINVAL, "max_round_states 0 accepted");
    free(zeros);
    free(q_batched);
    free(q_naive);
    mlp_destroy(&net);
    printf(tt_failures ? "test_teacher_service: %d FAILED\n" : "test_teacher_service: ok\n", tt_failures);
    return tt_failures ? 1 : 0;
}
