/* bench-actor — env steps/s of the whole actor loop (SUB drain, one batched
 * forward of a 4-64-64-2 net over the K copies, ε-greedy, CartPole step,
 * n-step, batch encoding and sending to a local PULL that a thread drains) for
 * K copies per actor. K = 1 is the naive way: one forward per env step.
 *
 *   bench-actor [--repeats R] [--seconds S] [--arch SPEC] [K ...]
 * Prints the median over R runs of ~S seconds each and the ratio to K = 1. */
#include "bench_util.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "actor.h"
#include "log.h"
#include "mlp.h"
#include "rng.h"

typedef struct {
    void *pull;
    atomic_int done;
    uint64_t msgs, bytes;
} drain_t;

static void *drain_main(void *arg)
{
    drain_t *d = arg;
    zmq_msg_t m;
    while (!atomic_load(&d->done)) {
        zmq_pollitem_t it = {d->pull, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 20) <= 0)
            continue;
        zmq_msg_init(&m);
        while (zmq_msg_recv(&m, d->pull, ZMQ_DONTWAIT) >= 0) {
            d->msgs++;
            d->bytes += zmq_msg_size(&m);
        }
        zmq_msg_close(&m);
    }
    return NULL;
}



/* One run of the real loop for max_steps env steps; returns env steps per
 * wall second, and per CPU second of the loop's thread in *cpu_rate (the
 * machine is shared: CPU time is the steadier figure; ZeroMQ's I/O thread
 * is not in it). */
static double bench_run(void *ctx, const char *pull_ep, const char *pub_ep, const char *arch_s,
                        const float *params, int K, uint64_t max_steps, double *cpu_rate)
{
    actor_config_t cfg;
    actor_config_default(&cfg);
    cfg.n_envs = K;
    cfg.max_env_steps = max_steps;
    cfg.learner_timeout_s = 1e9;  /* the bench publishes nothing */
    cfg.stats_interval_s = 0;
    snprintf(cfg.learner_ep, sizeof cfg.learner_ep, "%s", pull_ep);
    snprintf(cfg.weights_ep, sizeof cfg.weights_ep, "%s", pub_ep);
    int err;
    actor_t *a = actor_new(&cfg, ctx, &err);
    if (!a || actor_set_weights(a, arch_s, params, 1)) {
        fprintf(stderr, "bench-actor: actor_new: %s\n", actor_strerror(err));
        exit(1);
    }
    static volatile sig_atomic_t never;
    double t0 = log_now(), c0 = bench_thread_cpu();
    int rc = actor_run(a, &never);
    double dt = log_now() - t0, dc = bench_thread_cpu() - c0;
    uint64_t steps = actor_stats(a)->env_steps;
    actor_destroy(&a);
    if (rc) {
        fprintf(stderr, "bench-actor: run failed: %s\n", actor_strerror(rc));
        exit(1);
    }
    if (cpu_rate)
        *cpu_rate = (double)steps / dc;
    return (double)steps / dt;
}

int main(int argc, char **argv)
{
    int repeats = 5;
    double seconds = 0.5;
    const char *arch_s = "4-64-64-2";
    int ks[32], nk = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--arch") && i + 1 < argc)
            arch_s = argv[++i];
        else if (atoi(argv[i]) > 0 && nk < 32)
            ks[nk++] = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: bench-actor [--repeats R] [--seconds S] [--arch SPEC] [K ...]\n");
            return 2;
        }
    }
    if (repeats < 1 || repeats > 101 || !(seconds > 0)) {
        fprintf(stderr, "bench-actor: bad --repeats or --seconds\n");
        return 2;
    }
    if (nk == 0) {
        static const int def[] = {1, 8, 16, 32, 64, 128};
        for (nk = 0; nk < 6; nk++)
            ks[nk] = def[nk];
    }
    log_level = LOG_LEVEL_WARN;
    log_set_role("bench-actor", -1);

    mlp_arch_t arch;
    if (mlp_arch_parse(&arch, arch_s) || arch.sizes[0] != 4 || arch.sizes[arch.n_layers] != 2) {
        fprintf(stderr, "bench-actor: --arch must map 4 inputs to 2 actions\n");
        return 2;
    }
    mlp_t *net = mlp_new(&arch, 1);
    rng_t rng;
    rng_seed(&rng, 42);
    mlp_init(net, &rng);

    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL), *pub = zmq_socket(ctx, ZMQ_PUB);
    char pull_ep[128], pub_ep[128];
    size_t l1 = sizeof pull_ep, l2 = sizeof pub_ep;
    int linger = 0;
    zmq_setsockopt(pull, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(pull, "tcp://127.0.0.1:*") || zmq_bind(pub, "tcp://127.0.0.1:*")) {
        fprintf(stderr, "bench-actor: bind failed\n");
        return 1;
    }
    zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, pull_ep, &l1);
    zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, pub_ep, &l2);
    drain_t d = {.pull = pull};
    atomic_init(&d.done, 0);
    pthread_t th;
    pthread_create(&th, NULL, drain_main, &d);

    printf("bench-actor: whole actor loop, %s net, n-step 3, send-batch 256, eps 0.4, "
           "median of %d runs of ~%.2f s (K values interleaved)\n", arch_s, repeats, seconds);
    /* calibrate each K's run length to ~seconds */
    uint64_t steps[32];
    for (int i = 0; i < nk; i++) {
        double rate = bench_run(ctx, pull_ep, pub_ep, arch_s, net->params, ks[i], (uint64_t)ks[i] * 2000, NULL);
        steps[i] = (uint64_t)(rate * seconds);
        if (steps[i] < (uint64_t)ks[i])
            steps[i] = (uint64_t)ks[i];
    }
    static double wall[32][101], cpu[32][101];
    for (int k = 0; k < repeats; k++)  /* round-robin, so load from elsewhere hits every K alike */
        for (int i = 0; i < nk; i++)
            wall[i][k] = bench_run(ctx, pull_ep, pub_ep, arch_s, net->params, ks[i], steps[i], &cpu[i][k]);
    printf("%6s %14s %16s %8s %16s %8s %10s\n", "K", "steps/s (wall)", "min..max", "vs K=1",
           "steps/CPU-s", "vs K=1", "CPU us/iter");
    double base_w = 0, base_c = 0;
    for (int i = 0; i < nk; i++) {
        const int K = ks[i];
        qsort(wall[i], (size_t)repeats, sizeof(double), bench_cmp_double);
        qsort(cpu[i], (size_t)repeats, sizeof(double), bench_cmp_double);
        double mw = wall[i][repeats / 2], mc = cpu[i][repeats / 2];
        if (K == 1) {
            base_w = mw;
            base_c = mc;
        }
        char rw[32] = "-", rc[32] = "-", range[64];
        if (base_w > 0) {
            snprintf(rw, sizeof rw, "%.1fx", mw / base_w);
            snprintf(rc, sizeof rc, "%.1fx", mc / base_c);
        }
        snprintf(range, sizeof range, "%.2fM..%.2fM", wall[i][0] / 1e6, wall[i][repeats - 1] / 1e6);
        printf("%6d %14.0f %16s %8s %16.0f %8s %10.2f\n", K, mw, range, rw, mc, rc, 1e6 * K / mc);
    }
    atomic_store(&d.done, 1);
    pthread_join(th, NULL);
    printf("drained %llu messages, %.1f MB\n", (unsigned long long)d.msgs, d.bytes / 1e6);
    zmq_close(pull);
    zmq_close(pub);
    zmq_ctx_term(ctx);
    mlp_destroy(&net);
    return 0;
}
