/* dqn.h — the learner's training core: Double DQN with a target network,
 * Huber/MSE TD loss, an optional distillation loss against stored teacher
 * Q-values, Adam, gradient clipping, uniform or prioritised replay.
 *
 * One dqn_update is one gradient step on one sampled batch. Everything is
 * allocated in dqn_new; updates never allocate. */
#ifndef KDQN_DQN_H
#define KDQN_DQN_H
#include <stdint.h>
#include "loss.h"
#include "mlp.h"
#include "replay.h"
#include "rng.h"

typedef struct {
    mlp_arch_t arch;
    float gamma;              /* per-step discount (the n-step discount is stored per transition) */
    float lr, adam_eps;
    int batch_size;
    int64_t buffer_size;
    int64_t learning_starts;  /* transitions in replay before the first update */
    int target_update;        /* hard copy every this many updates (used when tau == 0) */
    float tau;                /* Polyak factor per update; 0 = hard copies */
    float max_grad_norm;      /* 0 = no clipping */
    loss_td_kind_t td_loss;
    float td_weight;          /* 0 = pure distillation */
    loss_kd_kind_t kd_loss;
    float kd_alpha;           /* distillation weight at update 0 ... */
    float kd_alpha_end;       /* ... decaying linearly to this ... */
    int64_t kd_alpha_updates; /* ... over this many updates (0 = constant kd_alpha) */
    float temperature;
    int prioritized;
    float per_alpha, per_beta0;
    int64_t per_beta_updates; /* beta anneals from per_beta0 to 1 over this many updates */
    uint64_t seed;
} dqn_config_t;

/* Defaults that solve CartPole-v1 with a 4-64-64-2 net (see tests/test_learn_local.c). */
void dqn_config_default(dqn_config_t *cfg);

typedef struct {
    float td_loss, kd_loss, grad_norm, kd_alpha;
    int with_teacher;         /* rows of the batch that carried teacher Q-values */
} dqn_stats_t;

typedef struct {
    dqn_config_t cfg;
    mlp_t *online;            /* trained network, forward/backward state for batch_size */
    float *target_params;     /* (n_params) */
    adam_t *adam;
    replay_t *replay;
    replay_batch_t *batch;
    rng_t rng;                /* sampling */
    int64_t updates;
    /* scratch, (B, A) unless noted */
    float *q, *q_next_online, *q_next_target, *dq;
    float *y, *td_error;      /* (B) */
    float *infer_scratch;
} dqn_t;

/* Allocates the online net (initialised from cfg->seed), target copy, Adam and a
 * replay buffer. NULL on a bad config or no memory. */
dqn_t *dqn_new(const dqn_config_t *cfg);
void dqn_destroy(dqn_t **d);
/* 1 when replay holds enough transitions to train. */
int dqn_ready(const dqn_t *d);
/* One gradient step. Returns 0, or a negative replay/mlp error code. */
int dqn_update(dqn_t *d, dqn_stats_t *st);
/* Copies online -> target. */
void dqn_sync_target(dqn_t *d);
/* The distillation weight after `updates` updates under the schedule. */
float dqn_kd_alpha(const dqn_config_t *cfg, int64_t updates);

#endif
