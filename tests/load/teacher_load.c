/* teacher_load — N concurrent students hammer a teacher service for D seconds.
 *
 *   teacher_load ENDPOINT [--clients N] [--seconds D] [--states S] [--window W] [--obs-dim K]
 *
 * Each client is a thread with its own DEALER socket. It keeps W queries of S
 * states in flight (pipelined: a new query goes out as soon as a reply comes
 * back), for D seconds, then stops sending and waits up to 10 s for the
 * replies still owed. Every reply is matched to its request id (a reply for an
 * id not in flight, or answered twice, is counted as "stray"); the round-trip
 * latency of each answered query is kept for the percentiles.
 *
 * Prints `measure: key=value` lines (sent, answered, errors, stray, lost,
 * qps, states_per_s, p50_ms, p99_ms, max_ms) and exits 0 only if every query
 * sent was answered exactly once and nothing was rejected. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "proto.h"

typedef struct {
    int index;
    const char *endpoint;
    void *zctx;
    double seconds;
    int states, window, obs_dim;
    /* results */
    uint64_t sent, answered, errors, stray, bad;
    double *lat;          /* seconds, one per answered query */
    size_t n_lat, cap_lat;
    int failed;
} client_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void keep_latency(client_t *c, double v)
{
    if (c->n_lat == c->cap_lat) {
        size_t cap = c->cap_lat ? 2 * c->cap_lat : 65536;
        double *p = realloc(c->lat, cap * sizeof *p);
        if (!p)
            return;
        c->lat = p;
        c->cap_lat = cap;
    }
    c->lat[c->n_lat++] = v;
}

