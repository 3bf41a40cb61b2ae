/* bench_math.c — single-core figures for the network math:
 *   cblas_sgemm peak GFLOP/s (same run, for scale),
 *   forward states/s (fast vs naive path),
 *   DQN update steps/s and achieved GFLOP/s (fast vs naive path).
 * Every figure is the median of `repeats` timed runs of >= MIN_SECONDS of thread CPU
 * time each; all cases are interleaved run by run.
 *
 * usage: bench-math [repeats (default 7)] */
#include "bench_util.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loss.h"
#include "mlp.h"
#include "rng.h"

#define MIN_SECONDS 0.15
#define MAX_REPEATS 31

static int repeats = 7;

/* Rates are per core: this thread's CPU time, not wall time, so other processes on
 * the (shared, 2-core) machine do not count against us. main prints how much of the
 * wall time the thread actually ran. */



typedef void (*work_fn)(void *ctx);

/* A timed case. Cases are registered first and then timed round-robin, repeat by
 * repeat, so every median sees the same machine conditions (this VM's speed drifts
 * by tens of percent over seconds; timing cases one after another skews ratios). */
typedef struct {
    work_fn fn;
    void *ctx;
    long n;                   /* calls per timed run */
    double r[MAX_REPEATS];    /* calls per second, per run */
    double median;
} bcase;

#define MAX_CASES 32
static bcase cases[MAX_CASES];
static int n_cases;

static bcase *add_case(work_fn fn, void *ctx)
{
    bcase *c = &cases[n_cases++];
    c->fn = fn;
    c->ctx = ctx;
    // calibrate: how many calls fill MIN_SECONDS
    long n = 1;
    for (;;) {
        double t0 = bench_thread_cpu();
        for (long i = 0; i < n; i++)
            fn(ctx);
        double dt = bench_thread_cpu() - t0;
        if (dt > MIN_SECONDS / 4) {
            n = (long)((double)n * MIN_SECONDS / dt) + 1;
            break;
        }
        n *= 4;
    }
    c->n = n;
    return c;
}

static void run_cases(void)
{
    for (int k = 0; k < repeats; k++)
        for (int j = 0; j < n_cases; j++) {
            bcase *c = &cases[j];
            double t0 = bench_thread_cpu();
            for (long i = 0; i < c->n; i++)
                c->fn(c->ctx);
            c->r[k] = (double)c->n / (bench_thread_cpu() - t0);
        }
    for (int j = 0; j < n_cases; j++) {
        double sorted[MAX_REPEATS];
        memcpy(sorted, cases[j].r, sizeof(double) * (size_t)repeats);
        qsort(sorted, (size_t)repeats, sizeof sorted[0], bench_cmp_double);
        cases[j].median = sorted[repeats / 2];
    }
}

/* "  runs: a b c ..." in the given unit (rate times mult). */
static void print_runs(const bcase *c, double mult)
{
    printf("    runs:");
    for (int k = 0; k < repeats; k++)
        printf(" %.3g", c->r[k] * mult);
    printf("\n");
}

static void fill(float *x, size_t n, rng_t *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 2.0f * rng_uniformf(r) - 1.0f;
}

// ----------------------------------------------------------------------------
// sgemm peak

typedef struct {
    int M, N, K;
    float *a, *b, *c;
    bcase *bc;
} gemm_ctx;

static void gemm_work(void *p)
{
    gemm_ctx *g = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->M, g->N, g->K, 1.0f, g->a, g->K, g->b, g->N,
                0.0f, g->c, g->N);
}

static gemm_ctx *setup_sgemm(int M, int N, int K, rng_t *r)
{
    gemm_ctx *g = calloc(1, sizeof *g);
    g->M = M;
    g->N = N;
    g->K = K;
    g->a = malloc(sizeof(float) * M * K);
    g->b = malloc(sizeof(float) * K * N);
    g->c = malloc(sizeof(float) * M * N);
    fill(g->a, (size_t)M * K, r);
    fill(g->b, (size_t)K * N, r);
    g->bc = add_case(gemm_work, g);
    return g;
}

