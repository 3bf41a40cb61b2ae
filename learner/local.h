/* local.h — the learner core driven in-process: K local CartPole copies,
 * epsilon-greedy acting, n-step transitions into replay, dqn_update at a fixed
 * replay ratio, periodic greedy evaluation. Proves the math learns before
 * anything is distributed, and gives the distributed learner its loop shape. */
#ifndef KDQN_LOCAL_H
#define KDQN_LOCAL_H
#include <stdint.h>
#include "cartpole.h"
#include "dqn.h"

typedef struct {
    int envs;                 /* K copies stepped together */
    int n_step;
    float eps_start, eps_end;
    int64_t eps_steps;        /* env steps over which epsilon decays linearly */
    float replay_ratio;       /* transitions sampled per transition ingested */
    int64_t max_env_steps;
    double max_seconds;       /* 0 = no limit */
    int64_t eval_interval;    /* env steps between evaluations */
    int eval_episodes;
    double target_return;     /* stop when the greedy mean reaches it */
    cartpole_version_t version;
    /* optional in-process teacher: raw Q-values stored at ingest */
    const mlp_arch_t *teacher_arch;
    const float *teacher_params;
    int verbose;              /* 1: a progress line per evaluation on stderr */
} local_opts_t;

void local_opts_default(local_opts_t *o);

typedef struct {
    int solved;
    int64_t env_steps, updates;
    int64_t env_steps_to_target; /* -1 if not reached */
    double seconds, seconds_to_target;
    double last_eval_mean, last_eval_std, best_eval_mean;
    int evaluations;
} local_result_t;

/* Trains d until the target, the step budget or the time budget. Returns 0, or a
 * negative code on a bad option or no memory. */
int local_train(dqn_t *d, const local_opts_t *o, local_result_t *res);

#endif
