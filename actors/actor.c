/* actor.c — the actor loop; see actor.h for the contract. */
#include "actor.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"
#include "mlp.h"
#include "nstep.h"
#include "proto.h"
#include "rng.h"
#include "secure.h"

enum { OBS_DIM = CARTPOLE_OBS_DIM, N_ACTIONS = CARTPOLE_N_ACTIONS };
enum { RECENT_EPISODES = 100 };
/* Internal, positive: a stop arrived while waiting to send. */
enum { SEND_STOPPED = 1, SEND_DROPPED = 2 };

struct actor {
    actor_config_t cfg;
    void *zctx;
    int own_ctx;
    void *push, *sub;
    char host[PROTO_MAX_STR + 1];
    const volatile sig_atomic_t *stop_flag;

    cartpole_t *env;
    nstep_t *ns;
    rng_t rng;                  /* exploration; the copies have their own */

    /* one vector step, all (K, ...) */
    float *obs;                 /* (K, 4) observations acted on */
    float *obs_next;            /* (K, 4) cartpole_step's "act on next" output */
    float *step_obs;            /* (K, 4) observation each step produced */
    float *reward;              /* (K) */
    uint8_t *term, *trunc;      /* (K) */
    int32_t *ep_ret;            /* (K) finished episode's return or -1 */
    int32_t *ep_len;            /* (K) steps in the running episode */
    int32_t *actions;           /* (K) */
    float *q;                   /* (K, 2) */

    /* the local copy of the learner's weights */
    int have_weights;
    mlp_arch_t arch;
    float *params;              /* (params_cap) the first arch.n_params are live */
    size_t params_cap;
    float *scratch;             /* (scratch_cap) for mlp_infer over K rows */
    size_t scratch_cap;

    /* pending transitions: (cap_rows) rows; a batch goes out at send_batch */
    int cap_rows, fill;
    float *b_obs, *b_next;      /* (cap_rows, 4) */
    int32_t *b_act;             /* (cap_rows) */
    float *b_rew, *b_disc;      /* (cap_rows) */
    uint64_t *b_ver;            /* (cap_rows) policy version that chose b_act */

    /* mirror of nstep's per-copy window, holding the acting policy version */
    uint64_t *vring;            /* (K, n_step) */
    int *vhead, *vcount;        /* (K) */

    /* episodes finished since the last batch */
    int ep_cap, ep_fill;
    float *e_ret;               /* (ep_cap) */
    int32_t *e_len;             /* (ep_cap) */

    float recent[RECENT_EPISODES];
    int recent_n, recent_pos;

    proto_buf_t buf;
    actor_stats_t st;
    double last_learner;        /* log_now() of the last sign of life on SUB */
    int warned_mirror;
};

/* ---- configuration ------------------------------------------------------ */

void actor_config_default(actor_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->n_envs = ACTOR_DEFAULT_ENVS;
    cfg->version = CARTPOLE_V1;
    cfg->seed = 1;
    cfg->actor_id = 0;
    cfg->eps_index = 0;
    cfg->num_actors = 1;
    cfg->eps = 0.4f;
    cfg->eps_start = 1.0f;
    cfg->eps_end = 0.05f;
    cfg->eps_steps = 1;
    cfg->n_step = 3;
    cfg->gamma = 0.99f;
    cfg->send_batch = 256;
    cfg->send_hwm = 8;
    cfg->heartbeat_s = 0.5;
    cfg->max_env_steps = 0;
    cfg->learner_timeout_s = 10.0;
    cfg->stats_interval_s = 10.0;
    strcpy(cfg->learner_ep, "tcp://127.0.0.1:5556");
    strcpy(cfg->weights_ep, "tcp://127.0.0.1:5557");
}

float actor_epsilon(const actor_config_t *cfg, uint64_t env_steps)
{
    if (cfg->eps_schedule) {
        double frac = cfg->eps_steps ? (double)env_steps / (double)cfg->eps_steps : 1.0;
        if (frac > 1.0)
            frac = 1.0;
        return (float)(cfg->eps_start + (cfg->eps_end - cfg->eps_start) * frac);
    }
    if (cfg->num_actors <= 1)
        return cfg->eps;
    double alpha = 1.0 + 7.0 * (double)cfg->eps_index / (double)(cfg->num_actors - 1);
    return (float)pow((double)cfg->eps, alpha);
}

static int in01(float x) { return x >= 0.0f && x <= 1.0f; }

