/* tclient.h — the learner's asynchronous client of a teacher service.
 *
 * A DEALER socket sends one query per ingested batch (the batch's observations)
 * and never waits for the answer: up to max_inflight queries travel at once,
 * matched by request id. A reply attaches the teacher's raw Q-values to the
 * replay slots of that batch (replay_set_teacher by serial; slots overwritten
 * meanwhile are skipped). A query unanswered after `timeout` seconds is dropped
 * and counted; its transitions stay TD-only. While the teacher is unreachable
 * (ZMQ_IMMEDIATE: nothing is queued for a dead connection) queries are skipped
 * and counted; the socket reconnects by itself and answers resume. */
#ifndef KDQN_TCLIENT_H
#define KDQN_TCLIENT_H
#include <stdint.h>
#include "proto.h"
#include "replay.h"
#include "secure.h"

typedef struct {
    uint64_t req_id;
    uint64_t serial0;     /* replay serial of the first state */
    uint32_t n;
    double sent_at;
    int live;
} tclient_req_t;

typedef struct {
    void *sock;                     /* DEALER */
    char endpoint[128];
    replay_t *replay;               /* borrowed */
    int n_actions;
    float temperature;              /* sent with each query (the reply's probs are not stored) */
    int max_inflight;
    double timeout;
    tclient_req_t *inflight;        /* (max_inflight) */
    int n_inflight;
    uint64_t next_req_id;
    proto_buf_t buf;
    float *qbuf;                    /* (PROTO_MAX_N... capped) copy-out of reply Q-values */
    uint32_t qbuf_rows;
    /* counters */
    uint64_t sent, answered, timed_out, skipped, errors, rejected, late, states_labelled;
    double last_reply_at, latency_sum, latency_max;
    int down_warned;
    int hello_done;                 /* a hello reached a live connection */
    int learner_id;
    char teacher_arch[PROTO_MAX_STR + 1];
} tclient_t;

/* Connects a DEALER to endpoint and sends hello. curve: NULL for plain TCP, else the
 * DEALER is a CURVE client with these keys (secure.h; borrowed). NULL on a malformed
 * endpoint or a zmq failure (logged). */
tclient_t *tclient_new(void *zctx, const char *endpoint, replay_t *replay, int n_actions,
                       float temperature, int max_inflight, double timeout, int learner_id,
                       const secure_t *curve);
/* Sends goodbye (best effort), closes the socket. NULL-safe. */
void tclient_destroy(tclient_t **tc);
/* Queries Q-values for n states stored at serials serial0.. serial0+n-1 (obs (n, obs_dim)).
 * Returns 1 if sent, 0 if skipped (too many in flight, or the teacher unreachable). */
int tclient_query(tclient_t *tc, uint64_t serial0, uint32_t n, uint32_t obs_dim, const float *obs);
/* Reads every reply waiting, attaches answers, expires timed-out queries. Never blocks. */
void tclient_poll(tclient_t *tc);
/* Sends a heartbeat (a hello until one has gone out). */
void tclient_heartbeat(tclient_t *tc, int learner_id);

#endif
