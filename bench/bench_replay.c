/* bench_replay.c — replay buffer throughput: add (batches of 64), uniform and
 * prioritised sampling (B = 256) with priority updates, and checkpoint save/load.
 *
 *   bench_replay [capacity]      (default 1000000; obs_dim 4, 2 actions) */
#include "bench_util.h"
#include "ckpt.h"
#include "replay.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


static int bench(size_t cap, int prioritized)
{
    enum { OD = 4, NA = 2, N = 64, B = 256 };
    replay_t *rb = replay_new(cap, OD, NA, prioritized, 0.6f);
    replay_batch_t *b = rb ? replay_batch_new(rb, B) : NULL;
    float obs[N * OD], nobs[N * OD], rew[N], disc[N], q[N * NA], td[B];
    int32_t act[N];
    rng_t rng;
    if (!b) {
        fprintf(stderr, "bench_replay: out of memory\n");
        replay_destroy(&rb);
        return 1;
    }
    rng_seed(&rng, 1);
    for (int i = 0; i < N * OD; i++)
        obs[i] = nobs[i] = rng_uniformf(&rng);
    for (int i = 0; i < N; i++) {
        rew[i] = 1;
        disc[i] = 0.99f;
        act[i] = i & 1;
        q[2 * i] = q[2 * i + 1] = 0.5f;
    }
    size_t adds = 2 * cap / N;
    double t0 = bench_wall();
    for (size_t i = 0; i < adds; i++)
        replay_add(rb, N, obs, act, rew, nobs, disc, (i & 1) ? q : NULL);
    double t_add = bench_wall() - t0;
    int rounds = 20000;
    t0 = bench_wall();
    for (int r = 0; r < rounds; r++) {
        replay_sample(rb, &rng, B, 0.4f, b);
        if (prioritized) {
            for (int j = 0; j < B; j++)
                td[j] = rng_uniformf(&rng) * 2.0f;
            replay_update_priorities(rb, b->serial, td, B);
        }
    }
    double t_s = bench_wall() - t0;
    printf("%-11s capacity %zu: add %.1f M transitions/s; sample%s B=%d: %.1f k batches/s (%.2f us/batch)\n",
           prioritized ? "prioritized" : "uniform", cap, adds * (double)N / t_add / 1e6,
           prioritized ? "+update" : "", B, rounds / t_s / 1e3, t_s / rounds * 1e6);
    replay_batch_destroy(&b);
    replay_destroy(&rb);
    return 0;
}

static int bench_ckpt(void)
{
    ckpt_t a, c;
    char path[256];
    memset(&a, 0, sizeof a);
    if (mlp_arch_parse(&a.arch, "4-256-256-2") != MLP_OK)
        return 1;
    size_t P = a.arch.n_params;
    a.params = calloc(P, sizeof(float));
    a.target_params = calloc(P, sizeof(float));
    a.adam_m = calloc(P, sizeof(float));
    a.adam_v = calloc(P, sizeof(float));
    if (!a.params || !a.target_params || !a.adam_m || !a.adam_v)
        goto fail;
    snprintf(path, sizeof path, "/tmp/bench_replay_%ld.ckpt", (long)getpid());
    double t0 = bench_wall();
    int rc = ckpt_save(path, &a);
    double t1 = bench_wall();
    if (rc == CKPT_OK)
        rc = ckpt_load(path, &a.arch, &c);
    double t2 = bench_wall();
    unlink(path);
    if (rc != CKPT_OK) {
        fprintf(stderr, "bench_replay: %s\n", ckpt_strerror(rc));
        goto fail;
    }
    ckpt_free(&c);
    printf("ckpt 4-256-256-2 (%zu params, 4 arrays, %.2f MB): save %.2f ms (incl. fsync), load %.2f ms\n", P,
           16.0 * P / 1e6, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
    ckpt_free(&a);
    return 0;
fail:
    ckpt_free(&a);
    return 1;
}

int main(int argc, char **argv)
{
    size_t cap = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    if (cap == 0) {
        fprintf(stderr, "usage: bench_replay [capacity > 0]\n");
        return 2;
    }
    return bench(cap, 0) | bench(cap, 1) | bench_ckpt();
}