static int config_check(const actor_config_t *c)
{
    const char *why = NULL;
    if (c->n_envs < 1 || c->n_envs > 65536)
        why = "envs must be 1..65536";
    else if (c->num_actors < 1 || c->eps_index < 0 || c->eps_index >= c->num_actors)
        why = "actor index out of range for the number of actors";
    else if (!in01(c->eps) ||
             (c->eps_schedule && (!in01(c->eps_start) || !in01(c->eps_end) || c->eps_steps < 1)))
        why = "epsilon values must be in [0, 1] and schedule steps >= 1";
    else if (c->n_step < 1 || c->n_step > 64 || !in01(c->gamma))
        why = "n-step must be 1..64 and gamma in [0, 1]";
    else if (c->send_batch < 1 || (unsigned)c->send_batch > PROTO_MAX_N)
        why = "send-batch must be 1..PROTO_MAX_N";
    else if (c->send_hwm < 1)
        why = "send-hwm must be >= 1";
    else if (!(c->heartbeat_s > 0.0) || !(c->learner_timeout_s > 0.0))
        why = "heartbeat and learner timeout must be > 0";
    else if (!c->learner_ep[0] || !c->weights_ep[0])
        why = "learner endpoints missing";
    if (!why)
        return ACTOR_OK;
    LOG_ERROR("actor configuration: %s", why);
    return ACTOR_EINVAL;
}

const char *actor_strerror(int err)
{
    switch (err) {
    case ACTOR_OK: return "ok";
    case ACTOR_EINVAL: return "invalid actor configuration";
    case ACTOR_ENOMEM: return "out of memory";
    case ACTOR_EZMQ: return "ZeroMQ socket error";
    case ACTOR_ETIMEOUT: return "learner silent past its timeout";
    case ACTOR_EPROTO: return "message could not be encoded";
    default: return "unknown actor error";
    }
}

/* ---- construction ------------------------------------------------------- */

static int sock_opt_int(void *s, int opt, int v) { return zmq_setsockopt(s, opt, &v, sizeof v); }

/* Linger, TCP keepalive (idle 5 s, interval 2 s, 3 probes): a vanished peer is
 * noticed in seconds, not the kernel's default 2 hours. */
static int sock_common(void *s)
{
    return sock_opt_int(s, ZMQ_LINGER, 1000) | sock_opt_int(s, ZMQ_TCP_KEEPALIVE, 1) |
           sock_opt_int(s, ZMQ_TCP_KEEPALIVE_IDLE, 5) | sock_opt_int(s, ZMQ_TCP_KEEPALIVE_INTVL, 2) |
           sock_opt_int(s, ZMQ_TCP_KEEPALIVE_CNT, 3);
}