static void *client_main(void *arg)
{
    client_t *c = arg;
    void *s = zmq_socket(c->zctx, ZMQ_DEALER);
    int linger = 0, hwm = 10000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_connect(s, c->endpoint) != 0) {
        fprintf(stderr, "client %d: connect %s: %s\n", c->index, c->endpoint, zmq_strerror(errno));
        c->failed = 1;
        zmq_close(s);
        return NULL;
    }
    const int W = c->window;
    uint64_t *ids = calloc((size_t)W, sizeof *ids);   /* 0 = free slot */
    double *at = calloc((size_t)W, sizeof *at);
    float *obs = malloc(sizeof(float) * (size_t)c->states * (size_t)c->obs_dim);
    proto_buf_t buf;
    proto_buf_init(&buf);
    for (int i = 0; i < c->states * c->obs_dim; i++)
        obs[i] = 0.05f * (float)((i * 7 + c->index) % 13 - 6);
    uint64_t next_id = ((uint64_t)(c->index + 1) << 40) + 1;
    int inflight = 0;
    const double t_end = now_s() + c->seconds;
    double give_up = 0;
    for (;;) {
        double t = now_s();
        int sending = t < t_end;
        if (!sending && inflight == 0)
            break;
        if (!sending && give_up == 0)
            give_up = t + 10.0;
        if (give_up > 0 && t > give_up)
            break;
        /* fill the window */
        while (sending && inflight < W) {
            int slot = -1;
            for (int i = 0; i < W; i++)
                if (!ids[i]) { slot = i; break; }
            proto_query_t q = {.req_id = next_id, .temperature = 1.0f, .n = (uint32_t)c->states,
                               .obs_dim = (uint32_t)c->obs_dim, .obs = obs};
            if (slot < 0 || proto_encode_query(&buf, &q) != 0 ||
                zmq_send(s, buf.data, buf.len, 0) < 0) {
                c->failed = 1;
                break;
            }
            ids[slot] = next_id++;
            at[slot] = now_s();
            inflight++;
            c->sent++;
        }
        if (c->failed)
            break;
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 100) <= 0)
            continue;
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            const uint8_t *d = zmq_msg_data(&m);
            size_t len = zmq_msg_size(&m);
            int type = proto_peek_type(d, len);
            uint64_t id = 0;
            if (type == PROTO_T_REPLY) {
                proto_reply_t r;
                if (proto_decode_reply(d, len, &r) != 0 || r.n != (uint32_t)c->states)
                    c->bad++;
                id = r.req_id;
            } else if (type == PROTO_T_ERROR) {
                c->errors++;
                id = proto_peek_req_id(d, len);
            } else {
                c->bad++;
            }
            zmq_msg_close(&m);
            int slot = -1;
            for (int i = 0; id && i < W; i++)
                if (ids[i] == id) { slot = i; break; }
            if (slot < 0) {
                c->stray++;
                continue;
            }
            if (type == PROTO_T_REPLY) {
                c->answered++;
                keep_latency(c, now_s() - at[slot]);
            }
            ids[slot] = 0;
            inflight--;
        }
    }
    proto_buf_free(&buf);
    free(ids);
    free(at);
    free(obs);
    zmq_close(s);
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: teacher_load ENDPOINT [--clients N] [--seconds D] [--states S] [--window W] "
                        "[--obs-dim K]\n");
        return 2;
    }
    const char *ep = argv[1];
    int clients = 4, states = 256, window = 8, obs_dim = 4;
    double seconds = 15;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--clients")) clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--states")) states = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--window")) window = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--obs-dim")) obs_dim = atoi(argv[i + 1]);
        else { fprintf(stderr, "teacher_load: unknown flag %s\n", argv[i]); return 2; }
    }
    if (clients < 1 || clients > 256 || states < 1 || states > 65536 || window < 1 || window > 4096 ||
        obs_dim < 1 || !(seconds > 0)) {
        fprintf(stderr, "teacher_load: value out of range\n");
        return 2;
    }
    void *zctx = zmq_ctx_new();
    client_t *cs = calloc((size_t)clients, sizeof *cs);
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    double t0 = now_s();
    for (int i = 0; i < clients; i++) {
        cs[i] = (client_t){.index = i, .endpoint = ep, .zctx = zctx, .seconds = seconds, .states = states,
                           .window = window, .obs_dim = obs_dim};
        pthread_create(&th[i], NULL, client_main, &cs[i]);
    }
    uint64_t sent = 0, answered = 0, errors = 0, stray = 0, bad = 0;
    size_t n_lat = 0;
    int failed = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        sent += cs[i].sent;
        answered += cs[i].answered;
        errors += cs[i].errors;
        stray += cs[i].stray;
        bad += cs[i].bad;
        n_lat += cs[i].n_lat;
        failed |= cs[i].failed;
        printf("client %d: sent %llu answered %llu\n", i, (unsigned long long)cs[i].sent,
               (unsigned long long)cs[i].answered);
    }
    double wall = now_s() - t0;
    double *all = malloc(sizeof(double) * (n_lat ? n_lat : 1));
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        memcpy(all + k, cs[i].lat, cs[i].n_lat * sizeof(double));
        k += cs[i].n_lat;
        free(cs[i].lat);
    }
    qsort(all, n_lat, sizeof *all, cmp_d);
    double p50 = n_lat ? all[n_lat / 2] : -1, p99 = n_lat ? all[(size_t)(0.99 * (double)(n_lat - 1))] : -1;
    double mx = n_lat ? all[n_lat - 1] : -1;
    printf("measure: clients=%d\nmeasure: states_per_query=%d\nmeasure: window=%d\n", clients, states, window);
    printf("measure: sent=%llu\nmeasure: answered=%llu\nmeasure: errors=%llu\nmeasure: stray=%llu\n",
           (unsigned long long)sent, (unsigned long long)answered, (unsigned long long)errors,
           (unsigned long long)stray);
    printf("measure: lost=%llu\n", (unsigned long long)(sent - answered - errors));
    printf("measure: qps=%.0f\nmeasure: states_per_s=%.0f\n", answered / seconds, answered * (double)states / seconds);
    printf("measure: p50_ms=%.3f\nmeasure: p99_ms=%.3f\nmeasure: max_ms=%.3f\nmeasure: wall_s=%.2f\n", 1e3 * p50,
           1e3 * p99, 1e3 * mx, wall);
    free(all);
    free(cs);
    free(th);
    zmq_ctx_term(zctx);
    int ok = !failed && sent > 0 && answered == sent && errors == 0 && stray == 0 && bad == 0;
    printf("%s: %llu of %llu queries answered (%llu errors, %llu stray, %llu malformed)\n", ok ? "ok" : "FAIL",
           (unsigned long long)answered, (unsigned long long)sent, (unsigned long long)errors,
           (unsigned long long)stray, (unsigned long long)bad);
    return ok ? 0 : 1;
}
