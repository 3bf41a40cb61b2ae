#include "tclient.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"

/* Returns 1 if the message was handed to a live connection. */
static int send_status(tclient_t *tc, int type, int learner_id)
{
    proto_status_t st;
    memset(&st, 0, sizeof st);
    st.type = type;
    snprintf(st.role, sizeof st.role, "learner");
    st.id = (uint32_t)learner_id;
    gethostname(st.host, sizeof st.host - 1);
    st.pid = getpid();
    st.obs_dim = (uint32_t)tc->replay->obs_dim;
    st.n_actions = (uint32_t)tc->n_actions;
    if (proto_encode_status(&tc->buf, &st) != 0)
        return 0;
    return zmq_send(tc->sock, tc->buf.data, tc->buf.len, ZMQ_DONTWAIT) >= 0;
}

tclient_t *tclient_new(void *zctx, const char *endpoint, replay_t *replay, int n_actions,
                       float temperature, int max_inflight, double timeout, int learner_id,
                       const secure_t *curve)
{
    tclient_t *tc = calloc(1, sizeof *tc);
    if (!tc)
        return NULL;
    snprintf(tc->endpoint, sizeof tc->endpoint, "%s", endpoint);
    tc->replay = replay;
    tc->n_actions = n_actions;
    tc->temperature = temperature;
    tc->max_inflight = max_inflight > 0 ? max_inflight : 16;
    tc->timeout = timeout > 0 ? timeout : 2.0;
    tc->next_req_id = 1;
    tc->learner_id = learner_id;
    tc->inflight = calloc((size_t)tc->max_inflight, sizeof *tc->inflight);
    tc->qbuf_rows = 4096;
    tc->qbuf = malloc(sizeof(float) * tc->qbuf_rows * (size_t)n_actions);
    proto_buf_init(&tc->buf);
    tc->sock = zmq_socket(zctx, ZMQ_DEALER);
    if (!tc->inflight || !tc->qbuf || !tc->sock)
        goto fail;
    int one = 1, linger = 200, hwm = 1000, ka = 1, idle = 5, intvl = 2, cnt = 3;
    int64_t maxmsg = 64 << 20;
    zmq_setsockopt(tc->sock, ZMQ_IMMEDIATE, &one, sizeof one);
    zmq_setsockopt(tc->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(tc->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(tc->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(tc->sock, ZMQ_TCP_KEEPALIVE, &ka, sizeof ka);
    zmq_setsockopt(tc->sock, ZMQ_TCP_KEEPALIVE_IDLE, &idle, sizeof idle);
    zmq_setsockopt(tc->sock, ZMQ_TCP_KEEPALIVE_INTVL, &intvl, sizeof intvl);
    zmq_setsockopt(tc->sock, ZMQ_TCP_KEEPALIVE_CNT, &cnt, sizeof cnt);
    if (curve && secure_client(curve, tc->sock) != 0) {   /* CURVE wiring: before connecting */
        LOG_ERROR("cannot set CURVE keys on the teacher socket: %s", zmq_strerror(errno));
        goto fail;
    }
    if (zmq_connect(tc->sock, endpoint) != 0) {
        LOG_ERROR("cannot connect to teacher %s: %s", endpoint, zmq_strerror(errno));
        goto fail;
    }
    tc->last_reply_at = log_now();
    /* hello is best effort: with ZMQ_IMMEDIATE it is dropped until the connection is up,
     * and heartbeats repeat it */
    tc->hello_done = send_status(tc, PROTO_T_HELLO, learner_id);
    return tc;
fail:
    tclient_destroy(&tc);
    return NULL;
}

void tclient_destroy(tclient_t **tcp)
{
    if (!tcp || !*tcp)
        return;
    tclient_t *tc = *tcp;
    if (tc->sock) {
        /* the teacher (inside a job) exits once every learner that said hello said
         * goodbye: make sure a peer that talked at all does both */
        if (!tc->hello_done && tc->sent > 0)
            tc->hello_done = send_status(tc, PROTO_T_HELLO, tc->learner_id);
        if (tc->hello_done)
            send_status(tc, PROTO_T_GOODBYE, tc->learner_id);
        zmq_close(tc->sock);
    }
    proto_buf_free(&tc->buf);
    free(tc->inflight);
    free(tc->qbuf);
    free(tc);
    *tcp = NULL;
}

void tclient_heartbeat(tclient_t *tc, int learner_id)
{
    /* With ZMQ_IMMEDIATE a hello sent before the connection is up is dropped, and the
     * teacher counts a learner only once it said hello: repeat it until one goes out. */
    if (!tc->hello_done)
        tc->hello_done = send_status(tc, PROTO_T_HELLO, learner_id);
    else
        send_status(tc, PROTO_T_HEARTBEAT, learner_id);
}

int tclient_query(tclient_t *tc, uint64_t serial0, uint32_t n, uint32_t obs_dim, const float *obs)
{
    if (tc->n_inflight >= tc->max_inflight || n > tc->qbuf_rows) {
        tc->skipped++;
        return 0;
    }
    if (!tc->hello_done)
        tc->hello_done = send_status(tc, PROTO_T_HELLO, tc->learner_id);
    proto_query_t q = {.req_id = tc->next_req_id, .temperature = tc->temperature, .n = n,
                       .obs_dim = obs_dim, .obs = obs};
    if (proto_encode_query(&tc->buf, &q) != 0) {
        tc->skipped++;
        return 0;
    }
    if (zmq_send(tc->sock, tc->buf.data, tc->buf.len, ZMQ_DONTWAIT) < 0) {
        /* EAGAIN: no live connection (ZMQ_IMMEDIATE) or the pipe is full */
        tc->skipped++;
        return 0;
    }
    for (int i = 0; i < tc->max_inflight; i++)
        if (!tc->inflight[i].live) {
            tc->inflight[i] = (tclient_req_t){q.req_id, serial0, n, log_now(), 1};
            break;
        }
    tc->n_inflight++;
    tc->next_req_id++;
    tc->sent++;
    return 1;
}

static tclient_req_t *find_req(tclient_t *tc, uint64_t id)
{
    for (int i = 0; i < tc->max_inflight; i++)
        if (tc->inflight[i].live && tc->inflight[i].req_id == id)
            return &tc->inflight[i];
    return NULL;
}

static void handle_frame(tclient_t *tc, const uint8_t *data, size_t len)
{
    int type = proto_peek_type(data, len);
    if (type == PROTO_T_REPLY) {
        proto_reply_t r;
        int rc = proto_decode_reply(data, len, &r);
        if (rc != 0) {
            tc->rejected++;
            LOG_WARN_RL(5.0, "bad reply from teacher: %s", proto_strerror(rc));
            return;
        }
        tclient_req_t *req = find_req(tc, r.req_id);
        if (!req) {
            tc->late++;  /* timed out already, or never ours: not applied twice */
            return;
        }
        if (r.n != req->n || (int)r.n_actions != tc->n_actions) {
            tc->rejected++;
            LOG_WARN_RL(5.0, "teacher reply %llu has shape %ux%u, expected %ux%d",
                        (unsigned long long)r.req_id, r.n, r.n_actions, req->n, tc->n_actions);
        } else {
            proto_copy_f32(tc->qbuf, r.q, (size_t)r.n * r.n_actions);
            for (uint32_t i = 0; i < r.n; i++)
                if (replay_set_teacher(tc->replay, req->serial0 + i, tc->qbuf + (size_t)i * r.n_actions) == 0)
                    tc->states_labelled++;
            double now = log_now(), lat = now - req->sent_at;
            tc->answered++;
            tc->latency_sum += lat;
            if (lat > tc->latency_max)
                tc->latency_max = lat;
            if (tc->down_warned)
                LOG_INFO("teacher %s answers again; distillation resumes", tc->endpoint);
            tc->down_warned = 0;
            tc->last_reply_at = now;
        }
        req->live = 0;
        tc->n_inflight--;
    } else if (type == PROTO_T_ERROR) {
        proto_error_t e;
        if (proto_decode_error(data, len, &e) == 0) {
            tc->errors++;
            LOG_WARN_RL(5.0, "teacher rejected request %llu: %s (%d)", (unsigned long long)e.req_id, e.text, e.code);
            tclient_req_t *req = find_req(tc, e.req_id);
            if (req) {
                req->live = 0;
                tc->n_inflight--;
            }
        } else {
            tc->rejected++;
        }
    } else if (type == PROTO_T_INFO) {
        proto_info_t info;
        if (proto_decode_info(data, len, &info) == 0)
            snprintf(tc->teacher_arch, sizeof tc->teacher_arch, "%s", info.arch);
    } else {
        tc->rejected++;
        LOG_WARN_RL(5.0, "unexpected message from teacher: %s", type < 0 ? proto_strerror(type) : proto_type_name(type));
    }
}

void tclient_poll(tclient_t *tc)
{
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, tc->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            break;
        }
        int more = zmq_msg_more(&msg);
        if (more) {
            tc->rejected++;
            /* a teacher sends single frames; drain the rest of this message */
            while (more) {
                zmq_msg_close(&msg);
                zmq_msg_init(&msg);
                if (zmq_msg_recv(&msg, tc->sock, ZMQ_DONTWAIT) < 0)
                    break;
                more = zmq_msg_more(&msg);
            }
        } else {
            handle_frame(tc, zmq_msg_data(&msg), zmq_msg_size(&msg));
        }
        zmq_msg_close(&msg);
    }
    double now = log_now();
    for (int i = 0; i < tc->max_inflight; i++) {
        tclient_req_t *r = &tc->inflight[i];
        if (r->live && now - r->sent_at > tc->timeout) {
            r->live = 0;
            tc->n_inflight--;
            tc->timed_out++;
        }
    }
    if (!tc->down_warned && (tc->sent > 0 || tc->skipped > 0) && now - tc->last_reply_at > 3.0 * tc->timeout) {
        LOG_WARN("teacher %s silent for %.1f s: training on TD loss alone until it answers",
                 tc->endpoint, now - tc->last_reply_at);
        tc->down_warned = 1;
    }
}