static int actor_sockets(actor_t *a)
{
    a->push = zmq_socket(a->zctx, ZMQ_PUSH);
    a->sub = zmq_socket(a->zctx, ZMQ_SUB);
    if (!a->push || !a->sub)
        goto err;
    int64_t maxmsg = (int64_t)PROTO_MAX_FRAME;
    if (sock_common(a->push) || sock_common(a->sub) || sock_opt_int(a->push, ZMQ_SNDHWM, a->cfg.send_hwm) ||
        zmq_setsockopt(a->sub, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        zmq_setsockopt(a->sub, ZMQ_SUBSCRIBE, "", 0))
        goto err;
    /* CURVE wiring (secure.h): client keys go on before connecting */
    if (a->cfg.curve && (secure_client(a->cfg.curve, a->push) || secure_client(a->cfg.curve, a->sub)))
        goto err;
    if (zmq_connect(a->push, a->cfg.learner_ep)) {
        LOG_ERROR("cannot connect to learner %s: %s", a->cfg.learner_ep, zmq_strerror(errno));
        return ACTOR_EZMQ;
    }
    if (zmq_connect(a->sub, a->cfg.weights_ep)) {
        LOG_ERROR("cannot connect to weights %s: %s", a->cfg.weights_ep, zmq_strerror(errno));
        return ACTOR_EZMQ;
    }
    return ACTOR_OK;
err:
    LOG_ERROR("socket setup failed: %s", zmq_strerror(errno));
    return ACTOR_EZMQ;
}

actor_t *actor_new(const actor_config_t *cfg, void *zctx, int *err)
{
    int rc = config_check(cfg);
    actor_t *a = NULL;
    if (rc)
        goto fail;
    rc = ACTOR_ENOMEM;
    a = calloc(1, sizeof *a);
    if (!a)
        goto fail;
    a->cfg = *cfg;
    const int K = cfg->n_envs, n = cfg->n_step;
    a->env = cartpole_new(K, cfg->version, cfg->seed, cfg->actor_id);
    a->ns = nstep_new(K, n, OBS_DIM, cfg->gamma);
    rng_seed(&a->rng, rng_derive(cfg->seed, cfg->actor_id, UINT64_MAX));
    const size_t k4 = (size_t)K * OBS_DIM;
    a->obs = malloc(k4 * sizeof(float));
    a->obs_next = malloc(k4 * sizeof(float));
    a->step_obs = malloc(k4 * sizeof(float));
    a->reward = malloc((size_t)K * sizeof(float));
    a->term = malloc((size_t)K);
    a->trunc = malloc((size_t)K);
    a->ep_ret = malloc((size_t)K * sizeof(int32_t));
    a->ep_len = calloc((size_t)K, sizeof(int32_t));
    a->actions = calloc((size_t)K, sizeof(int32_t));
    a->q = malloc((size_t)K * N_ACTIONS * sizeof(float));
    a->cap_rows = cfg->send_batch + K * n; /* one push emits at most K*n rows */
    const size_t rows = (size_t)a->cap_rows;
    a->b_obs = malloc(rows * OBS_DIM * sizeof(float));
    a->b_next = malloc(rows * OBS_DIM * sizeof(float));
    a->b_act = malloc(rows * sizeof(int32_t));
    a->b_rew = malloc(rows * sizeof(float));
    a->b_disc = malloc(rows * sizeof(float));
    a->b_ver = malloc(rows * sizeof(uint64_t));
    a->vring = calloc((size_t)K * n, sizeof(uint64_t));
    a->vhead = calloc((size_t)K, sizeof(int));
    a->vcount = calloc((size_t)K, sizeof(int));
    a->ep_cap = a->cap_rows; /* every finished episode emits >= 1 row */
    a->e_ret = malloc((size_t)a->ep_cap * sizeof(float));
    a->e_len = malloc((size_t)a->ep_cap * sizeof(int32_t));
    proto_buf_init(&a->buf);
    if (!a->env || !a->ns || !a->obs || !a->obs_next || !a->step_obs || !a->reward || !a->term ||
        !a->trunc || !a->ep_ret || !a->ep_len || !a->actions || !a->q || !a->b_obs || !a->b_next ||
        !a->b_act || !a->b_rew || !a->b_disc || !a->b_ver || !a->vring || !a->vhead || !a->vcount ||
        !a->e_ret || !a->e_len) {
        LOG_ERROR("actor: out of memory for %d copies", K);
        goto fail;
    }
    /* The largest message: a full batch plus every episode it may carry. */
    if (proto_buf_reserve(&a->buf, 1024 + rows * (2 * OBS_DIM + 3) * 4 + (size_t)a->ep_cap * 8 + 64))
        goto fail;
    cartpole_observe(a->env, a->obs);
    if (gethostname(a->host, sizeof a->host - 1))
        strcpy(a->host, "?");
    a->host[sizeof a->host - 1] = '\0';

    if (zctx) {
        a->zctx = zctx;
    } else {
        a->zctx = zmq_ctx_new();
        a->own_ctx = 1;
        if (!a->zctx) {
            rc = ACTOR_EZMQ;
            goto fail;
        }
    }
    rc = actor_sockets(a);
    if (rc)
        goto fail;
    if (err)
        *err = ACTOR_OK;
    return a;
fail:
    actor_destroy(&a);
    if (err)
        *err = rc;
    return NULL;
}

void actor_destroy(actor_t **ap)
{
    if (!ap || !*ap)
        return;
    actor_t *a = *ap;
    if (a->push)
        zmq_close(a->push);
    if (a->sub)
        zmq_close(a->sub);
    if (a->own_ctx && a->zctx)
        zmq_ctx_term(a->zctx);
    cartpole_destroy(&a->env);
    nstep_destroy(&a->ns);
    free(a->obs); free(a->obs_next); free(a->step_obs); free(a->reward);
    free(a->term); free(a->trunc); free(a->ep_ret); free(a->ep_len);
    free(a->actions); free(a->q);
    free(a->params); free(a->scratch);
    free(a->b_obs); free(a->b_next); free(a->b_act); free(a->b_rew); free(a->b_disc); free(a->b_ver);
    free(a->vring); free(a->vhead); free(a->vcount);
    free(a->e_ret); free(a->e_len);
    proto_buf_free(&a->buf);
    free(a);
    *ap = NULL;
}

const actor_stats_t *actor_stats(const actor_t *a) { return &a->st; }

/* ---- weights ------------------------------------------------------------ */

/* 0 if spec parses to a net this actor can act with (4 inputs, 2 actions). */
static int arch_usable(const char *spec, mlp_arch_t *arch)
{
    if (mlp_arch_parse(arch, spec))
        return -1;
    if (arch->sizes[0] != OBS_DIM || arch->sizes[arch->n_layers] != N_ACTIONS)
        return -1;
    return 0;
}

/* Grows the buffers for arch (allocates only when arch is larger than any
 * seen before) and copies n_params floats in: from a wire view (le_view) or a
 * host array. On ENOMEM the weights held so far stay in force. */
static int actor_install(actor_t *a, const mlp_arch_t *arch, const void *src, int le_view, uint64_t version)
{
    const size_t np = arch->n_params, ns = mlp_infer_scratch(arch, a->cfg.n_envs);
    float *p = NULL, *s = NULL;
    if (np > a->params_cap && !(p = malloc(np * sizeof(float))))
        return ACTOR_ENOMEM;
    if (ns > a->scratch_cap && !(s = malloc(ns * sizeof(float)))) {
        free(p);
        return ACTOR_ENOMEM;
    }
    if (p) {
        free(a->params);
        a->params = p;
        a->params_cap = np;
    }
    if (s) {
        free(a->scratch);
        a->scratch = s;
        a->scratch_cap = ns;
    }
    if (le_view)
        proto_copy_f32(a->params, src, np);
    else
        memcpy(a->params, src, np * sizeof(float));
    if (!a->have_weights || !mlp_arch_equal(&a->arch, arch)) {
        char buf[128];
        mlp_arch_format(arch, buf, sizeof buf);
        LOG_INFO("acting with a %s network from policy version %llu", buf, (unsigned long long)version);
    }
    a->arch = *arch;
    a->have_weights = 1;
    a->st.policy_version = version;
    a->st.weights_taken++;
    return ACTOR_OK;
}

int actor_set_weights(actor_t *a, const char *spec, const float *params, uint64_t version)
{
    mlp_arch_t arch;
    if (!a || !spec || !params || arch_usable(spec, &arch))
        return ACTOR_EINVAL;
    return actor_install(a, &arch, params, 0, version);
}

static void weights_bad(actor_t *a, const char *why)
{
    a->st.weights_bad++;
    LOG_WARN_RL(5.0, "dropped a weights message: %s (%llu dropped so far)", why,
                (unsigned long long)a->st.weights_bad);
}

/* Decodes and checks a weights frame; 0 and *w, *arch filled if usable. */
static int weights_check(actor_t *a, const zmq_msg_t *msg, proto_weights_t *w, mlp_arch_t *arch)
{
    int rc = proto_decode_weights(zmq_msg_data((zmq_msg_t *)msg), zmq_msg_size((zmq_msg_t *)msg), w);
    if (rc < 0) {
        weights_bad(a, proto_strerror(rc));
        return -1;
    }
    if (arch_usable(w->arch, arch) || arch->n_params != w->n_params) {
        weights_bad(a, "architecture unusable for CartPole or disagrees with n_params");
        return -1;
    }
    return 0;
}

/* Reads everything waiting on SUB without blocking. Keeps only the newest
 * valid weights (installed at the end), notes learner heartbeats, and returns
 * 1 when a stop arrived, 0 otherwise, ACTOR_EZMQ on a socket error. */
static int actor_drain(actor_t *a, double now)
{
    zmq_msg_t msg, best;
    int have_best = 0, stopped = 0, rc = 0;
    uint64_t best_ver = a->st.policy_version;
    zmq_msg_init(&best);
    for (;;) {
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, a->sub, ZMQ_DONTWAIT) < 0) {
            int e = errno;
            zmq_msg_close(&msg);
            if (e == EAGAIN || e == EINTR)
                break;
            LOG_ERROR("receive on weights socket: %s", zmq_strerror(e));
            rc = ACTOR_EZMQ;
            break;
        }
        const uint8_t *data = zmq_msg_data(&msg);
        const size_t len = zmq_msg_size(&msg);
        const int type = proto_peek_type(data, len);
        if (type == PROTO_T_WEIGHTS) {
            proto_weights_t w;
            mlp_arch_t arch;
            if (weights_check(a, &msg, &w, &arch) == 0) {
                a->last_learner = now;
                if (w.version > best_ver) {
                    best_ver = w.version;
                    zmq_msg_close(&best);
                    zmq_msg_init(&best);
                    zmq_msg_move(&best, &msg);
                    have_best = 1;
                } else {
                    a->st.weights_stale++;
                }
            }
        } else if (type == PROTO_T_HEARTBEAT || type == PROTO_T_HELLO || type == PROTO_T_GOODBYE) {
            proto_status_t s;
            int d = proto_decode_status(data, len, &s);
            if (d < 0) {
                a->st.msgs_bad++;
                LOG_WARN_RL(5.0, "dropped a bad %s message: %s", proto_type_name(type), proto_strerror(d));
            } else if (strcmp(s.role, "learner") == 0) {
                a->last_learner = now;
            }
        } else if (type == PROTO_T_STOP) {
            proto_stop_t s;
            int d = proto_decode_stop(data, len, &s);
            if (d < 0) {
                a->st.msgs_bad++;
                LOG_WARN_RL(5.0, "dropped a bad stop message: %s", proto_strerror(d));
            } else {
                snprintf(a->st.stop_reason, sizeof a->st.stop_reason, "%s", s.reason);
                stopped = 1;
            }
        } else {
            a->st.msgs_bad++;
            if (type < 0)
                LOG_WARN_RL(5.0, "dropped an undecodable message (%zu bytes): %s (%llu so far)", len,
                            proto_strerror(type), (unsigned long long)a->st.msgs_bad);
            else
                LOG_WARN_RL(5.0, "dropped an unexpected %s message on the weights socket",
                            proto_type_name(type));
        }
        zmq_msg_close(&msg);
        if (stopped)
            break;
    }
    if (have_best) {
        /* decode again: the views of the first decode may not survive zmq_msg_move */
        proto_weights_t w;
        mlp_arch_t arch;
        if (weights_check(a, &best, &w, &arch) == 0 && actor_install(a, &arch, w.params, 1, w.version))
            LOG_WARN_RL(5.0, "no memory for a %s network; keeping version %llu", w.arch,
                        (unsigned long long)a->st.policy_version);
    }
    zmq_msg_close(&best);
    return rc ? rc : stopped;
}

