/* nstep.h — n-step return accumulation for K environment copies.
 *
 * Fed one vector step at a time (what cartpole_step returns), it emits finished
 * n-step transitions (obs_t, a_t, R = sum_{k<n} gamma^k r_{t+k}, obs_{t+n},
 * discount) with discount = gamma^n when the transition bootstraps and 0 when
 * the episode terminated inside the window. A truncated episode's tail still
 * bootstraps from its final observation (gamma^k for the k steps it covers).
 * Everything is preallocated; nstep_push never allocates. */
#ifndef KDQN_NSTEP_H
#define KDQN_NSTEP_H
#include <stdint.h>

typedef struct {
    int k, n, obs_dim;
    float gamma;
    float *win_obs;     /* (k, n, obs_dim) ring of observations acted on */
    int32_t *win_act;   /* (k, n) */
    float *win_rew;     /* (k, n) */
    int *head, *count;  /* (k) ring start and fill per copy */
} nstep_t;

/* Output rows; the caller gives arrays with room for nstep_max_out(ns) rows. */
typedef struct {
    int len;
    float *obs, *next_obs; /* (len, obs_dim) */
    int32_t *action;       /* (len) */
    float *reward, *discount;
} nstep_out_t;

/* NULL on bad sizes (k, n < 1, gamma outside [0,1]) or no memory. */
nstep_t *nstep_new(int k, int n, int obs_dim, float gamma);
void nstep_destroy(nstep_t **ns);
/* Most transitions one nstep_push can emit: k * n (every copy ends an episode). */
int nstep_max_out(const nstep_t *ns);
/* Feeds one step of all k copies: obs (k, obs_dim) acted on, actions, rewards,
 * next_obs (k, obs_dim) the step produced, terminated/truncated flags. Appends the
 * transitions that became complete to *out (out->len grows). */
void nstep_push(nstep_t *ns, const float *obs, const int32_t *action, const float *reward,
                const float *next_obs, const uint8_t *terminated, const uint8_t *truncated,
                nstep_out_t *out);

#endif
