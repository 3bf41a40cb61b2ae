/* test_replay.c — replay buffer: serials, wrap-around, teacher bookkeeping,
 * uniform and prioritised sampling, IS weights, bad arguments.
 * Exits non-zero and says what failed. */
#include "check.h"
#include "replay.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



#define OD 3
#define NA 2

/* Rows tagged with their serial: obs[0] = serial, reward = serial, next_obs[0] = -serial. */
static uint64_t add_tagged(replay_t *rb, int n, int with_teacher)
{
    float obs[64 * OD], nobs[64 * OD], rew[64], disc[64], q[64 * NA];
    int32_t act[64];
    uint64_t s0 = rb->next_serial;
    for (int i = 0; i < n; i++) {
        float s = (float)(s0 + (uint64_t)i);
        for (int k = 0; k < OD; k++) {
            obs[i * OD + k] = k == 0 ? s : 0.5f * k;
            nobs[i * OD + k] = k == 0 ? -s : 0.25f * k;
        }
        rew[i] = s;
        disc[i] = 0.99f;
        act[i] = i % NA;
        for (int a = 0; a < NA; a++)
            q[i * NA + a] = s + a;
    }
    return replay_add(rb, n, obs, act, rew, nobs, disc, with_teacher ? q : NULL);
}

static uint64_t count_teacher(const replay_t *rb)
{
    uint64_t c = 0;
    for (size_t i = 0; i < rb->capacity; i++)
        c += rb->has_teacher[i];
    return c;
}

static void test_bad_sizes(void)
{
    CHECK(replay_new(0, OD, NA, 0, 0.6f) == NULL, "capacity 0 accepted");
    CHECK(replay_new(10, 0, NA, 0, 0.6f) == NULL, "obs_dim 0 accepted");
    CHECK(replay_new(10, OD, 0, 0, 0.6f) == NULL, "n_actions 0 accepted");
    CHECK(replay_new(10, -1, NA, 1, 0.6f) == NULL, "obs_dim -1 accepted");
    CHECK(replay_new(10, OD, NA, 1, -1.0f) == NULL, "negative alpha accepted");
    CHECK(replay_new(10, OD, NA, 1, NAN) == NULL, "NaN alpha accepted");
    CHECK(replay_new((size_t)1 << 40, OD, NA, 0, 0.6f) == NULL, "capacity 2^40 accepted");
    replay_t *rb = NULL;
    replay_destroy(&rb);   /* NULL-safe */
    replay_destroy(NULL);
    replay_batch_t *b = NULL;
    replay_batch_destroy(&b);
}

static void test_add_wrap(void)
{
    replay_t *rb = replay_new(5, OD, NA, 0, 0.0f);
    CHECK(rb != NULL, "replay_new");
    if (!rb)
        return;
    CHECK(add_tagged(rb, 3, 0) == 0, "first serial");
    CHECK(rb->size == 3 && rb->next_serial == 3, "size %zu next %llu", rb->size,
          (unsigned long long)rb->next_serial);
    CHECK(add_tagged(rb, 4, 0) == 3, "second serial");
    CHECK(rb->size == 5 && rb->next_serial == 7, "size after wrap %zu", rb->size);
    /* serial 5 -> slot 0, 6 -> slot 1, 2 -> slot 2 */
    CHECK(rb->obs[0 * OD] == 5.0f && rb->obs[1 * OD] == 6.0f && rb->obs[2 * OD] == 2.0f,
          "slot contents %g %g %g", rb->obs[0], rb->obs[OD], rb->obs[2 * OD]);
    CHECK(rb->next_obs[0] == -5.0f && rb->reward[1] == 6.0f && rb->action[1] == 1,
          "other arrays follow the slot");
    /* more rows than capacity: every row gets a serial, the last 5 remain */
    CHECK(add_tagged(rb, 12, 0) == 7, "serial of a > capacity add");
    CHECK(rb->next_serial == 19 && rb->size == 5, "next %llu", (unsigned long long)rb->next_serial);
    for (uint64_t s = 14; s < 19; s++)
        CHECK(rb->reward[s % 5] == (float)s, "serial %llu at slot %llu holds %g",
              (unsigned long long)s, (unsigned long long)(s % 5), rb->reward[s % 5]);
    /* misuse adds nothing */
    CHECK(replay_add(rb, 0, rb->obs, rb->action, rb->reward, rb->obs, rb->discount, NULL) == 19 &&
              rb->next_serial == 19, "n = 0 must add nothing");
    CHECK(replay_add(rb, 2, NULL, rb->action, rb->reward, rb->obs, rb->discount, NULL) == 19 &&
              rb->next_serial == 19, "NULL obs must add nothing");
    replay_destroy(&rb);
    CHECK(rb == NULL, "destroy nulls the pointer");
}