/* ---- sending ------------------------------------------------------------ */

static int learner_lost(actor_t *a, double now)
{
    if (now - a->last_learner <= a->cfg.learner_timeout_s)
        return 0;
    LOG_ERROR("learner silent for %.1f s (no weights, no heartbeat on %s); giving up",
              now - a->last_learner, a->cfg.weights_ep);
    return 1;
}

/* Sends a->buf. When the PUSH high-water mark is hit:
 *   wait_s == 0  drops the message (SEND_DROPPED);
 *   wait_s > 0   waits up to wait_s seconds, then drops it (used on the way out);
 *   wait_s < 0   waits in short polls, still draining the SUB socket, until it
 *                goes out, a stop arrives or the stop flag is set (SEND_STOPPED),
 *                or the learner times out (ACTOR_ETIMEOUT). */
static int actor_send(actor_t *a, double wait_s)
{
    int waited = 0;
    const double until = wait_s > 0 ? log_now() + wait_s : 0.0;
    for (;;) {
        if (zmq_send(a->push, a->buf.data, a->buf.len, ZMQ_DONTWAIT) >= 0)
            return 0;
        if (errno != EAGAIN && errno != EINTR) {
            LOG_ERROR("send to learner: %s", zmq_strerror(errno));
            return ACTOR_EZMQ;
        }
        if (wait_s == 0)
            return SEND_DROPPED;
        if (!waited++)
            a->st.send_waits++;
        if (wait_s > 0) {
            const double left = until - log_now();
            if (left <= 0)
                return SEND_DROPPED;
            zmq_pollitem_t item = {a->push, 0, ZMQ_POLLOUT, 0};
            zmq_poll(&item, 1, left < 0.05 ? (long)(left * 1000) + 1 : 50);
            continue;
        }
        if (a->stop_flag && *a->stop_flag)
            return SEND_STOPPED;
        zmq_pollitem_t items[2] = {{a->push, 0, ZMQ_POLLOUT, 0}, {a->sub, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, 50) < 0 && errno != EINTR) {
            LOG_ERROR("poll: %s", zmq_strerror(errno));
            return ACTOR_EZMQ;
        }
        const double now = log_now();
        int d = actor_drain(a, now);
        if (d < 0)
            return d;
        if (d > 0)
            return SEND_STOPPED;
        if (learner_lost(a, now))
            return ACTOR_ETIMEOUT;
    }
}

