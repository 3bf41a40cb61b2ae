/* replay.c — fixed-capacity replay buffer (structure of arrays) with uniform or
 * proportional prioritised sampling.
 *
 * Serials: transition k (0-based, in insertion order) lives in slot k % capacity.
 * The buffer holds serials [next_serial - size, next_serial).
 *
 * Priorities (prioritized only): tree is a sum-tree over `leaves` leaves (a power
 * of two >= capacity), tree[1] is the root, leaf of slot s is tree[leaves + s],
 * and every internal node is recomputed as left + right on each update (never
 * updated by deltas, so no drift). A leaf holds priority^alpha; empty slots and
 * padding leaves hold 0. rb->max_priority is the largest priority^alpha ever
 * stored (initially 1) and is what new transitions get.
 *
 * Sampling (Schaul et al. 2016, Ape-X): the total mass is split into B equal
 * segments and one point is drawn uniformly in each; the descent never enters a
 * child of zero mass, so a draw that rounds onto the total mass, or onto the edge
 * of a zero-priority leaf, still lands on a held transition of positive priority.
 * IS weights: w_i = (N * P(i))^-beta normalised by the largest w in the *batch*
 * (i.e. by the smallest P(i) sampled), so every weight is in (0, 1] and the
 * largest is exactly 1. N is the number of transitions held.
 *
 * A batch records the max_batch and dims replay_batch_new sized it for;
 * replay_sample checks them before writing. */
#include "replay.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *replay_strerror(int err)
{
    switch (err) {
    case REPLAY_OK: return "ok";
    case REPLAY_EARG: return "bad replay argument (sizes, batch too large, or empty buffer)";
    case REPLAY_ENOMEM: return "out of memory";
    case REPLAY_EGONE: return "transition no longer (or not yet) in the replay buffer";
    default: return "unknown replay error";
    }
}