static void test_teacher(void)
{
    replay_t *rb = replay_new(4, OD, NA, 1, 0.6f);
    float q[NA] = {7.0f, 8.0f};
    if (!rb) {
        CHECK(0, "replay_new");
        return;
    }
    add_tagged(rb, 3, 0);                    /* serials 0..2, no teacher */
    CHECK(rb->with_teacher == 0, "no teacher yet");
    CHECK(replay_set_teacher(rb, 1, q) == REPLAY_OK, "set live serial");
    CHECK(rb->with_teacher == 1, "count %llu", (unsigned long long)rb->with_teacher);
    CHECK(rb->teacher_q[1 * NA] == 7.0f && rb->teacher_q[1 * NA + 1] == 8.0f, "values stored");
    q[0] = 9.0f;
    CHECK(replay_set_teacher(rb, 1, q) == REPLAY_OK, "set twice");
    CHECK(rb->with_teacher == 1, "set twice counted twice: %llu", (unsigned long long)rb->with_teacher);
    CHECK(rb->teacher_q[1 * NA] == 9.0f, "second set overwrites");
    CHECK(replay_set_teacher(rb, 3, q) == REPLAY_EGONE, "future serial");
    CHECK(replay_set_teacher(rb, 1000, q) == REPLAY_EGONE, "far future serial");
    CHECK(replay_set_teacher(rb, 0, NULL) == REPLAY_EARG, "NULL q");
    add_tagged(rb, 3, 1);                    /* serials 3..5 with teacher; 0,1 overwritten */
    CHECK(replay_set_teacher(rb, 0, q) == REPLAY_EGONE, "overwritten serial 0");
    CHECK(replay_set_teacher(rb, 1, q) == REPLAY_EGONE, "overwritten serial 1");
    CHECK(rb->with_teacher == 3, "count through overwrite %llu", (unsigned long long)rb->with_teacher);
    add_tagged(rb, 4, 0);                    /* 6..9 without teacher overwrite everything */
    CHECK(rb->with_teacher == 0, "count after overwrite by no-teacher rows %llu",
          (unsigned long long)rb->with_teacher);
    CHECK(rb->teacher_q[(9 % 4) * NA] == 0.0f, "stale teacher values cleared");
    replay_destroy(&rb);
}

/* Random operations against a brute-force model of presence and teacher counts;
 * sampled rows must carry their own serial's data. */
static void test_random_ops(void)
{
    for (int prio = 0; prio <= 1; prio++) {
        replay_t *rb = replay_new(13, OD, NA, prio, 0.6f);
        replay_batch_t *b = rb ? replay_batch_new(rb, 32) : NULL;
        rng_t rng;
        float q[NA] = {1, 2};
        int bad = 0;
        rng_seed(&rng, 42 + prio);
        if (!b) {
            CHECK(0, "alloc");
            replay_destroy(&rb);
            return;
        }
        for (int it = 0; it < 5000 && !bad; it++) {
            int op = (int)rng_below(&rng, 4);
            if (op == 0) {
                add_tagged(rb, 1 + (int)rng_below(&rng, 20), (int)rng_below(&rng, 2));
            } else if (op == 1) {
                uint64_t lo = rb->next_serial > 30 ? rb->next_serial - 30 : 0;
                uint64_t s = lo + rng_below(&rng, (uint32_t)(rb->next_serial - lo + 3));
                int present = s < rb->next_serial && s + rb->size >= rb->next_serial;
                int rc = replay_set_teacher(rb, s, q);
                if (rc != (present ? REPLAY_OK : REPLAY_EGONE)) {
                    CHECK(0, "set_teacher(%llu) = %d, present %d", (unsigned long long)s, rc, present);
                    bad = 1;
                }
            } else if (rb->size > 0) {
                int B = 1 + (int)rng_below(&rng, 32);
                if (replay_sample(rb, &rng, B, 0.4f, b) != REPLAY_OK) {
                    CHECK(0, "sample failed");
                    bad = 1;
                    continue;
                }
                float td[32];
                for (int j = 0; j < B; j++) {
                    uint64_t s = b->serial[j];
                    if (!(s < rb->next_serial && s + rb->size >= rb->next_serial) ||
                        b->obs[j * OD] != (float)s || b->reward[j] != (float)s ||
                        b->next_obs[j * OD] != -(float)s || !(b->weight[j] > 0 && b->weight[j] <= 1)) {
                        CHECK(0, "sampled row %d: serial %llu obs %g reward %g w %g", j,
                              (unsigned long long)s, b->obs[j * OD], b->reward[j], b->weight[j]);
                        bad = 1;
                        break;
                    }
                    td[j] = rng_uniformf(&rng) * 3.0f;
                }
                replay_update_priorities(rb, b->serial, td, B);
            }
            if (rb->with_teacher != count_teacher(rb)) {
                CHECK(0, "with_teacher %llu != %llu at it %d", (unsigned long long)rb->with_teacher,
                      (unsigned long long)count_teacher(rb), it);
                bad = 1;
            }
        }
        replay_batch_destroy(&b);
        replay_destroy(&rb);
    }
}