static int actor_send_status(actor_t *a, int type, double wait_s)
{
    proto_status_t s;
    memset(&s, 0, sizeof s);
    s.type = type;
    strcpy(s.role, "actor");
    s.id = a->cfg.actor_id;
    snprintf(s.host, sizeof s.host, "%s", a->host);
    s.pid = (int64_t)getpid();
    s.obs_dim = OBS_DIM;
    s.n_actions = N_ACTIONS;
    s.n_envs = (uint32_t)a->cfg.n_envs;
    /* the learner shows its actors' exploration rates in its progress line */
    s.eps = actor_epsilon(&a->cfg, a->st.env_steps);
    if (type != PROTO_T_HELLO) {
        s.seq = a->st.seq;
        s.env_steps = a->st.env_steps;
        s.policy_version = a->st.policy_version;
    }
    int rc = proto_encode_status(&a->buf, &s);
    if (rc) {
        LOG_ERROR("encode %s: %s", proto_type_name(type), proto_strerror(rc));
        return ACTOR_EPROTO;
    }
    return actor_send(a, wait_s);
}

/* Sends the first n pending rows (with every pending episode) as one batch and
 * shifts the rest to the front. The batch carries the OLDEST policy version
 * among its rows, so a batch labelled v holds only actions chosen by >= v. */
