#include "dqn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void dqn_config_default(dqn_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    mlp_arch_parse(&cfg->arch, "4-64-64-2");
    cfg->gamma = 0.99f;
    cfg->lr = 1e-3f;
    cfg->adam_eps = 1e-8f;  /* Adam's own default; kept explicit for checkpoints */
    cfg->batch_size = 64;
    cfg->buffer_size = 50000;
    cfg->learning_starts = 1000;
    cfg->target_update = 250;
    cfg->tau = 0.0f;
    cfg->max_grad_norm = 10.0f;
    cfg->td_loss = LOSS_TD_HUBER;
    cfg->td_weight = 1.0f;
    cfg->kd_loss = LOSS_KD_KL;
    cfg->kd_alpha = 1.0f;
    cfg->kd_alpha_end = 1.0f;
    cfg->kd_alpha_updates = 0;
    cfg->temperature = 1.0f;
    cfg->prioritized = 0;
    cfg->per_alpha = 0.6f;
    cfg->per_beta0 = 0.4f;
    cfg->per_beta_updates = 20000;
    cfg->seed = 1;
}

float dqn_kd_alpha(const dqn_config_t *cfg, int64_t updates)
{
    if (cfg->kd_alpha_updates <= 0)
        return cfg->kd_alpha;
    double f = (double)updates / (double)cfg->kd_alpha_updates;
    if (f > 1.0)
        f = 1.0;
    return (float)(cfg->kd_alpha + f * (cfg->kd_alpha_end - cfg->kd_alpha));
}

dqn_t *dqn_new(const dqn_config_t *cfg)
{
    if (cfg->batch_size < 1 || cfg->buffer_size < cfg->batch_size || cfg->arch.n_layers < 1 ||
        !(cfg->lr > 0) || !(cfg->gamma >= 0 && cfg->gamma <= 1) || !(cfg->temperature > 0) ||
        cfg->tau < 0 || cfg->tau > 1 || (cfg->tau == 0 && cfg->target_update < 1))
        return NULL;
    dqn_t *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cfg = *cfg;
    const int B = cfg->batch_size, A = cfg->arch.sizes[cfg->arch.n_layers];
    const size_t P = cfg->arch.n_params;
    d->online = mlp_new(&cfg->arch, B);
    d->target_params = malloc(sizeof(float) * P);
    d->adam = adam_new(P, cfg->lr, 0.9f, 0.999f, cfg->adam_eps);
    d->replay = replay_new((size_t)cfg->buffer_size, cfg->arch.sizes[0], A, cfg->prioritized, cfg->per_alpha);
    d->q = malloc(sizeof(float) * B * A);
    d->q_next_online = malloc(sizeof(float) * B * A);
    d->q_next_target = malloc(sizeof(float) * B * A);
    d->dq = malloc(sizeof(float) * B * A);
    d->y = malloc(sizeof(float) * B);
    d->td_error = malloc(sizeof(float) * B);
    d->infer_scratch = malloc(sizeof(float) * mlp_infer_scratch(&cfg->arch, B));
    if (!d->online || !d->target_params || !d->adam || !d->replay || !d->q || !d->q_next_online ||
        !d->q_next_target || !d->dq || !d->y || !d->td_error || !d->infer_scratch) {
        dqn_destroy(&d);
        return NULL;
    }
    d->batch = replay_batch_new(d->replay, B);
    if (!d->batch) {
        dqn_destroy(&d);
        return NULL;
    }
    rng_t init;
    rng_seed(&init, rng_derive(cfg->seed, 0x696e6974ULL /* "init" */, 0));
    mlp_init(d->online, &init);
    rng_seed(&d->rng, rng_derive(cfg->seed, 0x73616d70ULL /* "samp" */, 0));
    dqn_sync_target(d);
    return d;
}

void dqn_destroy(dqn_t **dp)
{
    if (!dp || !*dp)
        return;
    dqn_t *d = *dp;
    mlp_destroy(&d->online);
    adam_destroy(&d->adam);
    replay_batch_destroy(&d->batch);
    replay_destroy(&d->replay);
    free(d->target_params);
    free(d->q);
    free(d->q_next_online);
    free(d->q_next_target);
    free(d->dq);
    free(d->y);
    free(d->td_error);
    free(d->infer_scratch);
    free(d);
    *dp = NULL;
}

int dqn_ready(const dqn_t *d)
{
    return d->replay->size >= (size_t)d->cfg.batch_size &&
           (int64_t)d->replay->size >= d->cfg.learning_starts;
}

void dqn_sync_target(dqn_t *d)
{
    memcpy(d->target_params, d->online->params, sizeof(float) * d->cfg.arch.n_params);
}

int dqn_update(dqn_t *d, dqn_stats_t *st)
{
    const dqn_config_t *c = &d->cfg;
    const int B = c->batch_size, A = c->arch.sizes[c->arch.n_layers];
    float beta = 1.0f;
    if (c->prioritized && c->per_beta_updates > 0) {
        double f = (double)d->updates / (double)c->per_beta_updates;
        beta = (float)(c->per_beta0 + (f > 1 ? 1 : f) * (1.0 - c->per_beta0));
    }
    int rc = replay_sample(d->replay, &d->rng, B, beta, d->batch);
    if (rc != REPLAY_OK)
        return rc;
    replay_batch_t *b = d->batch;

    /* Double DQN target: online net picks the next action, target net values it */
    mlp_infer(&c->arch, d->online->params, b->next_obs, B, d->q_next_online, d->infer_scratch);
    mlp_infer(&c->arch, d->target_params, b->next_obs, B, d->q_next_target, d->infer_scratch);
    loss_double_dqn_target(d->q_next_online, d->q_next_target, b->reward, b->discount, B, A, d->y);

    rc = mlp_forward(d->online, b->obs, B, d->q);
    if (rc != MLP_OK)
        return rc;
    memset(d->dq, 0, sizeof(float) * B * A);
    float td = loss_td(c->td_loss, d->q, b->action, d->y, c->prioritized ? b->weight : NULL, B, A,
                       c->td_weight, d->dq, d->td_error);
    float alpha = dqn_kd_alpha(c, d->updates);
    float kd = 0.0f;
    int with_teacher = 0;
    for (int i = 0; i < B; i++)
        with_teacher += b->has_teacher[i] != 0;
    if (alpha > 0 && with_teacher > 0)
        kd = loss_kd(c->kd_loss, d->q, b->teacher_q, b->has_teacher, B, A, c->temperature, alpha, d->dq);

    mlp_zero_grad(d->online);
    rc = mlp_backward(d->online, d->dq, B);
    if (rc != MLP_OK)
        return rc;
    float norm = mlp_clip_grad_norm(d->online->grads, c->arch.n_params, c->max_grad_norm);
    adam_step(d->adam, d->online->params, d->online->grads);
    if (c->prioritized)
        replay_update_priorities(d->replay, b->serial, d->td_error, B);
    d->updates++;

    if (c->tau > 0) {
        const float t = c->tau;
        float *tp = d->target_params;
        const float *op = d->online->params;
        for (size_t i = 0; i < c->arch.n_params; i++)
            tp[i] += t * (op[i] - tp[i]);
    } else if (d->updates % c->target_update == 0) {
        dqn_sync_target(d);
    }
    if (st) {
        st->td_loss = td;
        st->kd_loss = kd;
        st->grad_norm = norm;
        st->kd_alpha = alpha;
        st->with_teacher = with_teacher;
    }
    return 0;
}
