/* bench_teacher.c — throughput and latency of the teacher service.
 *
 * Runs teacher_service_run in a thread with a random 4-256-256-2 teacher
 * (default) and 1, 2 and 4 student clients (threads, one DEALER each) that
 * keep up to --inflight queries of --states states in flight for --seconds
 * each. Every configuration runs twice: batched (one forward pass per round
 * over all queued queries) and the naive reference (--no-batching: one
 * forward per query). Prints states/s, requests/s, per-request latency
 * p50/p99, states per round and the batched/naive ratio. By default it runs
 * queries of 256 states, then of 16 (where batching across queries matters
 * most, since one query alone is too small a matrix to use sgemm well).
 *
 *   bench-teacher [--seconds 3] [--states 256,16] [--inflight 4] [--arch 4-256-256-2] */
#include "bench_util.h"
#include <cblas.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "log.h"
#include "mlp.h"
#include "proto.h"
#include "rng.h"
#include "service.h"

#define MAX_LAT 2000000

static double seconds = 3.0;
static int states = 256, inflight = 4;
static char ep[256];

typedef struct {
    int index;
    uint64_t requests, states;
    double *lat;           /* (MAX_LAT) seconds per request */
    size_t n_lat;
    int errors;
} client_t;


static void *client_main(void *arg)
{
    client_t *c = arg;
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(s, ep);
    proto_buf_t b;
    proto_buf_init(&b);
    rng_t rng;
    rng_seed(&rng, 100 + (uint64_t)c->index);
    float *obs = malloc((size_t)states * 4 * sizeof(float));
    for (int i = 0; i < states * 4; i++)
        obs[i] = rng_uniformf(&rng) - 0.5f;
    double sent_at[64];
    uint64_t next = 0;
    int out = 0;
    const double end = bench_wall() + seconds;
    while (bench_wall() < end || out > 0) {
        while (out < inflight && bench_wall() < end) {
            proto_query_t q = {.req_id = next, .temperature = 1.0f, .n = (uint32_t)states, .obs_dim = 4,
                               .obs = obs};
            proto_encode_query(&b, &q);
            sent_at[next % 64] = bench_wall();
            zmq_send(s, b.data, b.len, 0);
            next++;
            out++;
        }
        zmq_pollitem_t it = {.socket = s, .events = ZMQ_POLLIN};
        if (zmq_poll(&it, 1, 2000) <= 0) {
            c->errors++;
            break;
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, s, 0);
        proto_reply_t r;
        if (proto_decode_reply(zmq_msg_data(&m), zmq_msg_size(&m), &r) == 0) {
            if (c->n_lat < MAX_LAT)
                c->lat[c->n_lat++] = bench_wall() - sent_at[r.req_id % 64];
            c->requests++;
            c->states += r.n;
        } else {
            c->errors++;
        }
        zmq_msg_close(&m);
        out--;
    }
    free(obs);
    proto_buf_free(&b);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return NULL;
}

typedef struct {
    teacher_service_t *svc;
    volatile sig_atomic_t stop;
} server_t;

static void *server_main(void *arg)
{
    server_t *sv = arg;
    teacher_service_run(sv->svc, &sv->stop);
    return NULL;
}


