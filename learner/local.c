#include "local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "log.h"
#include "nstep.h"

void local_opts_default(local_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->envs = 8;
    o->n_step = 3;
    o->eps_start = 1.0f;
    o->eps_end = 0.02f;
    o->eps_steps = 20000;
    o->replay_ratio = 32.0f;
    o->max_env_steps = 100000;
    o->max_seconds = 0;
    o->eval_interval = 2000;
    o->eval_episodes = 100;
    o->target_return = 475.0;
    o->version = CARTPOLE_V1;
}

int local_train(dqn_t *d, const local_opts_t *o, local_result_t *res)
{
    const dqn_config_t *c = &d->cfg;
    const int K = o->envs, D = CARTPOLE_OBS_DIM, A = CARTPOLE_N_ACTIONS;
    if (K < 1 || c->arch.sizes[0] != D || c->arch.sizes[c->arch.n_layers] != A || o->eval_episodes < 1)
        return -1;
    int rc = -2;
    memset(res, 0, sizeof *res);
    res->env_steps_to_target = -1;
    res->seconds_to_target = -1;
    res->best_eval_mean = -1;

    cartpole_t *env = cartpole_new(K, o->version, c->seed, 0x6c6f63ULL /* "loc" */);
    nstep_t *ns = nstep_new(K, o->n_step, D, c->gamma);
    int max_out = ns ? nstep_max_out(ns) : 0;
    float *obs = malloc(sizeof(float) * K * D), *next = malloc(sizeof(float) * K * D);
    float *acted = malloc(sizeof(float) * K * D), *rew = malloc(sizeof(float) * K);
    float *q = malloc(sizeof(float) * K * A);
    float *scratch = malloc(sizeof(float) * mlp_infer_scratch(&c->arch, K));
    int32_t *act = malloc(sizeof(int32_t) * K), *ret = malloc(sizeof(int32_t) * K);
    uint8_t *term = malloc(K), *trunc = malloc(K);
    nstep_out_t out = {0};
    out.obs = malloc(sizeof(float) * max_out * D);
    out.next_obs = malloc(sizeof(float) * max_out * D);
    out.action = malloc(sizeof(int32_t) * max_out);
    out.reward = malloc(sizeof(float) * max_out);
    out.discount = malloc(sizeof(float) * max_out);
    int tA = o->teacher_arch ? o->teacher_arch->sizes[o->teacher_arch->n_layers] : 0;
    float *tq = o->teacher_arch ? malloc(sizeof(float) * max_out * tA) : NULL;
    float *tscratch = o->teacher_arch ? malloc(sizeof(float) * mlp_infer_scratch(o->teacher_arch, max_out)) : NULL;
    if (!env || !ns || !obs || !next || !acted || !rew || !q || !scratch || !act || !ret || !term ||
        !trunc || !out.obs || !out.next_obs || !out.action || !out.reward || !out.discount ||
        (o->teacher_arch && (!tq || !tscratch || tA != A)))
        goto done;

    rng_t rng;
    rng_seed(&rng, rng_derive(c->seed, 0x65707367ULL /* "epsg" */, 0));
    cartpole_observe(env, obs);
    double t0 = log_now();
    double credit = 0.0;  /* updates owed under the replay ratio */
    int64_t next_eval = o->eval_interval;
    for (;;) {
        /* epsilon-greedy over one batched forward */
        double frac = o->eps_steps > 0 ? (double)res->env_steps / (double)o->eps_steps : 1.0;
        float eps = frac >= 1.0 ? o->eps_end : (float)(o->eps_start + frac * (o->eps_end - o->eps_start));
        mlp_infer(&c->arch, d->online->params, obs, K, q, scratch);
        mlp_argmax(q, K, A, act);
        for (int i = 0; i < K; i++)
            if (rng_uniformf(&rng) < eps)
                act[i] = (int32_t)rng_below(&rng, A);
        memcpy(acted, obs, sizeof(float) * K * D);
        cartpole_step(env, act, next, rew, term, trunc, obs, ret);
        res->env_steps += K;
        out.len = 0;
        nstep_push(ns, acted, act, rew, next, term, trunc, &out);
        if (out.len > 0) {
            if (tq)
                mlp_infer(o->teacher_arch, o->teacher_params, out.obs, out.len, tq, tscratch);
            replay_add(d->replay, out.len, out.obs, out.action, out.reward, out.next_obs, out.discount, tq);
            if (dqn_ready(d))
                credit += (double)out.len * o->replay_ratio / c->batch_size;
        }
        while (credit >= 1.0) {
            if (dqn_update(d, NULL) != 0)
                goto done;
            res->updates++;
            credit -= 1.0;
        }
        double now = log_now() - t0;
        if (res->env_steps >= next_eval) {
            next_eval += o->eval_interval;
            eval_result_t ev;
            if (eval_greedy(&c->arch, d->online->params, o->eval_episodes, o->version,
                            rng_derive(c->seed, 0x6576ULL, (uint64_t)res->evaluations), &ev) != 0)
                goto done;
            res->evaluations++;
            res->last_eval_mean = ev.mean;
            res->last_eval_std = ev.std;
            if (ev.mean > res->best_eval_mean)
                res->best_eval_mean = ev.mean;
            if (o->verbose)
                LOG_INFO("env steps %lld  updates %lld  eps %.3f  greedy return %.1f ± %.1f  %.1f s",
                         (long long)res->env_steps, (long long)res->updates, eps, ev.mean, ev.std, now);
            if (ev.mean >= o->target_return) {
                res->solved = 1;
                res->env_steps_to_target = res->env_steps;
                res->seconds_to_target = log_now() - t0;
                break;
            }
        }
        if (res->env_steps >= o->max_env_steps || (o->max_seconds > 0 && now >= o->max_seconds))
            break;
    }
    res->seconds = log_now() - t0;
    rc = 0;
done:
    cartpole_destroy(&env);
    nstep_destroy(&ns);
    free(obs); free(next); free(acted); free(rew); free(q); free(scratch);
    free(act); free(ret); free(term); free(trunc);
    free(out.obs); free(out.next_obs); free(out.action); free(out.reward); free(out.discount);
    free(tq); free(tscratch);
    return rc;
}