static int actor_send_batch(actor_t *a, int n, double wait_s)
{
    uint64_t ver = a->b_ver[0];
    for (int i = 1; i < n; i++)
        if (a->b_ver[i] < ver)
            ver = a->b_ver[i];
    proto_batch_t m = {
        .actor_id = a->cfg.actor_id, .seq = a->st.seq + 1, .policy_version = ver,
        .n = (uint32_t)n, .obs_dim = OBS_DIM, .n_actions = N_ACTIONS,
        .obs = a->b_obs, .actions = a->b_act, .rewards = a->b_rew, .next_obs = a->b_next,
        .discounts = a->b_disc, .n_episodes = (uint32_t)a->ep_fill,
        .ep_returns = a->e_ret, .ep_lengths = a->e_len,
    };
    int rc = proto_encode_batch(&a->buf, &m);
    if (rc) {
        LOG_ERROR("encode batch: %s", proto_strerror(rc));
        return ACTOR_EPROTO;
    }
    rc = actor_send(a, wait_s);
    if (rc)
        return rc;
    a->st.seq++;
    a->st.transitions_sent += (uint64_t)n;
    a->ep_fill = 0;
    const int rest = a->fill - n;
    if (rest > 0) {
        memmove(a->b_obs, a->b_obs + (size_t)n * OBS_DIM, (size_t)rest * OBS_DIM * sizeof(float));
        memmove(a->b_next, a->b_next + (size_t)n * OBS_DIM, (size_t)rest * OBS_DIM * sizeof(float));
        memmove(a->b_act, a->b_act + n, (size_t)rest * sizeof(int32_t));
        memmove(a->b_rew, a->b_rew + n, (size_t)rest * sizeof(float));
        memmove(a->b_disc, a->b_disc + n, (size_t)rest * sizeof(float));
        memmove(a->b_ver, a->b_ver + n, (size_t)rest * sizeof(uint64_t));
    }
    a->fill = rest;
    return 0;
}

/* ---- acting ------------------------------------------------------------- */

static void actor_act(actor_t *a, float eps)
{
    const int K = a->cfg.n_envs;
    if (!a->have_weights) {
        for (int i = 0; i < K; i++)
            a->actions[i] = (int32_t)rng_below(&a->rng, N_ACTIONS);
        return;
    }
    mlp_infer(&a->arch, a->params, a->obs, K, a->q, a->scratch); /* one forward over all K */
    mlp_argmax(a->q, K, N_ACTIONS, a->actions);
    if (eps > 0.0f)
        for (int i = 0; i < K; i++)
            if (rng_uniformf(&a->rng) < eps)
                a->actions[i] = (int32_t)rng_below(&a->rng, N_ACTIONS);
}