/* a * b without overflow into *out; 0 on overflow. */
static int mul_ok(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

replay_t *replay_new(size_t capacity, int obs_dim, int n_actions, int prioritized, float alpha)
{
    replay_t *rb = NULL;
    size_t n_obs, n_q, n_tree;
    if (capacity == 0 || capacity > UINT32_MAX || obs_dim < 1 || n_actions < 1)
        return NULL;
    if (prioritized && !(alpha >= 0.0f && isfinite(alpha)))
        return NULL;
    if (!mul_ok(capacity, (size_t)obs_dim, &n_obs) || !mul_ok(capacity, (size_t)n_actions, &n_q))
        return NULL;
    rb = calloc(1, sizeof *rb);
    if (!rb)
        return NULL;
    rb->capacity = capacity;
    rb->obs_dim = obs_dim;
    rb->n_actions = n_actions;
    rb->prioritized = prioritized ? 1 : 0;
    rb->alpha = alpha;
    rb->eps = 1e-6f;
    rb->max_priority = 1.0f;
    rb->obs = calloc(n_obs, sizeof(float));
    rb->next_obs = calloc(n_obs, sizeof(float));
    rb->action = calloc(capacity, sizeof(int32_t));
    rb->reward = calloc(capacity, sizeof(float));
    rb->discount = calloc(capacity, sizeof(float));
    rb->teacher_q = calloc(n_q, sizeof(float));
    rb->has_teacher = calloc(capacity, 1);
    if (!rb->obs || !rb->next_obs || !rb->action || !rb->reward || !rb->discount ||
        !rb->teacher_q || !rb->has_teacher)
        goto fail;
    if (rb->prioritized) {
        size_t leaves = 1;
        while (leaves < capacity)
            leaves <<= 1;
        if (!mul_ok(leaves, 2, &n_tree))
            goto fail;
        rb->leaves = leaves;
        rb->tree = calloc(n_tree, sizeof(double));
        if (!rb->tree)
            goto fail;
    }
    return rb;
fail:
    replay_destroy(&rb);
    return NULL;
}

void replay_destroy(replay_t **rbp)
{
    if (!rbp || !*rbp)
        return;
    replay_t *rb = *rbp;
    free(rb->obs);
    free(rb->next_obs);
    free(rb->action);
    free(rb->reward);
    free(rb->discount);
    free(rb->teacher_q);
    free(rb->has_teacher);
    free(rb->tree);
    free(rb);
    *rbp = NULL;
}

/* Returns NULL on a NULL buffer, max_batch < 1 or no memory. */
replay_batch_t *replay_batch_new(const replay_t *rb, int max_batch)
{
    if (!rb || max_batch < 1)
        return NULL;
    replay_batch_t *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    size_t B = (size_t)max_batch;
    b->max_batch = max_batch;
    b->obs_dim = rb->obs_dim;
    b->n_actions = rb->n_actions;
    b->obs = calloc(B * (size_t)rb->obs_dim, sizeof(float));
    b->next_obs = calloc(B * (size_t)rb->obs_dim, sizeof(float));
    b->action = calloc(B, sizeof(int32_t));
    b->reward = calloc(B, sizeof(float));
    b->discount = calloc(B, sizeof(float));
    b->teacher_q = calloc(B * (size_t)rb->n_actions, sizeof(float));
    b->has_teacher = calloc(B, 1);
    b->weight = calloc(B, sizeof(float));
    b->serial = calloc(B, sizeof(uint64_t));
    if (!b->obs || !b->next_obs || !b->action || !b->reward || !b->discount || !b->teacher_q ||
        !b->has_teacher || !b->weight || !b->serial)
        goto fail;
    return b;
fail:
    replay_batch_destroy(&b);
    return NULL;
}

void replay_batch_destroy(replay_batch_t **bp)
{
    if (!bp || !*bp)
        return;
    replay_batch_t *b = *bp;
    free(b->obs);
    free(b->next_obs);
    free(b->action);
    free(b->reward);
    free(b->discount);
    free(b->teacher_q);
    free(b->has_teacher);
    free(b->weight);
    free(b->serial);
    free(b);
    *bp = NULL;
}

/* Sets leaf `slot` to v and recomputes its ancestors from their children. */
static void tree_set(replay_t *rb, size_t slot, double v)
{
    size_t i = rb->leaves + slot;
    rb->tree[i] = v;
    for (i >>= 1; i >= 1; i >>= 1)
        rb->tree[i] = rb->tree[2 * i] + rb->tree[2 * i + 1];
}

/* The slot whose prefix-sum interval contains u (0 <= u, clamped below the total).
 * Never enters a zero-mass child, so the leaf found has positive mass whenever the
 * root does. */
static size_t tree_find(const replay_t *rb, double u)
{
    size_t i = 1;
    while (i < rb->leaves) {
        double left = rb->tree[2 * i];
        double right = rb->tree[2 * i + 1];
        if ((u < left && left > 0.0) || right <= 0.0) {
            i = 2 * i;
        } else {
            u -= left;
            if (u < 0.0)
                u = 0.0;
            i = 2 * i + 1;
        }
    }
    return i - rb->leaves;
}

static int serial_present(const replay_t *rb, uint64_t serial)
{
    return serial < rb->next_serial && rb->next_serial - serial <= rb->size;
}

/* The serial of the transition held in `slot` (slot < size). */
static uint64_t slot_serial(const replay_t *rb, size_t slot)
{
    uint64_t oldest = rb->next_serial - rb->size;
    uint64_t cap = rb->capacity;
    uint64_t off = (slot + cap - oldest % cap) % cap;
    return oldest + off;
}

/* Caller misuse (NULL buffer or required array, n < 0) adds nothing and returns
 * next_serial (0 for a NULL buffer). n > capacity is allowed: every row gets a
 * serial, only the last capacity rows remain. */
uint64_t replay_add(replay_t *rb, int n, const float *obs, const int32_t *action,
                    const float *reward, const float *next_obs, const float *discount,
                    const float *teacher_q)
{
    if (!rb)
        return 0;
    uint64_t first = rb->next_serial;
    if (n <= 0 || !obs || !action || !reward || !next_obs || !discount)
        return first;
    size_t od = (size_t)rb->obs_dim, na = (size_t)rb->n_actions;
    size_t start = (size_t)n > rb->capacity ? (size_t)n - rb->capacity : 0;
    for (size_t r = start; r < (size_t)n; r++) {
        uint64_t serial = first + r;
        size_t slot = (size_t)(serial % rb->capacity);
        memcpy(rb->obs + slot * od, obs + r * od, od * sizeof(float));
        memcpy(rb->next_obs + slot * od, next_obs + r * od, od * sizeof(float));
        rb->action[slot] = action[r];
        rb->reward[slot] = reward[r];
        rb->discount[slot] = discount[r];
        if (rb->has_teacher[slot])
            rb->with_teacher--;
        if (teacher_q) {
            memcpy(rb->teacher_q + slot * na, teacher_q + r * na, na * sizeof(float));
            rb->has_teacher[slot] = 1;
            rb->with_teacher++;
        } else {
            memset(rb->teacher_q + slot * na, 0, na * sizeof(float));
            rb->has_teacher[slot] = 0;
        }
        if (rb->prioritized)
            tree_set(rb, slot, (double)rb->max_priority);
    }
    rb->next_serial = first + (uint64_t)n;
    rb->size = rb->size + (size_t)n > rb->capacity ? rb->capacity : rb->size + (size_t)n;
    return first;
}

/* REPLAY_EGONE if the serial is not held; REPLAY_EARG on NULL arguments. Setting
 * it twice overwrites the values and counts the transition once. */
int replay_set_teacher(replay_t *rb, uint64_t serial, const float *q)
{
    if (!rb || !q)
        return REPLAY_EARG;
    if (!serial_present(rb, serial))
        return REPLAY_EGONE;
    size_t slot = (size_t)(serial % rb->capacity);
    size_t na = (size_t)rb->n_actions;
    memcpy(rb->teacher_q + slot * na, q, na * sizeof(float));
    if (!rb->has_teacher[slot]) {
        rb->has_teacher[slot] = 1;
        rb->with_teacher++;
    }
    return REPLAY_OK;
}

static void copy_row(const replay_t *rb, size_t slot, replay_batch_t *out, int j)
{
    size_t od = (size_t)rb->obs_dim, na = (size_t)rb->n_actions, jj = (size_t)j;
    memcpy(out->obs + jj * od, rb->obs + slot * od, od * sizeof(float));
    memcpy(out->next_obs + jj * od, rb->next_obs + slot * od, od * sizeof(float));
    out->action[j] = rb->action[slot];
    out->reward[j] = rb->reward[slot];
    out->discount[j] = rb->discount[slot];
    memcpy(out->teacher_q + jj * na, rb->teacher_q + slot * na, na * sizeof(float));
    out->has_teacher[j] = rb->has_teacher[slot];
    out->serial[j] = slot_serial(rb, slot);
}

/* With replacement. REPLAY_EARG if the buffer is empty, B < 1, B > the batch's
 * max_batch, or the batch was sized for other dims; out is then unchanged. A
 * prioritized buffer whose total mass is not positive and finite (cannot happen
 * through this API unless every priority underflows) falls back to uniform. */
int replay_sample(replay_t *rb, rng_t *rng, int B, float beta, replay_batch_t *out)
{
    if (!rb || !rng || !out || rb->size == 0 || B < 1)
        return REPLAY_EARG;
    if (B > out->max_batch || out->obs_dim != rb->obs_dim || out->n_actions != rb->n_actions)
        return REPLAY_EARG;
    double total = rb->prioritized ? rb->tree[1] : 0.0;
    out->B = B;
    if (!rb->prioritized || !(total > 0.0) || !isfinite(total)) {
        for (int j = 0; j < B; j++) {
            copy_row(rb, rng_below(rng, (uint32_t)rb->size), out, j);
            out->weight[j] = 1.0f;
        }
        return REPLAY_OK;
    }
    /* (N P_j)^-beta / max_k (N P_k)^-beta = (m_min / m_j)^beta with m the leaf
     * masses: no N, no total, no overflow for tiny probabilities. */
    double seg = total / B;
    double below_total = nextafter(total, 0.0);
    double m_min = INFINITY;
    for (int j = 0; j < B; j++) {
        double u = (j + rng_uniform(rng)) * seg;
        if (u >= total)
            u = below_total;
        size_t slot = tree_find(rb, u);
        copy_row(rb, slot, out, j);
        if (rb->tree[rb->leaves + slot] < m_min)
            m_min = rb->tree[rb->leaves + slot];
    }
    for (int j = 0; j < B; j++) {
        double m = rb->tree[rb->leaves + (size_t)(out->serial[j] % rb->capacity)];
        out->weight[j] = beta == 0.0f ? 1.0f : (float)pow(m_min / m, (double)beta);
    }
    return REPLAY_OK;
}

/* priority^alpha = (|td| + eps)^alpha for each serial still held; serials no
 * longer (or not yet) held and non-finite td errors are ignored. No-op for a
 * uniform buffer. */
void replay_update_priorities(replay_t *rb, const uint64_t *serial, const float *td_error, int B)
{
    if (!rb || !rb->prioritized || !serial || !td_error)
        return;
    for (int j = 0; j < B; j++) {
        if (!serial_present(rb, serial[j]) || !isfinite(td_error[j]))
            continue;
        double p = pow(fabs((double)td_error[j]) + (double)rb->eps, (double)rb->alpha);
        if (!isfinite(p) || p > (double)FLT_MAX)
            p = (double)FLT_MAX;
        tree_set(rb, (size_t)(serial[j] % rb->capacity), p);
        if ((float)p > rb->max_priority)
            rb->max_priority = (float)p;
    }
}