static double report_sgemm(const gemm_ctx *g)
{
    const double flop = 2.0 * g->M * g->N * g->K;
    printf("sgemm %dx%dx%d (M x N x K): %.2f GFLOP/s\n", g->M, g->N, g->K, g->bc->median * flop * 1e-9);
    print_runs(g->bc, flop * 1e-9);
    return g->bc->median * flop * 1e-9;
}

// ----------------------------------------------------------------------------
// forward

typedef struct {
    mlp_t *net;
    const float *x;
    float *q, *scratch;
    int B, use_infer;
} fwd_ctx;

typedef struct {
    const char *spec;
    int B;
    fwd_ctx infer, fwd, naive;
    bcase *c_infer, *c_fwd, *c_naive;
} fwd_bench;

static void fwd_work(void *p)
{
    fwd_ctx *f = p;
    if (f->use_infer)
        mlp_infer(&f->net->arch, f->net->params, f->x, f->B, f->q, f->scratch);
    else
        mlp_forward(f->net, f->x, f->B, f->q);
}

/* Like every mlp buffer, the caller's scratch is 64-byte aligned. */
static float *alloc_aligned(size_t n)
{
    return aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
}

static fwd_bench *setup_forward(const char *spec, int B, rng_t *r)
{
    fwd_bench *fb = calloc(1, sizeof *fb);
    fb->spec = spec;
    fb->B = B;
    mlp_arch_t a;
    mlp_arch_parse(&a, spec);
    mlp_t *net = mlp_new(&a, B), *naive = mlp_new(&a, B);
    mlp_init(net, r);
    memcpy(naive->params, net->params, sizeof(float) * a.n_params);
    naive->naive = 1;
    float *x = alloc_aligned((size_t)B * a.sizes[0]);
    float *q = alloc_aligned((size_t)B * a.sizes[a.n_layers]);
    float *scratch = alloc_aligned(mlp_infer_scratch(&a, B));
    fill(x, (size_t)B * a.sizes[0], r);
    fb->infer = (fwd_ctx){net, x, q, scratch, B, 1};
    fb->fwd = (fwd_ctx){net, x, q, scratch, B, 0};
    fb->naive = (fwd_ctx){naive, x, q, scratch, B, 0};
    fb->c_infer = add_case(fwd_work, &fb->infer);
    fb->c_fwd = add_case(fwd_work, &fb->fwd);
    fb->c_naive = add_case(fwd_work, &fb->naive);
    return fb;
}

static void report_forward(const fwd_bench *fb)
{
    const int B = fb->B;
    const double flop = 2.0 * (double)mlp_arch_macs(&fb->fwd.net->arch);  // per state
    const double s_inf = fb->c_infer->median * B, s_fwd = fb->c_fwd->median * B;
    const double s_nai = fb->c_naive->median * B;
    printf("forward %s B=%d: mlp_infer %.2f M states/s (%.1f GFLOP/s), mlp_forward %.2f M states/s "
           "(%.1f GFLOP/s), naive mlp_forward %.3f M states/s, mlp_forward/naive %.1fx\n",
           fb->spec, B, s_inf * 1e-6, s_inf * flop * 1e-9, s_fwd * 1e-6, s_fwd * flop * 1e-9, s_nai * 1e-6,
           s_fwd / s_nai);
    print_runs(fb->c_infer, B * 1e-6);
}

// ----------------------------------------------------------------------------
// DQN update: online forward on obs and next_obs, target forward on next_obs,
// Double DQN target, Huber TD loss, backward, clip, Adam.

typedef struct {
    mlp_t *online;  // fast or naive path
    mlp_t *target;  // holds the target params; used directly on the naive path
    adam_t *opt;
    int B, A;
    const float *obs, *next_obs;  // (B, in)
    const float *reward, *discount;  // (B)
    const int32_t *action;           // (B)
    float *q, *q_next_online, *q_next_target, *dq;  // (B, A)
    float *y;                                       // (B)
    float *scratch;
} dqn_ctx;

