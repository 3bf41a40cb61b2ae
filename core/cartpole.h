/* cartpole.h — Gymnasium CartPole-v1 (and v0), K copies stepped together.
 *
 * Semantics follow gymnasium/envs/classic_control/cartpole.py exactly: Euler
 * integration with tau = 0.02, force ±10 N, float64 internal state and float32
 * observations, termination when |x| > 2.4 or |theta| > 12° (strict), truncation
 * when the steps since reset reach max_episode_steps (500 for v1, 200 for v0; both
 * flags may be set on the same step), reward 1 per step including the terminating
 * one and 0 for any step taken after termination. Reset draws each state variable
 * uniform in [-0.05, 0.05) from the copy's own generator.
 *
 * The state is structure-of-arrays so cartpole_step runs over all copies in one
 * loop without allocating. */
#ifndef KDQN_CARTPOLE_H
#define KDQN_CARTPOLE_H
#include <stddef.h>
#include <stdint.h>
#include "rng.h"

enum { CARTPOLE_OBS_DIM = 4, CARTPOLE_N_ACTIONS = 2 };

typedef enum { CARTPOLE_V0 = 0, CARTPOLE_V1 = 1 } cartpole_version_t;

typedef struct {
    int n;                  /* number of copies */
    int max_episode_steps;  /* 500 (v1) or 200 (v0) */
    double *x, *x_dot, *theta, *theta_dot; /* (n,) float64 state */
    int32_t *elapsed;       /* (n,) steps since reset */
    int32_t *beyond;        /* (n,) steps taken since termination (gym's steps_beyond_terminated) */
    int32_t *ep_return;     /* (n,) reward summed in the running episode */
    rng_t *rng;             /* (n,) one generator per copy */
} cartpole_t;

/* K copies; copy i is seeded with rng_derive(seed, stream, i) (stream = rank or
 * actor id) and reset. Returns NULL when n < 1 or on allocation failure. */
cartpole_t *cartpole_new(int n, cartpole_version_t version, uint64_t seed, uint64_t stream);
/* NULL-safe; sets *env to NULL. */
void cartpole_destroy(cartpole_t **env);

void cartpole_reset_one(cartpole_t *env, int i);
void cartpole_reset_all(cartpole_t *env);
/* Sets copy i's state as Gymnasium's `env.unwrapped.state = s` does: the elapsed
 * step count and termination bookkeeping are left as they are. */
void cartpole_set_state(cartpole_t *env, int i, const double s[4]);
/* obs (n, 4) float32 = (float)state. */
void cartpole_observe(const cartpole_t *env, float *obs);

/* One step of copy i, no auto-reset (gym semantics, used by kdqn-cartpole and
 * the reference tests). action must be 0 or 1; returns -1 otherwise, else 0. */
int cartpole_step_one(cartpole_t *env, int i, int action, double *reward, int *terminated,
                      int *truncated);

/* Vector step with auto-reset, for actors and evaluation. For every copy i:
 *   next_obs[i]  (n,4): the observation the step produced (the final one if the episode ended)
 *   reward[i], terminated[i], truncated[i]
 *   obs[i]       (n,4): the observation to act on next: next_obs, or the fresh reset
 *                observation if the episode ended (so the caller keeps no state)
 *   ep_return[i] (n,) optional (may be NULL): the finished episode's return where an
 *                episode ended this step, else -1.
 * actions must be 0 or 1: any other value makes it return -1 having stepped nothing.
 * Returns the number of episodes that ended, or -1 on a bad action. Never allocates. */
int cartpole_step(cartpole_t *env, const int32_t *actions, float *next_obs, float *reward,
                  uint8_t *terminated, uint8_t *truncated, float *obs, int32_t *ep_return);

#endif
