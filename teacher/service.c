/* service.c — see service.h. One round of the service:
 *
 *   poll ──▶ drain every queued message (ZMQ_DONTWAIT)
 *              query    ─▶ decode, copy states into obs (cap_states, D), remember (identity, req_id, T, n, offset)
 *              info_req ─▶ answer now
 *              status   ─▶ peer table
 *              anything else / invalid ─▶ error reply, rejected++
 *          ──▶ ONE forward over obs[0 .. states_used) (in infer_chunk rows); each
 *              query is answered (softmax(q / T), encode, send) as soon as its
 *              last row has been evaluated
 *
 * Memory: every buffer is sized in teacher_service_new; a round never
 * allocates except the encode buffer growing to the largest reply once. */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ckpt.h"
#include "log.h"
#include "loss.h"
#include "proto.h"

#define TEACHER_MAX_IDENTITY 255   /* ZeroMQ routing ids are 1..255 bytes */
#define TEACHER_MAX_PEERS 1024     /* peer table entries; least recently seen closed peer is evicted */
#define TEACHER_LINGER_MS 500
#define TEACHER_SNDHWM 10000

typedef struct {
    uint8_t id[TEACHER_MAX_IDENTITY];
    uint8_t id_len;
    uint64_t req_id;
    float temperature;
    uint32_t n;       /* states */
    size_t off;       /* first row in obs / q */
} pending_t;

typedef enum { PEER_QUIET = 0, PEER_OPEN, PEER_CLOSED, PEER_LOST } peer_state_t;

typedef struct {
    uint8_t id[TEACHER_MAX_IDENTITY];
    uint8_t id_len;
    peer_state_t state;
    double last_seen;
    char role[32];
    uint32_t peer_id;
    char host[64];
    int64_t pid;
} peer_t;

struct teacher_service {
    teacher_config_t cfg;
    mlp_arch_t arch;
    int obs_dim, n_actions;          /* D, A */
    float *params;                   /* (n_params) owned copy */
    uint32_t model_crc;
    char arch_str[PROTO_MAX_STR + 1];

    void *ctx, *sock;

    size_t cap_states;               /* rows in obs / q: PROTO_MAX_N, or fewer if a frame could not hold more */
    float *obs;                      /* (cap_states, D) this round's states, concatenated */
    float *q;                        /* (cap_states, A) their Q-values */
    float *probs;                    /* (cap_states, A) softmax of one query at a time */
    float *scratch;                  /* mlp_infer_scratch(arch, infer_chunk) */
    pending_t *pend;                 /* (max_round_requests) */
    int n_pend;
    size_t states_used;

    zmq_msg_t carry_id, carry_body;  /* a query kept for the next round */
    int carry;

    proto_buf_t out;                 /* encode buffer, reused */

    peer_t *peers;                   /* (TEACHER_MAX_PEERS) */
    int n_peers;

    teacher_stats_t st;
    double t_start;
};

void teacher_config_default(teacher_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_round_states = (int)PROTO_MAX_N;
    cfg->max_round_requests = 1024;
    cfg->infer_chunk = 512;
    cfg->batching = 1;
    cfg->peer_timeout = 10.0;
    cfg->stats_interval = 10.0;
    cfg->exit_when_done = 0;
    cfg->idle_exit = 0.0;
    cfg->max_seconds = 0.0;
}

const char *teacher_strerror(int err)
{
    switch (err) {
    case TEACHER_OK: return "ok";
    case TEACHER_EINVAL: return "invalid argument";
    case TEACHER_ENOMEM: return "out of memory";
    case TEACHER_EZMQ: return "ZeroMQ call failed";
    case TEACHER_EBIND: return "cannot bind endpoint";
    default: return "unknown teacher error";
    }
}

const char *teacher_done_name(int done)
{
    switch (done) {
    case TEACHER_DONE_STOP: return "signal";
    case TEACHER_DONE_GOODBYE: return "every learner said goodbye";
    case TEACHER_DONE_LOST: return "every learner is gone (some lost)";
    case TEACHER_DONE_IDLE: return "idle (no hello)";
    case TEACHER_DONE_MAX_SECONDS: return "max-seconds reached";
    default: return "?";
    }
}