static void dqn_work(void *p)
{
    dqn_ctx *d = p;
    const mlp_arch_t *a = &d->online->arch;
    const int B = d->B;
    if (d->online->naive) {  // the reference twin: naive loops for all three forwards
        mlp_forward(d->online, d->next_obs, B, d->q_next_online);
        mlp_forward(d->target, d->next_obs, B, d->q_next_target);
    } else {
        mlp_infer(a, d->online->params, d->next_obs, B, d->q_next_online, d->scratch);
        mlp_infer(a, d->target->params, d->next_obs, B, d->q_next_target, d->scratch);
    }
    mlp_forward(d->online, d->obs, B, d->q);  // last, so backward sees obs
    loss_double_dqn_target(d->q_next_online, d->q_next_target, d->reward, d->discount, B, d->A, d->y);
    memset(d->dq, 0, sizeof(float) * (size_t)B * d->A);
    loss_td(LOSS_TD_HUBER, d->q, d->action, d->y, NULL, B, d->A, 1.0f, d->dq, NULL);
    mlp_zero_grad(d->online);
    mlp_backward(d->online, d->dq, B);
    mlp_clip_grad_norm(d->online->grads, a->n_params, 10.0f);
    adam_step(d->opt, d->online->params, d->online->grads);
}

typedef struct {
    const char *spec;
    int B;
    double target_k;  // k updates/s wanted, 0 = none
    dqn_ctx fast, naive;
    bcase *c_fast, *c_naive;
} dqn_bench;

static void dqn_ctx_init(dqn_ctx *d, const mlp_arch_t *a, const float *params, int B, int naive,
                         const dqn_ctx *share)
{
    const int A = a->sizes[a->n_layers];
    d->B = B;
    d->A = A;
    d->online = mlp_new(a, B);
    d->target = mlp_new(a, B);
    memcpy(d->online->params, params, sizeof(float) * a->n_params);
    memcpy(d->target->params, params, sizeof(float) * a->n_params);
    d->online->naive = d->target->naive = naive;
    d->opt = adam_new(a->n_params, 1e-4f, 0.9f, 0.999f, 1e-8f);
    d->obs = share->obs;
    d->next_obs = share->next_obs;
    d->reward = share->reward;
    d->discount = share->discount;
    d->action = share->action;
    d->q = alloc_aligned((size_t)B * A);
    d->q_next_online = alloc_aligned((size_t)B * A);
    d->q_next_target = alloc_aligned((size_t)B * A);
    d->dq = alloc_aligned((size_t)B * A);
    d->y = alloc_aligned((size_t)B);
    d->scratch = alloc_aligned(mlp_infer_scratch(a, B));
}

static dqn_bench *setup_dqn(const char *spec, int B, double target_k, rng_t *r)
{
    dqn_bench *db = calloc(1, sizeof *db);
    db->spec = spec;
    db->B = B;
    db->target_k = target_k;
    mlp_arch_t a;
    mlp_arch_parse(&a, spec);
    const int in = a.sizes[0], A = a.sizes[a.n_layers];
    mlp_t *init = mlp_new(&a, 1);
    mlp_init(init, r);
    float *obs = alloc_aligned((size_t)B * in), *next_obs = alloc_aligned((size_t)B * in);
    float *reward = alloc_aligned((size_t)B), *discount = alloc_aligned((size_t)B);
    int32_t *action = malloc(sizeof(int32_t) * B);
    fill(obs, (size_t)B * in, r);
    fill(next_obs, (size_t)B * in, r);
    for (int i = 0; i < B; i++) {
        reward[i] = 1.0f;
        discount[i] = i % 10 ? 0.99f : 0.0f;
        action[i] = (int32_t)rng_below(r, (uint32_t)A);
    }
    dqn_ctx share = {.obs = obs, .next_obs = next_obs, .reward = reward, .discount = discount, .action = action};
    dqn_ctx_init(&db->fast, &a, init->params, B, 0, &share);
    dqn_ctx_init(&db->naive, &a, init->params, B, 1, &share);
    mlp_destroy(&init);
    db->c_fast = add_case(dqn_work, &db->fast);
    db->c_naive = add_case(dqn_work, &db->naive);
    return db;
}

