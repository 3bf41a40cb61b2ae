#include "ingest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

ingest_t *ingest_new(replay_t *replay, uint32_t max_batch, double actor_timeout)
{
    ingest_t *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    in->replay = replay;
    in->actor_timeout = actor_timeout;
    in->last_cap = max_batch;
    const size_t d = (size_t)replay->obs_dim;
    in->obs = malloc(sizeof(float) * max_batch * d);
    in->next_obs = malloc(sizeof(float) * max_batch * d);
    in->reward = malloc(sizeof(float) * max_batch);
    in->discount = malloc(sizeof(float) * max_batch);
    in->action = malloc(sizeof(int32_t) * max_batch);
    if (!in->obs || !in->next_obs || !in->reward || !in->discount || !in->action)
        ingest_destroy(&in);
    return in;
}

void ingest_destroy(ingest_t **inp)
{
    if (!inp || !*inp)
        return;
    ingest_t *in = *inp;
    free(in->obs);
    free(in->next_obs);
    free(in->reward);
    free(in->discount);
    free(in->action);
    free(in);
    *inp = NULL;
}

static int reject(ingest_t *in, int code, const char *what)
{
    in->rejected++;
    int k = -code;
    if (k > 0 && k < 32)
        in->rejected_by[k]++;
    LOG_WARN_RL(5.0, "dropped a bad %s on the experience socket: %s (%llu rejected so far)", what,
                proto_strerror(code), (unsigned long long)in->rejected);
    return code;
}

static ingest_actor_t *actor_slot(ingest_t *in, uint32_t id)
{
    if (id >= INGEST_MAX_ACTORS)
        return NULL;
    ingest_actor_t *a = &in->actors[id];
    if (!a->known) {
        memset(a, 0, sizeof *a);
        a->known = 1;
        a->id = id;
        in->n_known++;
    }
    if (!a->alive) {
        a->alive = 1;
        in->n_alive++;
        if (a->batches > 0 || a->said_goodbye)
            LOG_INFO("actor %u (%s) is back", id, a->host[0] ? a->host : "?");
        a->said_goodbye = 0;
    }
    a->last_seen = log_now();
    return a;
}