static void test_uniform(void)
{
    enum { CAP = 100, B = 500, ROUNDS = 200 };
    replay_t *rb = replay_new(CAP, OD, NA, 0, 0.0f);
    replay_batch_t *b = rb ? replay_batch_new(rb, B) : NULL;
    long count[CAP] = {0};
    rng_t rng;
    rng_seed(&rng, 7);
    if (!b) {
        CHECK(0, "alloc");
        replay_destroy(&rb);
        return;
    }
    for (int i = 0; i < 3; i++)
        add_tagged(rb, 50, 0);   /* 150 added, 50..149 held */
    for (int r = 0; r < ROUNDS; r++) {
        CHECK(replay_sample(rb, &rng, B, 0.4f, b) == REPLAY_OK, "uniform sample");
        for (int j = 0; j < B; j++) {
            CHECK(b->weight[j] == 1.0f, "uniform weight %g", b->weight[j]);
            if (b->serial[j] >= 50 && b->serial[j] < 150)
                count[b->serial[j] - 50]++;
            else
                CHECK(0, "serial %llu not held", (unsigned long long)b->serial[j]);
        }
    }
    double expect = (double)B * ROUNDS / CAP, chi2 = 0;
    for (int i = 0; i < CAP; i++)
        chi2 += (count[i] - expect) * (count[i] - expect) / expect;
    /* 99 degrees of freedom: mean 99, sd 14; 170 is ~5 sd */
    CHECK(chi2 < 170.0, "uniform chi-square %.1f over 99 dof", chi2);
    printf("uniform: chi-square %.1f (99 dof)\n", chi2);
    replay_batch_destroy(&b);
    replay_destroy(&rb);
}

/* Sampling frequencies ∝ priority^alpha, for a power-of-two capacity, a padded
 * tree and a partly filled buffer. */
static void test_prioritized_freq(size_t cap, int n_fill, float alpha)
{
    enum { B = 64, DRAWS = 200000 };
    replay_t *rb = replay_new(cap, OD, NA, 1, alpha);
    replay_batch_t *b = rb ? replay_batch_new(rb, B) : NULL;
    long count[16] = {0};
    double mass[16], total = 0;
    rng_t rng;
    rng_seed(&rng, 11);
    if (!b) {
        CHECK(0, "alloc");
        replay_destroy(&rb);
        return;
    }
    add_tagged(rb, n_fill, 0);
    uint64_t serial[16];
    float td[16];
    for (int i = 0; i < n_fill; i++) {
        serial[i] = (uint64_t)i;
        td[i] = (float)(i + 1);
        mass[i] = pow((double)(i + 1) + 1e-6, alpha);
        total += mass[i];
    }
    replay_update_priorities(rb, serial, td, n_fill);
    for (int r = 0; r < DRAWS / B; r++) {
        replay_sample(rb, &rng, B, 0.4f, b);
        for (int j = 0; j < B; j++) {
            if (b->serial[j] < (uint64_t)n_fill)
                count[b->serial[j]]++;
            else
                CHECK(0, "cap %zu: sampled serial %llu never added", cap, (unsigned long long)b->serial[j]);
        }
    }
    int n = (DRAWS / B) * B;
    for (int i = 0; i < n_fill; i++) {
        double f = (double)count[i] / n, p = mass[i] / total;
        CHECK(fabs(f - p) < 0.02 * p + 0.001, "cap %zu alpha %g: slot %d freq %.4f want %.4f", cap,
              alpha, i, f, p);
    }
    replay_batch_destroy(&b);
    replay_destroy(&rb);
}