static int report_dqn(const dqn_bench *db, double peak)
{
    const double flop = 10.0 * (double)mlp_arch_macs(&db->fast.online->arch) * db->B;  // per update
    const double fast = db->c_fast->median, naive = db->c_naive->median;
    const double gf = fast * flop * 1e-9;
    const int met = db->target_k <= 0 || fast * 1e-3 >= db->target_k;
    printf("dqn update %s B=%d: %.2f k updates/s (%.1f GFLOP/s = %.0f%% of sgemm peak %.1f), naive %.3f k/s "
           "(%.2f GFLOP/s), fast/naive %.1fx",
           db->spec, db->B, fast * 1e-3, gf, 100.0 * gf / peak, peak, naive * 1e-3, naive * flop * 1e-9,
           fast / naive);
    if (db->target_k > 0)
        printf("  [target >= %.0f k/s: %s]", db->target_k, met ? "met" : "MISSED");
    printf("\n");
    print_runs(db->c_fast, 1e-3);
    return met;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        repeats = atoi(argv[1]);
        if (repeats < 5 || repeats > MAX_REPEATS) {
            fprintf(stderr, "usage: %s [repeats 5..%d]\n", argv[0], MAX_REPEATS);
            return 2;
        }
    }
    openblas_set_num_threads(1);
    const char *core = getenv("OPENBLAS_CORETYPE");
    printf("bench-math: 1 thread, OpenBLAS core %s (OPENBLAS_CORETYPE=%s); median of %d runs of >= %.2f s "
           "CPU time each, cases interleaved run by run\n",
           openblas_get_corename(), core ? core : "unset", repeats, MIN_SECONDS);
    rng_t r;
    rng_seed(&r, 1);

    gemm_ctx *g1 = setup_sgemm(512, 512, 512, &r);
    gemm_ctx *g2 = setup_sgemm(256, 64, 64, &r);
    gemm_ctx *g3 = setup_sgemm(64, 64, 64, &r);
    fwd_bench *f1 = setup_forward("4-64-64-2", 64, &r);
    fwd_bench *f2 = setup_forward("4-256-256-2", 256, &r);
    dqn_bench *d1 = setup_dqn("4-64-64-2", 32, 25, &r);
    dqn_bench *d2 = setup_dqn("4-64-64-2", 256, 4, &r);
    dqn_bench *d3 = setup_dqn("4-256-256-2", 64, 0, &r);
    const double w0 = bench_wall(), c0 = bench_thread_cpu();
    run_cases();
    printf("timed section: %.1f s wall, %.1f s on this thread's CPU (%.0f%%; the rest went to other "
           "processes)\n", bench_wall() - w0, bench_thread_cpu() - c0, 100.0 * (bench_thread_cpu() - c0) / (bench_wall() - w0));

    double peak = report_sgemm(g1);
    double p2 = report_sgemm(g2), p3 = report_sgemm(g3);
    peak = p2 > peak ? p2 : peak;
    peak = p3 > peak ? p3 : peak;
    printf("sgemm peak (best of the three): %.1f GFLOP/s\n", peak);

    report_forward(f1);
    const double s1 = f1->c_fwd->median * f1->B;
    printf("  [target >= 5 M states/s: %s]\n", s1 >= 5e6 ? "met" : "MISSED");
    report_forward(f2);

    printf("dqn update = online forward(obs) + online forward(next_obs) + target forward(next_obs) +\n"
           "  double-DQN target + Huber TD + backward + clip + Adam. GFLOP/s counts 2*MACs per forward\n"
           "  state (3B states) + 4*MACs per backward state (B states), i.e. 10*MACs*B per update;\n"
           "  losses, clipping and Adam are not counted.\n");
    int met = report_dqn(d1, peak);
    met &= report_dqn(d2, peak);
    report_dqn(d3, peak);
    (void)met;
    return 0;
}