/* Records the acting version in the mirror window of every copy and appends
 * the versions of the rows nstep_push emits (same order: copy by copy, oldest
 * first; a copy's window empties when its episode ends, else emits one row
 * once full). Returns the number of rows it accounted for. */
static int actor_mirror_versions(actor_t *a, int row0)
{
    const int K = a->cfg.n_envs, n = a->cfg.n_step;
    const uint64_t v = a->st.policy_version;
    int row = row0;
    for (int i = 0; i < K; i++) {
        uint64_t *ring = a->vring + (size_t)i * n;
        ring[(a->vhead[i] + a->vcount[i]) % n] = v;
        a->vcount[i]++;
        int emit = (a->term[i] || a->trunc[i]) ? a->vcount[i] : (a->vcount[i] == n ? 1 : 0);
        for (int j = 0; j < emit && row < a->cap_rows; j++) {
            a->b_ver[row++] = ring[a->vhead[i]];
            a->vhead[i] = (a->vhead[i] + 1) % n;
            a->vcount[i]--;
        }
        if (a->vcount[i] == 0)
            a->vhead[i] = 0;
    }
    return row - row0;
}

static void actor_episode_done(actor_t *a, float ret, int32_t len)
{
    if (a->ep_fill < a->ep_cap) {
        a->e_ret[a->ep_fill] = ret;
        a->e_len[a->ep_fill] = len;
        a->ep_fill++;
    }
    a->recent[a->recent_pos] = ret;
    a->recent_pos = (a->recent_pos + 1) % RECENT_EPISODES;
    if (a->recent_n < RECENT_EPISODES)
        a->recent_n++;
    a->st.episodes++;
}

/* One vector step: act, step, accumulate n-step rows and finished episodes. */
static void actor_step(actor_t *a)
{
    const int K = a->cfg.n_envs;
    actor_act(a, actor_epsilon(&a->cfg, a->st.env_steps));
    /* actions are always 0/1 here, so cartpole_step cannot refuse them */
    int ended = cartpole_step(a->env, a->actions, a->step_obs, a->reward, a->term, a->trunc,
                              a->obs_next, a->ep_ret);
    nstep_out_t out = {
        .len = a->fill,
        .obs = a->b_obs, .next_obs = a->b_next, .action = a->b_act,
        .reward = a->b_rew, .discount = a->b_disc,
    };
    nstep_push(a->ns, a->obs, a->actions, a->reward, a->step_obs, a->term, a->trunc, &out);
    int accounted = actor_mirror_versions(a, a->fill);
    if (accounted != out.len - a->fill) {
        /* nstep emitted in a way the mirror does not model: label conservatively */
        for (int r = a->fill; r < out.len; r++)
            a->b_ver[r] = 0;
        if (!a->warned_mirror++)
            LOG_WARN("n-step emission order not as expected; policy versions of batches may read 0");
    }
    a->fill = out.len;
    for (int i = 0; i < K; i++) {
        a->ep_len[i]++;
        if (ended > 0 && a->ep_ret[i] >= 0) {
            actor_episode_done(a, (float)a->ep_ret[i], a->ep_len[i]);
            a->ep_len[i] = 0;
        }
    }
    float *t = a->obs; /* obs_next is what to act on next */
    a->obs = a->obs_next;
    a->obs_next = t;
    a->st.iterations++;
    a->st.env_steps += (uint64_t)K;
}

static void actor_log_progress(actor_t *a, double dt, uint64_t steps_before)
{
    double mean = 0.0;
    for (int i = 0; i < a->recent_n; i++)
        mean += a->recent[i];
    if (a->recent_n)
        mean /= a->recent_n;
    LOG_INFO("env_steps %llu  %.0f steps/s  batches %llu  policy v%llu  episodes %llu  "
             "mean return (last %d) %.1f  eps %.3f",
             (unsigned long long)a->st.env_steps, dt > 0 ? (double)(a->st.env_steps - steps_before) / dt : 0.0,
             (unsigned long long)a->st.seq, (unsigned long long)a->st.policy_version,
             (unsigned long long)a->st.episodes, a->recent_n, mean,
             actor_epsilon(&a->cfg, a->st.env_steps));
}