// ----------------------------------------------------------------------------
// creation

static int config_valid(const teacher_config_t *c)
{
    return c->max_round_states >= 1 && (uint32_t)c->max_round_states <= PROTO_MAX_N &&
           c->max_round_requests >= 1 && c->max_round_requests <= (int)PROTO_MAX_N &&
           c->infer_chunk >= 1 && c->infer_chunk <= (int)PROTO_MAX_N;
}

/* Sets an int socket option; returns 0 or -1 (errno from zmq). */
static int set_int(void *sock, int opt, int value)
{
    return zmq_setsockopt(sock, opt, &value, sizeof value);
}

teacher_service_t *teacher_service_new(const mlp_arch_t *arch, const float *params,
                                       const teacher_config_t *cfg, int *err)
{
    int rc = TEACHER_EINVAL;
    teacher_service_t *s = NULL;
    teacher_config_t defaults;
    if (!cfg) {
        teacher_config_default(&defaults);
        cfg = &defaults;
    }
    if (!arch || !params || arch->n_layers < 1 || !config_valid(cfg))
        goto fail;
    const int D = arch->sizes[0], A = arch->sizes[arch->n_layers];
    if (D < 1 || (uint32_t)D > PROTO_MAX_OBS_DIM || A < 1 || (uint32_t)A > PROTO_MAX_ACTIONS)
        goto fail;

    rc = TEACHER_ENOMEM;
    s = calloc(1, sizeof *s);
    if (!s)
        goto fail;
    s->cfg = *cfg;
    s->arch = *arch;
    s->obs_dim = D;
    s->n_actions = A;
    mlp_arch_format(arch, s->arch_str, sizeof s->arch_str);
    proto_buf_init(&s->out);

    /* A valid query's frame holds n*D floats and is at most PROTO_MAX_FRAME bytes. */
    size_t by_frame = PROTO_MAX_FRAME / (4u * (size_t)D);
    s->cap_states = by_frame < PROTO_MAX_N ? by_frame : PROTO_MAX_N;
    int chunk = cfg->infer_chunk;
    if ((size_t)chunk > s->cap_states)
        s->cfg.infer_chunk = chunk = (int)s->cap_states;

    s->params = malloc(arch->n_params * sizeof(float));
    s->obs = malloc(s->cap_states * (size_t)D * sizeof(float));
    s->q = malloc(s->cap_states * (size_t)A * sizeof(float));
    s->probs = malloc(s->cap_states * (size_t)A * sizeof(float));
    s->scratch = malloc(mlp_infer_scratch(arch, chunk) * sizeof(float));
    s->pend = malloc((size_t)cfg->max_round_requests * sizeof *s->pend);
    s->peers = calloc(TEACHER_MAX_PEERS, sizeof *s->peers);
    if (!s->params || !s->obs || !s->q || !s->probs || !s->scratch || !s->pend || !s->peers)
        goto fail;
    memcpy(s->params, params, arch->n_params * sizeof(float));
    s->model_crc = ckpt_crc32c(0, s->params, arch->n_params * sizeof(float));

    rc = TEACHER_EZMQ;
    s->ctx = zmq_ctx_new();
    if (!s->ctx)
        goto fail;
    s->sock = zmq_socket(s->ctx, ZMQ_ROUTER);
    if (!s->sock)
        goto fail;
    int64_t maxmsg = (int64_t)s->cap_states * D * 4 + 65536;
    if (maxmsg > (int64_t)PROTO_MAX_FRAME)
        maxmsg = (int64_t)PROTO_MAX_FRAME;
    /* ROUTER_MANDATORY: a reply to a vanished peer or a full queue fails at once
     * (EHOSTUNREACH / EAGAIN with ZMQ_DONTWAIT) instead of blocking or vanishing
     * silently, so it can be counted. */
    if (zmq_setsockopt(s->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        set_int(s->sock, ZMQ_LINGER, TEACHER_LINGER_MS) != 0 ||
        set_int(s->sock, ZMQ_ROUTER_MANDATORY, 1) != 0 ||
        set_int(s->sock, ZMQ_SNDHWM, TEACHER_SNDHWM) != 0 ||
        set_int(s->sock, ZMQ_TCP_KEEPALIVE, 1) != 0 ||
        set_int(s->sock, ZMQ_TCP_KEEPALIVE_IDLE, 5) != 0 ||
        set_int(s->sock, ZMQ_TCP_KEEPALIVE_INTVL, 2) != 0 ||
        set_int(s->sock, ZMQ_TCP_KEEPALIVE_CNT, 3) != 0)
        goto fail;

    s->t_start = log_now();
    if (err)
        *err = TEACHER_OK;
    return s;

fail:
    if (err)
        *err = rc;
    teacher_service_destroy(&s);
    return NULL;
}

void teacher_service_destroy(teacher_service_t **svc)
{
    if (!svc || !*svc)
        return;
    teacher_service_t *s = *svc;
    if (s->carry) {
        zmq_msg_close(&s->carry_id);
        zmq_msg_close(&s->carry_body);
    }
    if (s->sock)
        zmq_close(s->sock);
    if (s->ctx)
        zmq_ctx_term(s->ctx);
    proto_buf_free(&s->out);
    free(s->params);
    free(s->obs);
    free(s->q);
    free(s->probs);
    free(s->scratch);
    free(s->pend);
    free(s->peers);
    free(s);
    *svc = NULL;
}

int teacher_service_bind(teacher_service_t *svc, const char *endpoint, char *out, size_t n)
{
    if (!svc || !endpoint)
        return TEACHER_EINVAL;
    if (zmq_bind(svc->sock, endpoint) != 0)
        return TEACHER_EBIND;
    if (out && n) {
        char ep[512];
        size_t len = sizeof ep;
        if (zmq_getsockopt(svc->sock, ZMQ_LAST_ENDPOINT, ep, &len) != 0)
            return TEACHER_EBIND;
        ep[sizeof ep - 1] = '\0';
        if (strlen(ep) >= n)
            return TEACHER_EINVAL;
        strcpy(out, ep);
    }
    return TEACHER_OK;
}

void *teacher_service_socket(teacher_service_t *svc)
{
    return svc ? svc->sock : NULL;
}

/* CURVE wiring: the ZAP handler must live in the socket's context. */
void *teacher_service_context(teacher_service_t *svc)
{
    return svc ? svc->ctx : NULL;
}

void teacher_service_stats(const teacher_service_t *svc, teacher_stats_t *out)
{
    *out = svc->st;
}

uint32_t teacher_service_model_crc(const teacher_service_t *svc)
{
    return svc->model_crc;
}

// ----------------------------------------------------------------------------
// peers

/* "a1b2c3…" of a routing id, for logs. */
static void format_identity(const uint8_t *id, size_t len, char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t j = 0;
    for (size_t i = 0; i < len && j + 3 < n && i < 8; i++) {
        buf[j++] = hex[id[i] >> 4];
        buf[j++] = hex[id[i] & 15];
    }
    buf[j] = '\0';
}

/* The peer entry for a routing id, created if new (evicting the least
 * recently seen peer that is not open, or failing that the least recently
 * seen one). Never fails. */
static peer_t *peer_touch(teacher_service_t *s, const uint8_t *id, size_t len, double now)
{
    for (int i = 0; i < s->n_peers; i++) {
        peer_t *p = &s->peers[i];
        if (p->id_len == len && memcmp(p->id, id, len) == 0) {
            p->last_seen = now;
            return p;
        }
    }
    peer_t *p;
    if (s->n_peers < TEACHER_MAX_PEERS) {
        p = &s->peers[s->n_peers++];
    } else {
        int victim = -1, victim_open = -1;
        for (int i = 0; i < s->n_peers; i++) {
            peer_t *c = &s->peers[i];
            if (c->state != PEER_OPEN && (victim < 0 || c->last_seen < s->peers[victim].last_seen))
                victim = i;
            if (victim_open < 0 || c->last_seen < s->peers[victim_open].last_seen)
                victim_open = i;
        }
        if (victim < 0) {
            victim = victim_open;
            s->st.peers_open--;   /* forgotten, not lost: the table is full of open peers */
        }
        p = &s->peers[victim];
    }
    memset(p, 0, sizeof *p);
    memcpy(p->id, id, len);
    p->id_len = (uint8_t)len;
    p->last_seen = now;
    s->st.clients_seen++;
    return p;
}

void teacher_service_check_peers(teacher_service_t *s)
{
    if (s->cfg.peer_timeout <= 0)
        return;
    double now = log_now();
    for (int i = 0; i < s->n_peers; i++) {
        peer_t *p = &s->peers[i];
        if (p->state == PEER_OPEN && now - p->last_seen > s->cfg.peer_timeout) {
            p->state = PEER_LOST;
            s->st.peers_open--;
            s->st.peers_lost++;
            LOG_WARN("%s %u (%s pid %lld) silent for %.1f s: lost", p->role, (unsigned)p->peer_id,
                     p->host, (long long)p->pid, now - p->last_seen);
        }
    }
}

static void on_status(teacher_service_t *s, peer_t *p, const proto_status_t *m)
{
    s->st.status_msgs++;
    snprintf(p->role, sizeof p->role, "%.31s", m->role);
    snprintf(p->host, sizeof p->host, "%.63s", m->host);
    p->peer_id = m->id;
    p->pid = m->pid;
    if (m->type == PROTO_T_HELLO) {
        s->st.hellos++;
        if (p->state != PEER_OPEN)
            s->st.peers_open++;
        p->state = PEER_OPEN;
        if (m->obs_dim != (uint32_t)s->obs_dim || m->n_actions != (uint32_t)s->n_actions)
            LOG_WARN("hello from %s %u (%s pid %lld) for obs_dim %u, %u actions; this teacher is %s",
                     m->role, (unsigned)m->id, m->host, (long long)m->pid, (unsigned)m->obs_dim,
                     (unsigned)m->n_actions, s->arch_str);
        else
            LOG_INFO("hello from %s %u (%s pid %lld)", m->role, (unsigned)m->id, m->host,
                     (long long)m->pid);
    } else if (m->type == PROTO_T_GOODBYE) {
        s->st.goodbyes++;
        if (p->state == PEER_OPEN)
            s->st.peers_open--;
        p->state = PEER_CLOSED;
        LOG_INFO("goodbye from %s %u (%s pid %lld)", m->role, (unsigned)m->id, m->host,
                 (long long)m->pid);
    } else if (p->state == PEER_LOST) {
        /* a heartbeat after being declared lost: it was only slow */
        p->state = PEER_OPEN;
        s->st.peers_open++;
        s->st.peers_lost--;
        LOG_INFO("%s %u is back", p->role, (unsigned)p->peer_id);
    }
}

// ----------------------------------------------------------------------------
// sending

/* Sends the encode buffer to a routing id. A refused send (peer gone, its
 * queue full) is counted in replies_dropped; nothing else can fail. */
static void send_out(teacher_service_t *s, const uint8_t *id, size_t id_len)
{
    if (zmq_send(s->sock, id, id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(s->sock, s->out.data, s->out.len, ZMQ_DONTWAIT) < 0) {
        s->st.replies_dropped++;
        LOG_WARN_RL(5.0, "reply dropped: %s", zmq_strerror(errno));
    }
}

/* Counts, logs (rate-limited) and answers an invalid message with an error. */
static void reject(teacher_service_t *s, const uint8_t *id, size_t id_len, const uint8_t *frame,
                   size_t len, int code, const char *what)
{
    proto_error_t e;
    memset(&e, 0, sizeof e);
    e.req_id = frame ? proto_peek_req_id(frame, len) : 0;
    e.code = code;
    snprintf(e.text, sizeof e.text, "%s: %s", what, proto_strerror(code));
    s->st.rejected++;
    char who[20];
    format_identity(id, id_len, who, sizeof who);
    LOG_WARN_RL(5.0, "rejected a message from peer %s (%zu bytes, req_id %llu): %s", who, len,
                (unsigned long long)e.req_id, e.text);
    if (proto_encode_error(&s->out, &e) == 0)
        send_out(s, id, id_len);
}

static void answer_info(teacher_service_t *s, const uint8_t *id, size_t id_len, uint64_t req_id)
{
    proto_info_t m;
    memset(&m, 0, sizeof m);
    m.req_id = req_id;
    snprintf(m.arch, sizeof m.arch, "%s", s->arch_str);
    m.obs_dim = (uint32_t)s->obs_dim;
    m.n_actions = (uint32_t)s->n_actions;
    m.model_crc = s->model_crc;
    m.served_requests = s->st.requests;
    m.served_states = s->st.states;
    s->st.info_requests++;
    if (proto_encode_info(&s->out, &m) == 0)
        send_out(s, id, id_len);
}

// ----------------------------------------------------------------------------
// one round

/* Forward pass over rows [off, off + n) of obs into q, in infer_chunk rows. */
static void forward_rows(teacher_service_t *s, size_t off, size_t n)
{
    const size_t D = (size_t)s->obs_dim, A = (size_t)s->n_actions, chunk = (size_t)s->cfg.infer_chunk;
    for (size_t r = 0; r < n; r += chunk) {
        size_t b = n - r < chunk ? n - r : chunk;
        mlp_infer(&s->arch, s->params, s->obs + (off + r) * D, (int)b, s->q + (off + r) * A,
                  s->scratch);
        s->st.forwards++;
    }
}

/* Evaluates and answers every pending query, then empties the round.
 * Batched: one pass over all the round's rows in infer_chunk chunks; a query
 * is answered as soon as the chunk holding its last row is done, so the
 * first replies leave while later rows are still being evaluated. */
static void finish_round(teacher_service_t *s)
{
    if (s->n_pend == 0)
        return;
    const size_t A = (size_t)s->n_actions, chunk = (size_t)s->cfg.infer_chunk;
    size_t done = 0;   /* rows of this round evaluated so far (batched) */
    for (int i = 0; i < s->n_pend; i++) {
        pending_t *p = &s->pend[i];
        if (!s->cfg.batching) {
            forward_rows(s, p->off, p->n);
        } else {
            while (done < p->off + p->n) {
                size_t b = s->states_used - done < chunk ? s->states_used - done : chunk;
                forward_rows(s, done, b);
                done += b;
            }
        }
        const float *q = s->q + p->off * A;
        loss_softmax(q, (int)p->n, (int)A, p->temperature, s->probs);
        proto_reply_t r = {.req_id = p->req_id, .n = p->n, .n_actions = (uint32_t)A, .q = q,
                           .probs = s->probs};
        if (proto_encode_reply(&s->out, &r) != 0) {
            /* the network itself produced inf/NaN (e.g. huge but finite inputs) */
            reject(s, p->id, p->id_len, NULL, 0, PROTO_ENONFINITE, "teacher output not finite");
            continue;
        }
        s->st.requests++;
        s->st.states += p->n;
        send_out(s, p->id, p->id_len);
    }
    s->st.rounds++;
    s->n_pend = 0;
    s->states_used = 0;
}

/* Handles one message (identity frame + body frame, n_body body frames in
 * all). Returns 1 if the query was kept for the next round (the caller must
 * then move the messages into carry and end the round), else 0. */
static int handle(teacher_service_t *s, zmq_msg_t *idm, zmq_msg_t *body, int n_body, double now)
{
    const uint8_t *id = zmq_msg_data(idm);
    size_t id_len = zmq_msg_size(idm);
    const uint8_t *f = zmq_msg_data(body);
    size_t len = zmq_msg_size(body);
    if (id_len == 0 || id_len > TEACHER_MAX_IDENTITY) {
        s->st.rejected++;   /* not routable: nothing to answer */
        return 0;
    }
    peer_t *peer = peer_touch(s, id, id_len, now);
    if (n_body != 1) {
        reject(s, id, id_len, f, len, PROTO_ETRAILING, "multipart message (one frame expected)");
        return 0;
    }
    int type = proto_peek_type(f, len);
    if (type < 0) {
        reject(s, id, id_len, f, len, type, "undecodable message");
        return 0;
    }
    int rc;
    switch (type) {
    case PROTO_T_QUERY: {
        proto_query_t m;
        rc = proto_decode_query(f, len, &m);
        if (rc != 0) {
            reject(s, id, id_len, f, len, rc, "bad query");
            return 0;
        }
        if (m.obs_dim != (uint32_t)s->obs_dim) {
            char what[96];
            snprintf(what, sizeof what, "query obs_dim %u, model obs_dim %d", (unsigned)m.obs_dim,
                     s->obs_dim);
            reject(s, id, id_len, f, len, PROTO_ESHAPE, what);
            return 0;
        }
        if (m.n > s->cap_states) {   /* cannot be a frame ZMQ_MAXMSGSIZE let through */
            reject(s, id, id_len, f, len, PROTO_ERANGE, "query too large");
            return 0;
        }
        if (s->n_pend > 0 && (s->n_pend >= s->cfg.max_round_requests ||
                              s->states_used + m.n > (size_t)s->cfg.max_round_states ||
                              s->states_used + m.n > s->cap_states))
            return 1;   /* next round */
        pending_t *p = &s->pend[s->n_pend++];
        memcpy(p->id, id, id_len);
        p->id_len = (uint8_t)id_len;
        p->req_id = m.req_id;
        p->temperature = m.temperature;
        p->n = m.n;
        p->off = s->states_used;
        proto_copy_f32(s->obs + s->states_used * (size_t)s->obs_dim, m.obs,
                       (size_t)m.n * (size_t)s->obs_dim);
        s->states_used += m.n;
        return 0;
    }
    case PROTO_T_INFO_REQ: {
        proto_info_req_t m;
        rc = proto_decode_info_req(f, len, &m);
        if (rc != 0)
            reject(s, id, id_len, f, len, rc, "bad info_req");
        else
            answer_info(s, id, id_len, m.req_id);
        return 0;
    }
    case PROTO_T_HELLO:
    case PROTO_T_HEARTBEAT:
    case PROTO_T_GOODBYE: {
        proto_status_t m;
        rc = proto_decode_status(f, len, &m);
        if (rc != 0)
            reject(s, id, id_len, f, len, rc, "bad status message");
        else
            on_status(s, peer, &m);
        return 0;
    }
    default: {
        char what[64];
        snprintf(what, sizeof what, "a teacher does not read \"%s\"", proto_type_name(type));
        reject(s, id, id_len, f, len, PROTO_EWRONGMSG, what);
        return 0;
    }
    }
}

/* Receives one whole message without waiting: identity into idm, first body
 * frame into body, further frames discarded and counted in *n_body. Returns
 * 1 with both messages initialised (caller closes them), 0 when nothing is
 * queued, -1 on a ZeroMQ error. */
static int recv_message(teacher_service_t *s, zmq_msg_t *idm, zmq_msg_t *body, int *n_body)
{
    zmq_msg_init(idm);
    if (zmq_msg_recv(idm, s->sock, ZMQ_DONTWAIT) < 0) {
        int e = errno;
        zmq_msg_close(idm);
        return e == EAGAIN || e == EINTR ? 0 : -1;
    }
    zmq_msg_init(body);
    *n_body = 0;
    if (!zmq_msg_more(idm))
        return 1;
    /* the remaining frames of a message arrive with it: blocking is safe */
    if (zmq_msg_recv(body, s->sock, 0) < 0)
        return 1;
    *n_body = 1;
    int more = zmq_msg_more(body);
    while (more) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        more = zmq_msg_recv(&extra, s->sock, 0) >= 0 && zmq_msg_more(&extra);
        zmq_msg_close(&extra);
        (*n_body)++;
    }
    return 1;
}

int teacher_service_poll_once(teacher_service_t *s, int timeout_ms)
{
    int handled = 0;
    if (!s->carry) {
        zmq_pollitem_t it = {.socket = s->sock, .events = ZMQ_POLLIN};
        int rc = zmq_poll(&it, 1, timeout_ms);
        if (rc < 0)
            return errno == EINTR ? 0 : TEACHER_EZMQ;
        if (rc == 0)
            return 0;
    }
    double now = log_now();
    zmq_msg_t idm, body;
    int n_body = 1;
    for (;;) {
        if (s->carry) {
            zmq_msg_init(&idm);
            zmq_msg_init(&body);
            zmq_msg_move(&idm, &s->carry_id);
            zmq_msg_move(&body, &s->carry_body);
            zmq_msg_close(&s->carry_id);
            zmq_msg_close(&s->carry_body);
            s->carry = 0;
            n_body = 1;
        } else {
            int rc = recv_message(s, &idm, &body, &n_body);
            if (rc < 0)
                return TEACHER_EZMQ;
            if (rc == 0)
                break;
        }
        int keep = handle(s, &idm, &body, n_body, now);
        if (keep) {
            zmq_msg_init(&s->carry_id);
            zmq_msg_init(&s->carry_body);
            zmq_msg_move(&s->carry_id, &idm);
            zmq_msg_move(&s->carry_body, &body);
            s->carry = 1;
        } else {
            handled++;
        }
        zmq_msg_close(&idm);
        zmq_msg_close(&body);
        if (keep)
            break;
    }
    finish_round(s);
    return handled;
}

// ----------------------------------------------------------------------------
// the loop

int teacher_service_run(teacher_service_t *s, volatile sig_atomic_t *stop_flag)
{
    const double t0 = log_now();
    double last_stats = t0, last_check = t0;
    teacher_stats_t prev = s->st;
    for (;;) {
        if (stop_flag && *stop_flag)
            return TEACHER_DONE_STOP;
        int rc = teacher_service_poll_once(s, 100);
        if (rc < 0)
            return rc;
        double now = log_now();
        if (now - last_check >= 0.1) {
            teacher_service_check_peers(s);
            last_check = now;
        }
        if (s->cfg.stats_interval > 0 && now - last_stats >= s->cfg.stats_interval) {
            double dt = now - last_stats;
            LOG_INFO("%.0f req/s, %.0f states/s, %.1f states/forward; rejected %llu, info %llu, "
                     "clients %d open / %llu seen, dropped replies %llu",
                     (double)(s->st.requests - prev.requests) / dt,
                     (double)(s->st.states - prev.states) / dt,
                     s->st.forwards > prev.forwards
                         ? (double)(s->st.states - prev.states) / (double)(s->st.forwards - prev.forwards)
                         : 0.0,
                     (unsigned long long)s->st.rejected, (unsigned long long)s->st.info_requests,
                     s->st.peers_open, (unsigned long long)s->st.clients_seen,
                     (unsigned long long)s->st.replies_dropped);
            prev = s->st;
            last_stats = now;
        }
        if (s->cfg.exit_when_done && s->st.hellos > 0 && s->st.peers_open == 0)
            return s->st.peers_lost > 0 ? TEACHER_DONE_LOST : TEACHER_DONE_GOODBYE;
        if (s->cfg.idle_exit > 0 && s->st.hellos == 0 && now - t0 >= s->cfg.idle_exit)
            return TEACHER_DONE_IDLE;
        if (s->cfg.max_seconds > 0 && now - t0 >= s->cfg.max_seconds)
            return TEACHER_DONE_MAX_SECONDS;
    }
}
