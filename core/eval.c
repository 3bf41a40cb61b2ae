#include "eval.h"

#include <math.h>
#include <stdlib.h>

int eval_greedy(const mlp_arch_t *arch, const float *params, int episodes, cartpole_version_t version,
                uint64_t seed, eval_result_t *out)
{
    if (episodes < 1 || arch->sizes[0] != CARTPOLE_OBS_DIM || arch->sizes[arch->n_layers] != CARTPOLE_N_ACTIONS)
        return -1;
    const int K = episodes, D = CARTPOLE_OBS_DIM, A = CARTPOLE_N_ACTIONS;
    int rc = -1;
    cartpole_t *env = cartpole_new(K, version, seed, 0x6576616cULL /* "eval" stream */);
    float *obs = malloc(sizeof(float) * K * D), *next = malloc(sizeof(float) * K * D);
    float *q = malloc(sizeof(float) * K * A), *rew = malloc(sizeof(float) * K);
    float *scratch = malloc(sizeof(float) * mlp_infer_scratch(arch, K));
    int32_t *act = malloc(sizeof(int32_t) * K), *ret = malloc(sizeof(int32_t) * K);
    uint8_t *term = malloc(K), *trunc = malloc(K), *done = calloc(K, 1);
    double *returns = malloc(sizeof(double) * K);
    if (!env || !obs || !next || !q || !rew || !scratch || !act || !ret || !term || !trunc || !done || !returns)
        goto out;
    cartpole_observe(env, obs);
    int finished = 0;
    int64_t steps = 0;
    while (finished < K) {
        mlp_infer(arch, params, obs, K, q, scratch);
        mlp_argmax(q, K, A, act);
        cartpole_step(env, act, next, rew, term, trunc, obs, ret);
        steps += K - finished;
        for (int i = 0; i < K; i++)
            if (!done[i] && ret[i] >= 0) {
                done[i] = 1;
                returns[i] = ret[i];
                finished++;
            }
    }
    double sum = 0, sq = 0, mn = INFINITY, mx = -INFINITY;
    for (int i = 0; i < K; i++) {
        sum += returns[i];
        mn = fmin(mn, returns[i]);
        mx = fmax(mx, returns[i]);
    }
    double mean = sum / K;
    for (int i = 0; i < K; i++)
        sq += (returns[i] - mean) * (returns[i] - mean);
    out->episodes = K;
    out->mean = mean;
    out->std = sqrt(sq / K);
    out->min = mn;
    out->max = mx;
    out->env_steps = steps;
    rc = 0;
out:
    cartpole_destroy(&env);
    free(obs); free(next); free(q); free(rew); free(scratch);
    free(act); free(ret); free(term); free(trunc); free(done); free(returns);
    return rc;
}