int ingest_frame(ingest_t *in, const uint8_t *data, size_t len)
{
    in->frames++;
    int type = proto_peek_type(data, len);
    if (type < 0)
        return reject(in, type, "frame");
    if (type == PROTO_T_HELLO || type == PROTO_T_HEARTBEAT || type == PROTO_T_GOODBYE) {
        proto_status_t st;
        int rc = proto_decode_status(data, len, &st);
        if (rc != 0)
            return reject(in, rc, proto_type_name(type));
        if ((int)st.obs_dim != in->replay->obs_dim || (int)st.n_actions != in->replay->n_actions)
            return reject(in, PROTO_ESHAPE, "status (dimensions differ from this learner's)");
        const int was_known = st.id < INGEST_MAX_ACTORS && in->actors[st.id].known;
        ingest_actor_t *a = actor_slot(in, st.id);
        if (!a)
            return reject(in, PROTO_ERANGE, "status (actor id too large)");
        snprintf(a->host, sizeof a->host, "%s", st.host);
        a->pid = st.pid;
        a->env_steps = st.env_steps;
        a->eps = st.eps;
        if (type == PROTO_T_HELLO)
            LOG_INFO("actor %u joined from %s (pid %lld, %u envs)", st.id, st.host, (long long)st.pid, st.n_envs);
        else if (!was_known)  /* e.g. an actor that outlived a learner restart: no new hello */
            LOG_INFO("actor %u joined mid-run from %s (pid %lld; first heard: %s)", st.id, st.host,
                     (long long)st.pid, proto_type_name(type));
        if (type == PROTO_T_GOODBYE) {
            a->said_goodbye = 1;
            if (a->alive) {
                a->alive = 0;
                in->n_alive--;
            }
        }
        return 0;
    }
    if (type != PROTO_T_BATCH)
        return reject(in, PROTO_EWRONGMSG, proto_type_name(type));
    proto_batch_t b;
    int rc = proto_decode_batch(data, len, &b);
    if (rc != 0)
        return reject(in, rc, "batch");
    if ((int)b.obs_dim != in->replay->obs_dim || (int)b.n_actions != in->replay->n_actions)
        return reject(in, PROTO_ESHAPE, "batch (dimensions differ from this learner's)");
    if (b.n > in->last_cap)
        return reject(in, PROTO_ERANGE, "batch (more transitions than this learner accepts per message)");
    const int was_known = b.actor_id < INGEST_MAX_ACTORS && in->actors[b.actor_id].known;
    ingest_actor_t *a = actor_slot(in, b.actor_id);
    if (!a)
        return reject(in, PROTO_ERANGE, "batch (actor id too large)");
    if (!was_known)
        LOG_INFO("actor %u joined mid-run (first heard: batch seq %llu)", b.actor_id, (unsigned long long)b.seq);
    if (b.seq <= a->last_seq) {
        a->dups++;
        in->dups_total++;
        return reject(in, PROTO_ERANGE, "batch (duplicate or reordered sequence number)");
    }
    if (a->last_seq != 0 && b.seq != a->last_seq + 1) {
        uint64_t missing = b.seq - a->last_seq - 1;
        a->gaps += missing;
        in->gaps_total += missing;
        LOG_WARN_RL(5.0, "actor %u: %llu batch(es) missing before seq %llu (%llu missing from all actors so far)",
                    b.actor_id, (unsigned long long)missing, (unsigned long long)b.seq,
                    (unsigned long long)in->gaps_total);
    }
    a->last_seq = b.seq;
    a->batches++;
    a->transitions += b.n;
    const size_t d = (size_t)b.obs_dim;
    proto_copy_f32(in->obs, b.obs, b.n * d);
    proto_copy_f32(in->next_obs, b.next_obs, b.n * d);
    proto_copy_f32(in->reward, b.rewards, b.n);
    proto_copy_f32(in->discount, b.discounts, b.n);
    proto_copy_i32(in->action, b.actions, b.n);
    in->last_serial0 = replay_add(in->replay, (int)b.n, in->obs, in->action, in->reward, in->next_obs,
                                  in->discount, NULL);
    in->last_n = b.n;
    in->batches++;
    in->transitions += b.n;
    for (uint32_t i = 0; i < b.n_episodes; i++) {
        float r = proto_f32_at(b.ep_returns, i);
        in->ep_return_recent = in->episodes == 0 ? r : 0.95 * in->ep_return_recent + 0.05 * r;
        in->episodes++;
        in->ep_return_sum_window += r;
        in->ep_count_window++;
    }
    return 1;
}

int ingest_check_liveness(ingest_t *in)
{
    double now = log_now();
    int lost = 0;
    for (int i = 0; i < INGEST_MAX_ACTORS; i++) {
        ingest_actor_t *a = &in->actors[i];
        if (a->known && a->alive && now - a->last_seen > in->actor_timeout) {
            a->alive = 0;
            in->n_alive--;
            in->n_lost_total++;
            lost++;
            LOG_WARN("actor %u on %s (pid %lld) lost: silent for %.1f s; training goes on with %d actor(s)",
                     a->id, a->host[0] ? a->host : "?", (long long)a->pid, now - a->last_seen, in->n_alive);
        }
    }
    return lost;
}

void ingest_eps_range(const ingest_t *in, float *lo, float *hi)
{
    int any = 0;
    *lo = *hi = 0.0f;
    for (int i = 0; i < INGEST_MAX_ACTORS; i++) {
        const ingest_actor_t *a = &in->actors[i];
        if (!a->known || !a->alive)
            continue;
        if (!any || a->eps < *lo)
            *lo = a->eps;
        if (!any || a->eps > *hi)
            *hi = a->eps;
        any = 1;
    }
}

void ingest_lost_list(const ingest_t *in, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < INGEST_MAX_ACTORS && off < len; i++) {
        const ingest_actor_t *a = &in->actors[i];
        if (a->known && !a->alive && !a->said_goodbye) {
            int w = snprintf(buf + off, len - off, "%s%u@%s", off ? "," : "", a->id, a->host[0] ? a->host : "?");
            if (w < 0)
                break;
            off += (size_t)w;
        }
    }
}
