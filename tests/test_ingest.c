/* test_ingest — the learner's experience path: good batches land in replay,
 * bad frames are rejected and counted without touching replay, sequence
 * numbers catch duplicates and gaps, silent actors are declared lost. */
#include "check.h"
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "log.h"
#include "proto.h"
#include "replay.h"


enum { N = 8, D = 4, A = 2 };

static int encode_batch(proto_buf_t *b, uint32_t actor, uint64_t seq, float fill, uint32_t obs_dim)
{
    float obs[N * 8], next[N * 8], rew[N], disc[N], ret[1] = {17.0f};
    int32_t act[N], len[1] = {17};
    for (int i = 0; i < N * 8; i++) {
        obs[i] = fill + 0.001f * i;
        next[i] = fill - 0.001f * i;
    }
    for (int i = 0; i < N; i++) {
        rew[i] = 1.0f;
        disc[i] = i == N - 1 ? 0.0f : 0.970299f;
        act[i] = i & 1;
    }
    proto_batch_t m = {.actor_id = actor, .seq = seq, .policy_version = 3, .n = N, .obs_dim = obs_dim,
                       .n_actions = A, .obs = obs, .actions = act, .rewards = rew, .next_obs = next,
                       .discounts = disc, .n_episodes = 1, .ep_returns = ret, .ep_lengths = len};
    return proto_encode_batch(b, &m);
}

int main(void)
{
    log_level = LOG_LEVEL_ERROR;
    replay_t *rb = replay_new(1000, D, A, 0, 0.6f);
    ingest_t *in = ingest_new(rb, 64, 0.3);
    CHECK(rb && in, "setup");
    proto_buf_t b;
    proto_buf_init(&b);

    /* a hello, then a good batch */
    proto_status_t st = {.type = PROTO_T_HELLO, .id = 2, .pid = 42, .obs_dim = D, .n_actions = A, .n_envs = 16};
    snprintf(st.role, sizeof st.role, "actor");
    snprintf(st.host, sizeof st.host, "hostX");
    CHECK(proto_encode_status(&b, &st) == 0, "encode hello");
    CHECK(ingest_frame(in, b.data, b.len) == 0, "hello not accepted");
    CHECK(in->n_alive == 1 && !strcmp(in->actors[2].host, "hostX"), "actor 2 not registered");
    CHECK(encode_batch(&b, 2, 1, 0.5f, D) == 0, "encode batch");
    CHECK(ingest_frame(in, b.data, b.len) == 1, "good batch rejected");
    CHECK(rb->size == N && in->last_n == N && in->transitions == N, "replay size %zu", rb->size);
    CHECK(fabsf(rb->obs[D + 1] - (0.5f + 0.001f * (D + 1))) < 1e-7f, "obs copied wrong");
    CHECK(rb->discount[N - 1] == 0.0f && rb->action[3] == 1, "fields copied wrong");
    CHECK(in->episodes == 1 && in->ep_return_recent == 17.0, "episode stats");

    /* hostile frames: each rejected, counted, replay untouched */
    const size_t size_before = rb->size;
    const uint64_t rej0 = in->rejected;
    const uint8_t huge[] = {0xdd, 0xff, 0x00, 0x00, 0x00};
    const uint8_t garbage[] = {0xc1, 0x01, 0x02};
    CHECK(ingest_frame(in, huge, sizeof huge) < 0, "huge declared array accepted");
    CHECK(ingest_frame(in, garbage, sizeof garbage) < 0, "garbage accepted");
    CHECK(ingest_frame(in, (const uint8_t *)"", 0) < 0, "empty frame accepted");
    CHECK(encode_batch(&b, 2, 2, 0.5f, D) == 0, "encode");
    CHECK(ingest_frame(in, b.data, b.len - 3) < 0, "truncated batch accepted");
    /* a good message with a bit of its float payload flipped to NaN */
    CHECK(encode_batch(&b, 2, 2, 0.5f, D) == 0, "encode");
    {
        uint8_t copy[4096];
        memcpy(copy, b.data, b.len);
        /* find the 4-byte little-endian pattern of obs[0] = 0.5f and make it NaN */
        const uint8_t half[4] = {0x00, 0x00, 0x00, 0x3f};
        int patched = 0;
        for (size_t i = 0; i + 4 <= b.len && !patched; i++)
            if (!memcmp(copy + i, half, 4)) {
                copy[i + 2] = 0xc0;
                copy[i + 3] = 0x7f;
                patched = 1;
            }
        CHECK(patched, "could not find obs[0] in the frame");
        CHECK(ingest_frame(in, copy, b.len) < 0, "NaN observation accepted");
    }
    CHECK(encode_batch(&b, 2, 2, 0.5f, 3) == 0, "encode obs_dim 3");
    CHECK(ingest_frame(in, b.data, b.len) == PROTO_ESHAPE, "wrong obs_dim accepted");
    CHECK(encode_batch(&b, 5000, 1, 0.5f, D) == 0, "encode");
    CHECK(ingest_frame(in, b.data, b.len) < 0, "out-of-range actor id accepted");
    /* a weights message on the experience socket is the wrong kind */
    float p[10] = {0};
    proto_weights_t w = {.version = 1, .n_params = 10, .params = p};
    snprintf(w.arch, sizeof w.arch, "4-2");
    CHECK(proto_encode_weights(&b, &w) == 0, "encode weights");
    CHECK(ingest_frame(in, b.data, b.len) == PROTO_EWRONGMSG, "weights accepted on ingest");
    CHECK(rb->size == size_before, "a rejected frame changed replay (%zu -> %zu)", size_before, rb->size);
    CHECK(in->rejected == rej0 + 8, "rejected counter %llu, want %llu", (unsigned long long)in->rejected,
          (unsigned long long)(rej0 + 8));

    /* sequence numbers: a duplicate is dropped, a gap is counted */
    CHECK(encode_batch(&b, 2, 1, 0.5f, D) == 0, "encode");
    CHECK(ingest_frame(in, b.data, b.len) < 0 && in->actors[2].dups == 1, "duplicate seq accepted");
    CHECK(encode_batch(&b, 2, 5, 0.5f, D) == 0, "encode");
    CHECK(ingest_frame(in, b.data, b.len) == 1 && in->actors[2].gaps == 3, "gap of 3 not counted (%llu)",
          (unsigned long long)in->actors[2].gaps);

    /* liveness: silent past the timeout -> lost and listed; speaking again -> back */
    usleep(400000);
    CHECK(ingest_check_liveness(in) == 1 && in->n_alive == 0 && in->n_lost_total == 1, "actor not declared lost");
    char lost[256];
    ingest_lost_list(in, lost, sizeof lost);
    CHECK(!strcmp(lost, "2@hostX"), "lost list '%s'", lost);
    CHECK(encode_batch(&b, 2, 6, 0.5f, D) == 0, "encode");
    CHECK(ingest_frame(in, b.data, b.len) == 1 && in->n_alive == 1, "returning actor not revived");

    proto_buf_free(&b);
    ingest_destroy(&in);
    replay_destroy(&rb);
    if (failures) {
        fprintf(stderr, "test_ingest: %d failures\n", failures);
        return 1;
    }
    printf("test_ingest: ok\n");
    return 0;
}