/* One configuration; returns states/s. */
static double run_config(const mlp_arch_t *arch, const float *params, int batching, int n_clients)
{
    teacher_config_t cfg;
    teacher_config_default(&cfg);
    cfg.batching = batching;
    cfg.stats_interval = 0;
    int err;
    server_t sv = {.svc = teacher_service_new(arch, params, &cfg, &err), .stop = 0};
    if (!sv.svc || teacher_service_bind(sv.svc, "tcp://127.0.0.1:*", ep, sizeof ep) != 0) {
        fprintf(stderr, "bench-teacher: cannot start the service: %s\n", teacher_strerror(err));
        teacher_service_destroy(&sv.svc);
        return 0;
    }
    pthread_t st, ct[8];
    pthread_create(&st, NULL, server_main, &sv);
    client_t cl[8];
    double t0 = bench_wall();
    for (int i = 0; i < n_clients; i++) {
        memset(&cl[i], 0, sizeof cl[i]);
        cl[i].index = i;
        cl[i].lat = malloc(MAX_LAT * sizeof(double));
        pthread_create(&ct[i], NULL, client_main, &cl[i]);
    }
    uint64_t req = 0, sts = 0;
    size_t n_lat = 0;
    int errors = 0;
    for (int i = 0; i < n_clients; i++) {
        pthread_join(ct[i], NULL);
        req += cl[i].requests;
        sts += cl[i].states;
        n_lat += cl[i].n_lat;
        errors += cl[i].errors;
    }
    double dt = bench_wall() - t0;
    sv.stop = 1;
    pthread_join(st, NULL);
    teacher_stats_t stats;
    teacher_service_stats(sv.svc, &stats);
    teacher_service_destroy(&sv.svc);
    double *all = malloc((n_lat ? n_lat : 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < n_clients; i++) {
        memcpy(all + k, cl[i].lat, cl[i].n_lat * sizeof(double));
        k += cl[i].n_lat;
        free(cl[i].lat);
    }
    qsort(all, n_lat, sizeof(double), bench_cmp_double);
    double p50 = n_lat ? all[n_lat / 2] : 0, p99 = n_lat ? all[(size_t)(0.99 * (double)(n_lat - 1))] : 0;
    free(all);
    double sps = (double)sts / dt;
    printf("%-9s %7d %12.0f %10.0f %9.3f %9.3f %12.1f %6d\n", batching ? "batched" : "naive", n_clients, sps,
           (double)req / dt, 1e3 * p50, 1e3 * p99,
           stats.rounds ? (double)stats.states / (double)stats.rounds : 0.0, errors);
    fflush(stdout);
    return sps;
}

int main(int argc, char **argv)
{
    const char *arch_spec = "4-256-256-2", *states_list = "256,16";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--states") && i + 1 < argc) states_list = argv[++i];
        else if (!strcmp(argv[i], "--inflight") && i + 1 < argc) inflight = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--arch") && i + 1 < argc) arch_spec = argv[++i];
        else {
            fprintf(stderr, "usage: bench-teacher [--seconds S] [--states N] [--inflight K] [--arch A]\n");
            return 2;
        }
    }
    if (seconds <= 0 || inflight < 1 || inflight > 64) {
        fprintf(stderr, "bench-teacher: bad arguments\n");
        return 2;
    }
    openblas_set_num_threads(1);
    log_set_role("bench-teacher", -1);
    mlp_arch_t arch;
    if (mlp_arch_parse(&arch, arch_spec) != 0 || arch.sizes[0] != 4) {
        fprintf(stderr, "bench-teacher: --arch must parse and have 4 inputs\n");
        return 2;
    }
    mlp_t *net = mlp_new(&arch, 1);
    rng_t rng;
    rng_seed(&rng, 1);
    mlp_init(net, &rng);

    float *x = malloc(65536 * 4 * sizeof(float)), *q = malloc(65536 * 256 * sizeof(float));
    float *scratch = malloc(mlp_infer_scratch(&arch, 1024) * sizeof(float));
    for (int i = 0; i < 65536 * 4; i++)
        x[i] = rng_uniformf(&rng) - 0.5f;
    const char *p = states_list;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 65536 || (*end && *end != ',')) {
            fprintf(stderr, "bench-teacher: bad --states list '%s'\n", states_list);
            return 2;
        }
        p = *end ? end + 1 : end;
        states = (int)v;
        /* the raw kernel for reference: mlp_infer alone at B = 1024 and B = states */
        double kern[2];
        for (int k = 0; k < 2; k++) {
            int B = k ? (states < 1024 ? states : 1024) : 1024, reps = 0;
            double t0 = bench_wall();
            while (bench_wall() - t0 < 0.5) {
                mlp_infer(&arch, net->params, x, B, q, scratch);
                reps++;
            }
            kern[k] = (double)B * reps / (bench_wall() - t0);
        }
        printf("\nbench-teacher: %s teacher, queries of %d states, %d in flight per client, %.1f s per row\n",
               arch_spec, states, inflight, seconds);
        printf("mlp_infer alone (1 thread): %.0f states/s at B=1024, %.0f states/s at B=%d\n", kern[0],
               kern[1], states < 1024 ? states : 1024);
        printf("%-9s %7s %12s %10s %9s %9s %12s %6s\n", "service", "clients", "states/s", "req/s", "p50 ms",
               "p99 ms", "states/round", "errors");
        const int counts[] = {1, 2, 4};
        double b[3], n[3];
        for (int i = 0; i < 3; i++) {
            b[i] = run_config(&arch, net->params, 1, counts[i]);
            n[i] = run_config(&arch, net->params, 0, counts[i]);
        }
        for (int i = 0; i < 3; i++)
            printf("%d states, %d client%s: batched / naive = %.2fx\n", states, counts[i],
                   counts[i] > 1 ? "s" : "", n[i] > 0 ? b[i] / n[i] : 0.0);
    }
    free(x);
    free(q);
    free(scratch);
    mlp_destroy(&net);
    return 0;
}
