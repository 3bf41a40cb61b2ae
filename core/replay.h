/* replay.h — fixed-capacity replay buffer, structure of arrays, uniform or
 * prioritised sampling (Schaul et al. 2016 proportional variant, sum-tree, as in
 * Ape-X). Nothing is allocated after replay_new.
 *
 * Each stored transition has a serial number (0, 1, 2, ... in insertion order);
 * slot = serial % capacity. Teacher answers arrive asynchronously and are
 * attached by serial, so an answer for a transition that has since been
 * overwritten is recognised and dropped. */
#ifndef KDQN_REPLAY_H
#define KDQN_REPLAY_H
#include <stddef.h>
#include <stdint.h>
#include "rng.h"

enum {
    REPLAY_OK = 0,
    REPLAY_EARG = -1,     /* bad argument (sizes, batch > capacity, empty buffer) */
    REPLAY_ENOMEM = -2,
    REPLAY_EGONE = -3,    /* serial no longer (or not yet) in the buffer */
};
const char *replay_strerror(int err);

typedef struct {
    size_t capacity;
    int obs_dim, n_actions;
    int prioritized;
    float alpha;           /* priority exponent */
    float eps;             /* added to |td error| (1e-6) */
    float max_priority;    /* new transitions get this (priority^alpha stored in the tree) */
    uint64_t next_serial;  /* serial of the next transition added */
    size_t size;           /* transitions held, <= capacity */
    uint64_t with_teacher; /* transitions currently held whose teacher Q-values are present */
    float *obs;            /* (capacity, obs_dim) */
    float *next_obs;       /* (capacity, obs_dim) */
    int32_t *action;       /* (capacity) */
    float *reward;         /* (capacity) n-step discounted return */
    float *discount;       /* (capacity) gamma^n if it bootstraps, 0 if terminated */
    float *teacher_q;      /* (capacity, n_actions) raw teacher Q-values */
    uint8_t *has_teacher;  /* (capacity) */
    double *tree;          /* (2 * leaves) sum-tree over priority^alpha, prioritized only */
    size_t leaves;         /* power of two >= capacity */
} replay_t;

/* A sampled batch, made by replay_batch_new (which sizes the arrays and records
 * the capacity and dims replay_sample checks). */
typedef struct {
    int B;
    int max_batch, obs_dim, n_actions; /* what the arrays were sized for */
    float *obs, *next_obs;   /* (B, obs_dim) */
    int32_t *action;         /* (B) */
    float *reward, *discount;/* (B) */
    float *teacher_q;        /* (B, n_actions) */
    uint8_t *has_teacher;    /* (B) */
    float *weight;           /* (B) importance-sampling weights, max-normalised; 1 if uniform */
    uint64_t *serial;        /* (B) for replay_update_priorities */
} replay_batch_t;

/* Returns NULL on bad sizes (capacity 0, obs_dim or n_actions < 1) or no memory. */
replay_t *replay_new(size_t capacity, int obs_dim, int n_actions, int prioritized, float alpha);
void replay_destroy(replay_t **rb);
replay_batch_t *replay_batch_new(const replay_t *rb, int max_batch);
void replay_batch_destroy(replay_batch_t **b);

/* Appends n transitions (arrays laid out as in replay_t, n rows each); teacher_q
 * (n, n_actions) may be NULL (no teacher answer yet). Oldest are overwritten.
 * Returns the serial of the first one added. */
uint64_t replay_add(replay_t *rb, int n, const float *obs, const int32_t *action,
                    const float *reward, const float *next_obs, const float *discount,
                    const float *teacher_q);
/* Attaches teacher Q-values (n_actions floats) to the transition with this serial.
 * REPLAY_EGONE if it was overwritten or never added. */
int replay_set_teacher(replay_t *rb, uint64_t serial, const float *q);

/* Samples B transitions (uniform, or proportional to priority with IS weights
 * (N * P(i))^-beta / max). REPLAY_EARG if the buffer is empty or B > max. */
int replay_sample(replay_t *rb, rng_t *rng, int B, float beta, replay_batch_t *out);
/* priority = |td_error| + eps for each sampled serial still present (others ignored). */
void replay_update_priorities(replay_t *rb, const uint64_t *serial, const float *td_error, int B);

#endif