static void test_is_weights(void)
{
    replay_t *rb = replay_new(4, OD, NA, 1, 1.0f);
    replay_batch_t *b = rb ? replay_batch_new(rb, 64) : NULL;
    rng_t rng;
    rng_seed(&rng, 3);
    if (!b) {
        CHECK(0, "alloc");
        replay_destroy(&rb);
        return;
    }
    rb->eps = 0.0f;   /* priorities exactly 1, 2, 3, 4 */
    add_tagged(rb, 4, 0);
    uint64_t serial[4] = {0, 1, 2, 3};
    float td[4] = {1, -2, 3, -4};
    replay_update_priorities(rb, serial, td, 4);
    CHECK(rb->tree[1] == 10.0, "total mass %g", rb->tree[1]);
    CHECK(rb->max_priority == 4.0f, "max priority %g", rb->max_priority);
    /* B = 64: the first segment [0, 10/64) lies in slot 0 (mass [0,1)), so slot 0
     * (P = 0.1, the smallest) is always in the batch and sets the max weight.
     * beta = 0.5, N = 4: w_i = (4 P_i)^-0.5 = (0.4, 0.8, 1.2, 1.6)^-0.5
     *   = 1.58114, 1.11803, 0.91287, 0.79057; / 1.58114 = 1, 0.70711, 0.57735, 0.5 */
    const float want[4] = {1.0f, 0.70710678f, 0.57735027f, 0.5f};
    CHECK(replay_sample(rb, &rng, 64, 0.5f, b) == REPLAY_OK, "sample");
    int seen0 = 0;
    for (int j = 0; j < 64; j++) {
        uint64_t s = b->serial[j];
        seen0 |= s == 0;
        CHECK(s < 4 && fabsf(b->weight[j] - want[s]) < 1e-6f, "IS weight of serial %llu: %.7f want %.7f",
              (unsigned long long)s, b->weight[j], s < 4 ? want[s] : -1.0f);
    }
    CHECK(seen0, "slot 0 must be in the first stratum");
    /* beta = 0: all weights 1 */
    replay_sample(rb, &rng, 64, 0.0f, b);
    for (int j = 0; j < 64; j++)
        CHECK(b->weight[j] == 1.0f, "beta 0 weight %g", b->weight[j]);
    /* stratification: with B = 10 and masses 1,2,3,4, segment k is [k, k+1), so
     * the batch is exactly slots 0,1,1,2,2,2,3,3,3,3 in order */
    replay_sample(rb, &rng, 10, 0.5f, b);
    const uint64_t strata[10] = {0, 1, 1, 2, 2, 2, 3, 3, 3, 3};
    for (int j = 0; j < 10; j++)
        CHECK(b->serial[j] == strata[j], "stratum %d gave serial %llu want %llu", j,
              (unsigned long long)b->serial[j], (unsigned long long)strata[j]);
    replay_batch_destroy(&b);
    replay_destroy(&rb);
}

static void test_update_changes_sampling(void)
{
    replay_t *rb = replay_new(8, OD, NA, 1, 0.6f);
    replay_batch_t *b = rb ? replay_batch_new(rb, 50) : NULL;
    rng_t rng;
    rng_seed(&rng, 5);
    if (!b) {
        CHECK(0, "alloc");
        replay_destroy(&rb);
        return;
    }
    add_tagged(rb, 8, 0);
    CHECK(rb->tree[1] == 8.0, "new transitions get max_priority 1: total %g", rb->tree[1]);
    uint64_t s5 = 5;
    float big = 1e4f;
    replay_update_priorities(rb, &s5, &big, 1);
    long hit = 0;
    for (int r = 0; r < 100; r++) {
        replay_sample(rb, &rng, 50, 0.4f, b);
        for (int j = 0; j < 50; j++)
            hit += b->serial[j] == 5;
    }
    /* mass of 5: 1e4^0.6 = 251; others 1 each: P = 251/258 */
    CHECK(hit > 4700, "raised priority sampled %ld / 5000", hit);
    double total = rb->tree[1];
    uint64_t gone[3] = {3, 100, 8};   /* 3 still held; 100 and 8 not added yet */
    float td[3] = {0, 5, 5};
    replay_update_priorities(rb, gone + 1, td + 1, 2);
    CHECK(rb->tree[1] == total, "updates for absent serials must be ignored");
    add_tagged(rb, 3, 0);   /* overwrites serials 0..2 */
    uint64_t old = 1;
    double before = rb->tree[1];
    replay_update_priorities(rb, &old, td + 1, 1);
    CHECK(rb->tree[1] == before, "update for an overwritten serial must be ignored");
    CHECK(fabs(rb->tree[rb->leaves + (8 % 8)] - rb->max_priority) < 1e-3,
          "new transition leaf %g != max_priority %g", rb->tree[rb->leaves], rb->max_priority);
    float nan_td = NAN;
    replay_update_priorities(rb, gone, &nan_td, 1);
    CHECK(isfinite(rb->tree[1]) && rb->tree[1] == before, "NaN td must be ignored");
    replay_batch_destroy(&b);
    replay_destroy(&rb);
}

