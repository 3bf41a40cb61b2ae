/* cartpole.c — Gymnasium CartPole-v1/v0 over K structure-of-arrays copies.
 *
 * Bit-exactness with Gymnasium: every expression below keeps the operation order
 * of gymnasium/envs/classic_control/cartpole.py, so with glibc's sin/cos (which
 * match numpy's on this platform) the float64 state agrees bit-for-bit. That
 * requires the compiler not to fuse a*b+c into an FMA (-march=native enables FMA
 * and GNU C defaults to -ffp-contract=fast), hence the pragma: it is file-local
 * and does not depend on how the build passes flags. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "cartpole.h"

#include <math.h>
#include <stdlib.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Constants computed as gymnasium computes them, not typed in as literals, so a
 * rounding difference in e.g. 0.1 + 1.0 cannot creep in. */
static const double CP_GRAVITY = 9.8;
static const double CP_MASSCART = 1.0;
static const double CP_MASSPOLE = 0.1;
#define CP_TOTAL_MASS (CP_MASSPOLE + CP_MASSCART)
static const double CP_LENGTH = 0.5; /* half the pole's length */
#define CP_POLEMASS_LENGTH (CP_MASSPOLE * CP_LENGTH)
static const double CP_FORCE_MAG = 10.0;
static const double CP_TAU = 0.02;
#define CP_THETA_THRESHOLD (12 * 2 * M_PI / 360)
static const double CP_X_THRESHOLD = 2.4;
static const double CP_RESET_LOW = -0.05;
static const double CP_RESET_HIGH = 0.05;

enum { CP_BEYOND_NONE = -1 }; /* gym's steps_beyond_terminated = None */