int actor_run(actor_t *a, const volatile sig_atomic_t *stop)
{
    a->stop_flag = stop;
    a->st.stop = ACTOR_STOP_NONE;
    double now = log_now();
    a->last_learner = now;
    double next_hb = now + a->cfg.heartbeat_s;
    double next_stats = now + a->cfg.stats_interval_s, last_stats = now;
    uint64_t steps_at_stats = a->st.env_steps;
    int rc = actor_send_status(a, PROTO_T_HELLO, -1);
    LOG_INFO("actor %u: %d CartPole-v%d copies -> %s, weights from %s, eps %.4g%s, n-step %d",
             a->cfg.actor_id, a->cfg.n_envs, a->cfg.version == CARTPOLE_V0 ? 0 : 1, a->cfg.learner_ep,
             a->cfg.weights_ep, actor_epsilon(&a->cfg, 0), a->cfg.eps_schedule ? " (scheduled)" : "",
             a->cfg.n_step);
    while (rc == 0) {
        if (stop && *stop) {
            a->st.stop = ACTOR_STOP_SIGNAL;
            break;
        }
        if (a->cfg.max_env_steps && a->st.env_steps >= a->cfg.max_env_steps) {
            a->st.stop = ACTOR_STOP_MAX_STEPS;
            break;
        }
        now = log_now();
        rc = actor_drain(a, now);
        if (rc)
            break;
        if (learner_lost(a, now)) {
            rc = ACTOR_ETIMEOUT;
            break;
        }
        actor_step(a);
        while (rc == 0 && a->fill >= a->cfg.send_batch)
            rc = actor_send_batch(a, a->cfg.send_batch, -1);
        if (rc == 0 && now >= next_hb) {
            rc = actor_send_status(a, PROTO_T_HEARTBEAT, 0.0);
            if (rc == SEND_DROPPED)
                rc = 0;
            next_hb = now + a->cfg.heartbeat_s;
        }
        if (a->cfg.stats_interval_s > 0 && now >= next_stats) {
            actor_log_progress(a, now - last_stats, steps_at_stats);
            last_stats = now;
            steps_at_stats = a->st.env_steps;
            next_stats = now + a->cfg.stats_interval_s;
        }
    }
    if (rc == 1) { /* a stop message: from actor_drain or a send wait */
        if (a->st.stop_reason[0] || !(stop && *stop))
            a->st.stop = ACTOR_STOP_MESSAGE;
        else
            a->st.stop = ACTOR_STOP_SIGNAL;
        rc = 0;
    }
    if (rc == 0) {
        /* On a signal or max_env_steps what is pending still goes out (a learner
         * that stopped has no use for it). The waits on the way out are bounded
         * (0.3 s each + 1 s linger) so the process ends within 2 s. */
        const double t_end = log_now() + 0.3;
        while (a->st.stop != ACTOR_STOP_MESSAGE && a->fill > 0) {
            const int n = a->fill < a->cfg.send_batch ? a->fill : a->cfg.send_batch;
            const double left = t_end - log_now();
            if (left <= 0 || actor_send_batch(a, n, left) != 0) {
                LOG_INFO("dropped the last %d transitions (the learner is not reading)", a->fill);
                break;
            }
        }
        const char *why = a->st.stop == ACTOR_STOP_MESSAGE ? "stop message"
                          : a->st.stop == ACTOR_STOP_SIGNAL ? "signal" : "max env steps";
        LOG_INFO("stopping (%s%s%s): %llu env steps, %llu batches, %llu episodes, policy v%llu",
                 why, a->st.stop_reason[0] ? ": " : "", a->st.stop_reason,
                 (unsigned long long)a->st.env_steps, (unsigned long long)a->st.seq,
                 (unsigned long long)a->st.episodes, (unsigned long long)a->st.policy_version);
    }
    if (actor_send_status(a, PROTO_T_GOODBYE, 0.3) == SEND_DROPPED) {
        /* expected after a stop message: the learner stops reading once it published it */
        if (a->st.stop == ACTOR_STOP_MESSAGE)
            LOG_DEBUG("goodbye not sent: the learner is not reading");
        else
            LOG_INFO("goodbye not sent: the learner is not reading");
    }
    if (a->st.weights_bad || a->st.msgs_bad)
        LOG_INFO("dropped %llu bad weights and %llu other bad messages", (unsigned long long)a->st.weights_bad,
                 (unsigned long long)a->st.msgs_bad);
    return rc;
}