/* Zero-mass leaves (alpha = 100 makes eps^alpha underflow to 0) are never
 * sampled; an all-zero tree falls back to uniform. */
static void test_zero_priority(void)
{
    replay_t *rb = replay_new(6, OD, NA, 1, 100.0f);
    replay_batch_t *b = rb ? replay_batch_new(rb, 64) : NULL;
    rng_t rng;
    rng_seed(&rng, 9);
    if (!b) {
        CHECK(0, "alloc");
        replay_destroy(&rb);
        return;
    }
    add_tagged(rb, 6, 0);
    uint64_t s[6] = {0, 1, 2, 3, 4, 5};
    float td[6] = {0, 0, 1, 0, 0, 0};
    replay_update_priorities(rb, s, td, 6);
    CHECK(rb->tree[rb->leaves + 0] == 0.0 && rb->tree[rb->leaves + 2] > 0.0, "setup: leaf masses");
    for (int r = 0; r < 200; r++) {
        replay_sample(rb, &rng, 64, 1.0f, b);
        for (int j = 0; j < 64; j++)
            CHECK(b->serial[j] == 2 && isfinite(b->weight[j]), "zero-mass serial %llu sampled",
                  (unsigned long long)b->serial[j]);
    }
    td[2] = 0;
    replay_update_priorities(rb, s, td, 6);
    CHECK(rb->tree[1] == 0.0, "setup: all masses zero");
    CHECK(replay_sample(rb, &rng, 64, 1.0f, b) == REPLAY_OK, "all-zero tree must still sample");
    for (int j = 0; j < 64; j++)
        CHECK(b->serial[j] < 6 && b->weight[j] == 1.0f, "fallback row %d", j);
    replay_batch_destroy(&b);
    replay_destroy(&rb);
}

static void test_bad_sample_args(void)
{
    replay_t *rb = replay_new(8, OD, NA, 1, 0.6f);
    replay_t *other = replay_new(8, OD + 1, NA, 0, 0.0f);
    replay_batch_t *b = rb ? replay_batch_new(rb, 4) : NULL;
    rng_t rng;
    rng_seed(&rng, 1);
    if (!b || !other) {
        CHECK(0, "alloc");
        goto done;
    }
    CHECK(replay_batch_new(rb, 0) == NULL, "max_batch 0 accepted");
    CHECK(replay_sample(rb, &rng, 1, 0.4f, b) == REPLAY_EARG, "sample from empty");
    add_tagged(rb, 2, 0);
    add_tagged(other, 2, 0);
    CHECK(replay_sample(rb, &rng, 5, 0.4f, b) == REPLAY_EARG, "B > max_batch accepted");
    CHECK(replay_sample(rb, &rng, 0, 0.4f, b) == REPLAY_EARG, "B = 0 accepted");
    CHECK(replay_sample(rb, &rng, -3, 0.4f, b) == REPLAY_EARG, "B < 0 accepted");
    CHECK(replay_sample(other, &rng, 2, 0.4f, b) == REPLAY_EARG, "batch of other dims accepted");
    CHECK(replay_sample(rb, &rng, 4, 0.4f, b) == REPLAY_OK && b->B == 4, "B = max_batch");
    CHECK(replay_sample(NULL, &rng, 1, 0.4f, b) == REPLAY_EARG, "NULL buffer");
    CHECK(strlen(replay_strerror(REPLAY_EGONE)) > 0 && strlen(replay_strerror(-99)) > 0, "strerror");
done:
    replay_batch_destroy(&b);
    replay_destroy(&rb);
    replay_destroy(&other);
}

int main(void)
{
    test_bad_sizes();
    test_add_wrap();
    test_teacher();
    test_random_ops();
    test_uniform();
    test_prioritized_freq(4, 4, 1.0f);
    test_prioritized_freq(4, 4, 0.6f);
    test_prioritized_freq(7, 7, 0.6f);   /* padded tree (8 leaves) */
    test_prioritized_freq(13, 5, 1.0f);  /* partly filled */
    test_is_weights();
    test_update_changes_sampling();
    test_zero_priority();
    test_bad_sample_args();
    if (failures) {
        fprintf(stderr, "test_replay: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_replay: all passed\n");
    return 0;
}