cartpole_t *cartpole_new(int n, cartpole_version_t version, uint64_t seed, uint64_t stream)
{
    if (n < 1 || (version != CARTPOLE_V0 && version != CARTPOLE_V1))
        return NULL;
    cartpole_t *env = calloc(1, sizeof *env);
    if (!env)
        return NULL;
    size_t un = (size_t)n;
    env->n = n;
    env->max_episode_steps = version == CARTPOLE_V0 ? 200 : 500;
    env->x = malloc(un * sizeof *env->x);
    env->x_dot = malloc(un * sizeof *env->x_dot);
    env->theta = malloc(un * sizeof *env->theta);
    env->theta_dot = malloc(un * sizeof *env->theta_dot);
    env->elapsed = malloc(un * sizeof *env->elapsed);
    env->beyond = malloc(un * sizeof *env->beyond);
    env->ep_return = malloc(un * sizeof *env->ep_return);
    env->rng = malloc(un * sizeof *env->rng);
    if (!env->x || !env->x_dot || !env->theta || !env->theta_dot || !env->elapsed ||
        !env->beyond || !env->ep_return || !env->rng) {
        cartpole_destroy(&env);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        rng_seed(&env->rng[i], rng_derive(seed, stream, (uint64_t)i));
    cartpole_reset_all(env);
    return env;
}

void cartpole_destroy(cartpole_t **env)
{
    if (!env || !*env)
        return;
    cartpole_t *e = *env;
    free(e->x);
    free(e->x_dot);
    free(e->theta);
    free(e->theta_dot);
    free(e->elapsed);
    free(e->beyond);
    free(e->ep_return);
    free(e->rng);
    free(e);
    *env = NULL;
}

/* numpy's uniform(low, high): low + (high - low) * u, drawn in state order. */
static double cp_uniform(rng_t *r)
{
    return CP_RESET_LOW + (CP_RESET_HIGH - CP_RESET_LOW) * rng_uniform(r);
}

void cartpole_reset_one(cartpole_t *env, int i)
{
    rng_t *r = &env->rng[i];
    env->x[i] = cp_uniform(r);
    env->x_dot[i] = cp_uniform(r);
    env->theta[i] = cp_uniform(r);
    env->theta_dot[i] = cp_uniform(r);
    env->elapsed[i] = 0;
    env->beyond[i] = CP_BEYOND_NONE;
    env->ep_return[i] = 0;
}

void cartpole_reset_all(cartpole_t *env)
{
    for (int i = 0; i < env->n; i++)
        cartpole_reset_one(env, i);
}

void cartpole_set_state(cartpole_t *env, int i, const double s[4])
{
    env->x[i] = s[0];
    env->x_dot[i] = s[1];
    env->theta[i] = s[2];
    env->theta_dot[i] = s[3];
}

__attribute__((always_inline)) static inline void cp_observe_one(const cartpole_t *env, int i, float *o /* (4,) */)
{
    o[0] = (float)env->x[i];
    o[1] = (float)env->x_dot[i];
    o[2] = (float)env->theta[i];
    o[3] = (float)env->theta_dot[i];
}

void cartpole_observe(const cartpole_t *env, float *obs)
{
    for (int i = 0; i < env->n; i++)
        cp_observe_one(env, i, obs + 4 * (size_t)i);
}

/* Euler step of one copy given sin and cos of its theta. Both step paths use it, so
 * they round identically. (Vectorizing it over a block was tried: no faster than
 * this, since the libm sincos call dominates, and much slower for K = 1.) */
__attribute__((always_inline)) static inline void
cp_dynamics(double force, double sintheta, double costheta, double *x, double *x_dot,
            double *theta, double *theta_dot)
{
    const double xv = *x, x_dotv = *x_dot, thetav = *theta, theta_dotv = *theta_dot;
    const double temp =
        (force + CP_POLEMASS_LENGTH * (theta_dotv * theta_dotv) * sintheta) / CP_TOTAL_MASS;
    const double thetaacc =
        (CP_GRAVITY * sintheta - costheta * temp) /
        (CP_LENGTH * (4.0 / 3.0 - CP_MASSPOLE * (costheta * costheta) / CP_TOTAL_MASS));
    const double xacc = temp - CP_POLEMASS_LENGTH * thetaacc * costheta / CP_TOTAL_MASS;
    /* Positions advance with the old velocities. */
    *x = xv + CP_TAU * x_dotv;
    *x_dot = x_dotv + CP_TAU * xacc;
    *theta = thetav + CP_TAU * theta_dotv;
    *theta_dot = theta_dotv + CP_TAU * thetaacc;
}

/* Termination and gym's bookkeeping for copy i after its state advanced. Returns the
 * reward (1, or 0 for a step taken after termination). */
__attribute__((always_inline)) static inline double cp_account(cartpole_t *env, int i,
                                                               int *terminated, int *truncated)
{
    const double x = env->x[i], theta = env->theta[i];
    const int term = x < -CP_X_THRESHOLD || x > CP_X_THRESHOLD || theta < -CP_THETA_THRESHOLD ||
                     theta > CP_THETA_THRESHOLD;
    double reward = 1.0;
    if (__builtin_expect(term, 0)) {
        if (env->beyond[i] == CP_BEYOND_NONE) {
            env->beyond[i] = 0;
        } else {
            env->beyond[i]++;
            reward = 0.0;
        }
    }
    /* TimeLimit counts every step since reset, terminated or not. */
    const int32_t elapsed = ++env->elapsed[i];
    env->ep_return[i] += (int32_t)reward;
    *terminated = term;
    *truncated = elapsed >= env->max_episode_steps;
    return reward;
}

int cartpole_step_one(cartpole_t *env, int i, int action, double *reward, int *terminated,
                      int *truncated)
{
    if (action != 0 && action != 1)
        return -1;
    const double theta = env->theta[i];
    cp_dynamics(action == 1 ? CP_FORCE_MAG : -CP_FORCE_MAG, sin(theta), cos(theta), &env->x[i],
                &env->x_dot[i], &env->theta[i], &env->theta_dot[i]);
    int term, trunc;
    double r = cp_account(env, i, &term, &trunc);
    if (reward)
        *reward = r;
    if (terminated)
        *terminated = term;
    if (truncated)
        *truncated = trunc;
    return 0;
}

/* Copies per block of the vector step: the block's sin/cos live on the stack. */
enum { CP_BLOCK = 64 };

int cartpole_step(cartpole_t *env, const int32_t *actions, float *next_obs, float *reward,
                  uint8_t *terminated, uint8_t *truncated, float *obs, int32_t *ep_return)
{
    const int n = env->n;
    /* Validate first so a bad action leaves every copy untouched. */
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad |= (uint32_t)actions[i] > 1u;
    if (bad)
        return -1;

    int ended = 0;
    for (int i0 = 0; i0 < n; i0 += CP_BLOCK) {
        const int m = n - i0 < CP_BLOCK ? n - i0 : CP_BLOCK;
        double sn[CP_BLOCK], cs[CP_BLOCK]; /* (m,) */
        /* Pass 1: libm sin/cos of every theta in the block (GCC fuses the pair into one
         * sincos call). The calls are independent, so the CPU overlaps them instead of
         * each heading a long dependency chain through the divisions below. */
        for (int j = 0; j < m; j++) {
            const double th = env->theta[i0 + j];
            sn[j] = sin(th);
            cs[j] = cos(th);
        }
        /* Pass 2: the dynamics. */
        for (int j = 0; j < m; j++) {
            const int i = i0 + j;
            cp_dynamics(actions[i] == 1 ? CP_FORCE_MAG : -CP_FORCE_MAG, sn[j], cs[j], &env->x[i],
                        &env->x_dot[i], &env->theta[i], &env->theta_dot[i]);
        }
        /* Pass 3: flags, rewards, observations and auto-reset. */
        for (int j = 0; j < m; j++) {
            const int i = i0 + j;
            int term, trunc;
            const double r = cp_account(env, i, &term, &trunc);
            float *no = next_obs + 4 * (size_t)i; /* (4,) */
            float *o = obs + 4 * (size_t)i;       /* (4,) */
            cp_observe_one(env, i, no);
            reward[i] = (float)r;
            terminated[i] = (uint8_t)term;
            truncated[i] = (uint8_t)trunc;
            if (__builtin_expect(term | trunc, 0)) {
                if (ep_return)
                    ep_return[i] = env->ep_return[i];
                cartpole_reset_one(env, i);
                cp_observe_one(env, i, o);
                ended++;
            } else {
                if (ep_return)
                    ep_return[i] = -1;
                o[0] = no[0];
                o[1] = no[1];
                o[2] = no[2];
                o[3] = no[3];
            }
        }
    }
    return ended;
}
