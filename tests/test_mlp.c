/* test_mlp.c — MLP forward/backward, sgemm vs naive twin, Adam, clipping,
 * architecture strings. Exits non-zero (and says what) on any failure.
 *
 * Gradient checks: a double-precision reference network written here (same flat
 * layout as mlp.h) gives central differences with h = 1e-5 (truncation ~1e-10);
 * the library's float backward is compared with them element by element as
 * rel = |analytic - fd| / max(|analytic|, |fd|, 1e-3). */
#include "check.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "mlp.h"
#include "rng.h"



static double rel_err(double a, double b, double floor)
{
    double d = fmax(fmax(fabs(a), fabs(b)), floor);
    return fabs(a - b) / d;
}

static void fill_uniform(float *x, size_t n, rng_t *r, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * rng_uniformf(r);
}

// ----------------------------------------------------------------------------
// double reference network

/* q (B, out) = ref net(x (B, in)); pre, if non-NULL, receives every hidden layer's
 * pre-activations back to back (for the ReLU-kink distance). */
static void ref_forward(const mlp_arch_t *a, const double *p, const double *x, int B, double *q,
                        double *pre)
{
    int maxw = 0;
    for (int l = 0; l <= a->n_layers; l++)
        maxw = a->sizes[l] > maxw ? a->sizes[l] : maxw;
    double *cur = malloc(sizeof(double) * (size_t)B * maxw);
    double *nxt = malloc(sizeof(double) * (size_t)B * maxw);
    memcpy(cur, x, sizeof(double) * (size_t)B * a->sizes[0]);
    size_t pre_off = 0;
    for (int l = 0; l < a->n_layers; l++) {
        int in = a->sizes[l], out = a->sizes[l + 1];
        const double *W = p + a->w_off[l], *b = p + a->b_off[l];
        for (int i = 0; i < B; i++)
            for (int j = 0; j < out; j++) {
                double s = b[j];
                for (int k = 0; k < in; k++)
                    s += cur[i * in + k] * W[k * out + j];
                int hidden = l < a->n_layers - 1;
                if (hidden && pre)
                    pre[pre_off + (size_t)i * out + j] = s;
                nxt[i * out + j] = hidden ? (s > 0 ? s : 0) : s;
            }
        if (l < a->n_layers - 1)
            pre_off += (size_t)B * out;
        double *t = cur; cur = nxt; nxt = t;
    }
    memcpy(q, cur, sizeof(double) * (size_t)B * a->sizes[a->n_layers]);
    free(cur);
    free(nxt);
}

/* The scalar loss used by the gradient checks, on double Q-values (B, A). */
typedef struct {
    int kind;              /* 0: Σ c·q; 1: Huber TD + alpha·KL(T) + NLL chain */
    const double *c;       /* (B, A) */
    const int32_t *action; /* (B) */
    const double *y;       /* (B) */
    const double *w;       /* (B) */
    const double *qt;      /* (B, A) */
    const uint8_t *mask;   /* (B) */
    double alpha, T;
} ref_loss_t;

static double ref_logsumexp(const double *z, int A)
{
    double m = z[0];
    for (int a = 1; a < A; a++)
        m = z[a] > m ? z[a] : m;
    double s = 0;
    for (int a = 0; a < A; a++)
        s += exp(z[a] - m);
    return m + log(s);
}

static double ref_loss(const ref_loss_t *L, const double *q, int B, int A)
{
    double s = 0;
    if (L->kind == 0) {
        for (int i = 0; i < B * A; i++)
            s += L->c[i] * q[i];
        return s;
    }
    double td = 0;
    for (int i = 0; i < B; i++) {
        double x = q[i * A + L->action[i]] - L->y[i];
        td += L->w[i] * (fabs(x) < 1 ? 0.5 * x * x : fabs(x) - 0.5);
    }
    td /= B;
    double kl = 0, nll = 0;
    int n = 0;
    for (int i = 0; i < B; i++) {
        if (!L->mask[i])
            continue;
        n++;
        double zs[16], zt[16];
        for (int a = 0; a < A; a++) {
            zs[a] = q[i * A + a] / L->T;
            zt[a] = L->qt[i * A + a] / L->T;
        }
        double ls = ref_logsumexp(zs, A), lt = ref_logsumexp(zt, A);
        int best = 0;
        for (int a = 0; a < A; a++) {
            double pt = exp(zt[a] - lt);
            kl += pt * ((zt[a] - lt) - (zs[a] - ls));
            if (L->qt[i * A + a] > L->qt[i * A + best])
                best = a;
        }
        nll += ref_logsumexp(q + i * A, A) - q[i * A + best];
    }
    return td + L->alpha * L->T * L->T * kl / n + nll / n;
}

/* Library side of the same loss: fills dq (B, A) from float q. */
static void lib_loss_grad(const ref_loss_t *L, const float *q, int B, int A, float *dq)
{
    memset(dq, 0, sizeof(float) * (size_t)B * A);
    if (L->kind == 0) {
        for (int i = 0; i < B * A; i++)
            dq[i] = (float)L->c[i];
        return;
    }
    float *y = malloc(sizeof(float) * B), *w = malloc(sizeof(float) * B);
    float *qt = malloc(sizeof(float) * B * A);
    for (int i = 0; i < B; i++) {
        y[i] = (float)L->y[i];
        w[i] = (float)L->w[i];
    }
    for (int i = 0; i < B * A; i++)
        qt[i] = (float)L->qt[i];
    loss_td(LOSS_TD_HUBER, q, L->action, y, w, B, A, 1.0f, dq, NULL);
    loss_kd(LOSS_KD_KL, q, qt, L->mask, B, A, (float)L->T, (float)L->alpha, dq);
    loss_kd(LOSS_KD_NLL, q, qt, L->mask, B, A, 1.0f, 1.0f, dq);
    free(y);
    free(w);
    free(qt);
}

/* Draws inputs whose hidden pre-activations all stay >= margin away from 0, so the
 * h = 1e-5 differences never cross a ReLU kink. */
static void draw_inputs_off_kinks(const mlp_arch_t *a, const double *p, int B, rng_t *r, double *x)
{
    const int in = a->sizes[0];
    size_t n_pre = 0;
    for (int l = 0; l < a->n_layers - 1; l++)
        n_pre += a->sizes[l + 1];
    double *pre = malloc(sizeof(double) * (n_pre ? n_pre : 1));
    double *q = malloc(sizeof(double) * a->sizes[a->n_layers]);
    for (int i = 0; i < B; i++) {
        for (int tries = 0; tries < 10000; tries++) {
            for (int k = 0; k < in; k++)
                x[i * in + k] = 4.0 * rng_uniform(r) - 2.0;
            ref_forward(a, p, x + i * in, 1, q, pre);
            double dmin = 1e30;
            for (size_t j = 0; j < n_pre; j++)
                dmin = fmin(dmin, fabs(pre[j]));
            if (dmin > 1e-2)
                break;
        }
    }
    free(pre);
    free(q);
}

/* Checks every W_l and b_l gradient of net `spec` at batch B under loss kind. */
static void gradcheck_net(const char *spec, int B, int loss_kind, uint64_t seed)
{
    mlp_arch_t a;
    CHECK(mlp_arch_parse(&a, spec) == MLP_OK, "parse %s", spec);
    const int A = a.sizes[a.n_layers], in = a.sizes[0];
    mlp_t *net = mlp_new(&a, B);
    CHECK(net != NULL, "mlp_new %s", spec);
    if (!net)
        return;
    rng_t r;
    rng_seed(&r, seed);
    mlp_init(net, &r);
    // widen the biases so fewer units sit near their kink
    for (int l = 0; l < a.n_layers; l++)
        for (int j = 0; j < a.sizes[l + 1]; j++)
            net->params[a.b_off[l] + j] += 0.3f * (2.0f * rng_uniformf(&r) - 1.0f);
    const size_t P = a.n_params;
    double *p = malloc(sizeof(double) * P);
    for (size_t i = 0; i < P; i++)
        p[i] = net->params[i];
    double *xd = malloc(sizeof(double) * B * in);
    float *xf = malloc(sizeof(float) * B * in);
    draw_inputs_off_kinks(&a, p, B, &r, xd);
    for (int i = 0; i < B * in; i++) {
        xf[i] = (float)xd[i];
        xd[i] = xf[i];
    }

    // the loss
    double *c = malloc(sizeof(double) * B * A), *qt = malloc(sizeof(double) * B * A);
    double *y = malloc(sizeof(double) * B), *w = malloc(sizeof(double) * B);
    int32_t *act = malloc(sizeof(int32_t) * B);
    uint8_t *mask = malloc(B);
    double *qd = malloc(sizeof(double) * B * A);
    ref_forward(&a, p, xd, B, qd, NULL);
    for (int i = 0; i < B * A; i++) {
        c[i] = 2.0 * rng_uniform(&r) - 1.0;
        qt[i] = qd[i] + (2.0 * rng_uniform(&r) - 1.0);
    }
    static const double td_off[4] = {0.3, -2.5, -0.4, 1.7};  // both Huber regimes
    for (int i = 0; i < B; i++) {
        act[i] = (int32_t)rng_below(&r, (uint32_t)A);
        y[i] = qd[i * A + act[i]] - td_off[i % 4];
        w[i] = 0.5 + rng_uniform(&r);
        mask[i] = (i % 3) != 1;
    }
    mask[0] = 1;
    ref_loss_t L = {loss_kind, c, act, y, w, qt, mask, 0.7, 2.0};

    // analytic: float library forward, losses, backward
    float *q = malloc(sizeof(float) * B * A), *dq = malloc(sizeof(float) * B * A);
    CHECK(mlp_forward(net, xf, B, q) == MLP_OK, "forward");
    double fwd_err = 0, qmax = 1e-3;
    for (int i = 0; i < B * A; i++) {
        fwd_err = fmax(fwd_err, fabs(q[i] - qd[i]));
        qmax = fmax(qmax, fabs(qd[i]));
    }
    fwd_err /= qmax;  // max |float - double| / max |q|
    CHECK(fwd_err < 1e-5, "%s float forward vs double reference rel %.3g", spec, fwd_err);
    lib_loss_grad(&L, q, B, A, dq);
    mlp_zero_grad(net);
    CHECK(mlp_backward(net, dq, B) == MLP_OK, "backward");

    // numeric: central differences on the double reference
    const double h = 1e-5;
    double worst = 0;
    for (int l = 0; l < a.n_layers; l++) {
        double lw = 0, lb = 0;
        size_t nw = (size_t)a.sizes[l] * a.sizes[l + 1];
        for (size_t k = 0; k < nw + (size_t)a.sizes[l + 1]; k++) {
            size_t idx = k < nw ? a.w_off[l] + k : a.b_off[l] + (k - nw);
            double p0 = p[idx];
            p[idx] = p0 + h;
            ref_forward(&a, p, xd, B, qd, NULL);
            double lp = ref_loss(&L, qd, B, A);
            p[idx] = p0 - h;
            ref_forward(&a, p, xd, B, qd, NULL);
            double lm = ref_loss(&L, qd, B, A);
            p[idx] = p0;
            double e = rel_err(net->grads[idx], (lp - lm) / (2 * h), 1e-3);
            if (k < nw)
                lw = fmax(lw, e);
            else
                lb = fmax(lb, e);
        }
        printf("  gradcheck %-8s B=%-2d loss=%s layer %d: max rel err W %.2e  b %.2e\n", spec, B,
               loss_kind ? "huber+kl+nll" : "linear", l, lw, lb);
        worst = fmax(worst, fmax(lw, lb));
    }
    CHECK(worst < 1e-4, "%s gradient max rel err %.3g >= 1e-4", spec, worst);

    free(p); free(xd); free(xf); free(c); free(qt); free(y); free(w); free(act);
    free(mask); free(qd); free(q); free(dq);
    mlp_destroy(&net);
    CHECK(net == NULL, "destroy nulls");
}

// ----------------------------------------------------------------------------
// sgemm path vs naive path

static double tensor_rel(const float *a, const float *b, size_t n)
{
    double dmax = 0, vmax = 1e-12;
    for (size_t i = 0; i < n; i++) {
        dmax = fmax(dmax, fabs((double)a[i] - b[i]));
        vmax = fmax(vmax, fabs((double)b[i]));
    }
    return dmax / vmax;
}

static void fast_vs_naive(const char *spec, int max_batch, const int *batches, int n_batches)
{
    mlp_arch_t a;
    CHECK(mlp_arch_parse(&a, spec) == MLP_OK, "parse %s", spec);
    mlp_t *fast = mlp_new(&a, max_batch), *ref = mlp_new(&a, max_batch);
    CHECK(fast && ref, "mlp_new %s", spec);
    if (!fast || !ref)
        return;
    ref->naive = 1;
    rng_t r;
    rng_seed(&r, 42);
    mlp_init(fast, &r);
    memcpy(ref->params, fast->params, sizeof(float) * a.n_params);
    const int in = a.sizes[0], A = a.sizes[a.n_layers];
    float *x = malloc(sizeof(float) * max_batch * in);
    float *q1 = malloc(sizeof(float) * max_batch * A), *q2 = malloc(sizeof(float) * max_batch * A);
    float *q3 = malloc(sizeof(float) * max_batch * A), *dq = malloc(sizeof(float) * max_batch * A);
    float *scratch = malloc(sizeof(float) * mlp_infer_scratch(&a, max_batch));
    for (int t = 0; t < n_batches; t++) {
        int B = batches[t];
        fill_uniform(x, (size_t)B * in, &r, -2, 2);
        fill_uniform(dq, (size_t)B * A, &r, -1, 1);
        mlp_forward(fast, x, B, q1);
        mlp_forward(ref, x, B, q2);
        mlp_infer(&a, fast->params, x, B, q3, scratch);
        double ef = tensor_rel(q1, q2, (size_t)B * A), ei = tensor_rel(q3, q2, (size_t)B * A);
        mlp_zero_grad(fast);
        mlp_zero_grad(ref);
        mlp_backward(fast, dq, B);
        mlp_backward(ref, dq, B);
        double eb = 0;
        for (int l = 0; l < a.n_layers; l++) {
            size_t nw = (size_t)a.sizes[l] * a.sizes[l + 1];
            eb = fmax(eb, tensor_rel(fast->grads + a.w_off[l], ref->grads + a.w_off[l], nw));
            eb = fmax(eb, tensor_rel(fast->grads + a.b_off[l], ref->grads + a.b_off[l], a.sizes[l + 1]));
        }
        printf("  fast vs naive %-12s B=%-3d forward %.1e infer %.1e backward %.1e\n", spec, B, ef, ei, eb);
        CHECK(ef < 1e-5 && ei < 1e-5, "%s B=%d forward mismatch %.3g / infer %.3g", spec, B, ef, ei);
        CHECK(eb < 1e-5, "%s B=%d backward mismatch %.3g", spec, B, eb);
    }
    // backward adds: a second call doubles the gradient
    int B = batches[n_batches - 1];
    float *g1 = malloc(sizeof(float) * a.n_params);
    memcpy(g1, fast->grads, sizeof(float) * a.n_params);
    mlp_backward(fast, dq, B);
    for (size_t i = 0; i < a.n_params; i++)
        g1[i] *= 2;
    double e2 = tensor_rel(fast->grads, g1, a.n_params);
    CHECK(e2 < 1e-5, "%s backward does not accumulate (%.3g)", spec, e2);
    free(g1); free(x); free(q1); free(q2); free(q3); free(dq); free(scratch);
    mlp_destroy(&fast);
    mlp_destroy(&ref);
}

// ----------------------------------------------------------------------------
// Adam, clipping, misc

/* 19 params: two 8-wide vector blocks and a scalar tail, so both code paths run. */
static void test_adam(void)
{
    enum { N = 19, STEPS = 3 };
    const float lr = 0.01f, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    float p[N], g[STEPS][N];
    double pd[N], m[N] = {0}, v[N] = {0};
    for (int i = 0; i < N; i++) {
        p[i] = 0.5f - 0.25f * (float)(i % 7);
        pd[i] = p[i];
        for (int t = 0; t < STEPS; t++)
            g[t][i] = (i % 5 == 2 && t == 0) ? 0.0f : 0.1f * (float)((i * 7 + t * 3) % 11) - 0.55f;
    }
    adam_t *opt = adam_new(N, lr, b1, b2, eps);
    CHECK(opt != NULL && opt->t == 0, "adam_new");
    if (!opt)
        return;
    for (int t = 1; t <= STEPS; t++) {
        float before[N];
        memcpy(before, p, sizeof p);
        adam_step(opt, p, g[t - 1]);
        for (int i = 0; i < N; i++) {  // Kingma & Ba, Algorithm 1, in double
            double gi = g[t - 1][i];
            m[i] = (double)b1 * m[i] + (1 - (double)b1) * gi;
            v[i] = (double)b2 * v[i] + (1 - (double)b2) * gi * gi;
            double mhat = m[i] / (1 - pow(b1, t)), vhat = v[i] / (1 - pow(b2, t));
            pd[i] -= lr * mhat / (sqrt(vhat) + eps);
        }
        for (int i = 0; i < N; i++)
            CHECK(fabs(p[i] - pd[i]) < 1e-6, "adam step %d param %d: %.8f vs %.8f", t, i, p[i], pd[i]);
        if (t == 1)  // the first step moves every param with g != 0 by lr against sign(g)
            for (int i = 0; i < N; i++) {
                double expect = g[0][i] == 0 ? 0.0 : (g[0][i] > 0 ? -lr : lr);
                CHECK(fabs((p[i] - before[i]) - expect) < 1e-6, "adam first step param %d moved %.8f", i,
                      p[i] - before[i]);
            }
    }
    CHECK(opt->t == STEPS, "adam t = %lld", (long long)opt->t);
    adam_destroy(&opt);
    CHECK(opt == NULL, "adam_destroy nulls");
    adam_destroy(&opt);  // NULL-safe
}

static void test_clip(void)
{
    float g[2] = {3, 4};
    float n = mlp_clip_grad_norm(g, 2, 1.0f);
    CHECK(fabsf(n - 5) < 1e-6f, "clip returns norm before %g", n);
    CHECK(fabsf(g[0] - 0.6f) < 1e-6f && fabsf(g[1] - 0.8f) < 1e-6f, "clip result %g %g", g[0], g[1]);
    float g2[2] = {3, 4};
    n = mlp_clip_grad_norm(g2, 2, 10.0f);
    CHECK(n == 5 && g2[0] == 3 && g2[1] == 4, "no clip under max");
    n = mlp_clip_grad_norm(g2, 2, 0.0f);
    CHECK(n == 5 && g2[0] == 3 && g2[1] == 4, "max_norm 0 is a no-op");
    enum { N = 1000 };
    float big[N];
    rng_t r;
    rng_seed(&r, 7);
    fill_uniform(big, N, &r, -3, 3);
    double ss = 0;
    for (int i = 0; i < N; i++)
        ss += (double)big[i] * big[i];
    n = mlp_clip_grad_norm(big, N, 2.5f);
    double after = 0;
    for (int i = 0; i < N; i++)
        after += (double)big[i] * big[i];
    CHECK(fabs(n - sqrt(ss)) < 1e-4 * sqrt(ss), "clip norm %g vs %g", n, sqrt(ss));
    CHECK(fabs(sqrt(after) - 2.5) < 1e-5, "clipped norm %g", sqrt(after));
}

static void test_arch(void)
{
    mlp_arch_t a, keep;
    CHECK(mlp_arch_parse(&a, "4-64-64-2") == MLP_OK, "good arch");
    CHECK(a.n_layers == 3 && a.sizes[0] == 4 && a.sizes[3] == 2, "arch fields");
    CHECK(a.n_params == 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2, "n_params %zu", a.n_params);
    CHECK(mlp_arch_macs(&a) == 4 * 64 + 64 * 64 + 64 * 2, "macs");
    char buf[64];
    mlp_arch_format(&a, buf, sizeof buf);
    CHECK(strcmp(buf, "4-64-64-2") == 0, "format %s", buf);
    keep = a;
    const char *bad[] = {"", "4", "4--2", "4-0-2", "a-b", "4-99999-2", "1-2-3-4-5-6-7-8-9-10", "1-2-3-4-5-6-7-8-9-10-11",
                         "-4-2", "4-2-", "4-2x", " 4-2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(mlp_arch_parse(&a, bad[i]) == MLP_EARCH, "bad arch \"%s\" accepted", bad[i]);
        CHECK(mlp_arch_equal(&a, &keep) && a.n_params == keep.n_params, "bad arch \"%s\" changed *arch", bad[i]);
    }
    CHECK(mlp_arch_parse(&a, NULL) == MLP_EARCH, "NULL arch");
    CHECK(mlp_arch_parse(&a, "1-2-3-4-5-6-7-8-9") == MLP_OK, "8 layers ok");
    CHECK(mlp_arch_parse(&a, "4-4096-2") == MLP_OK, "width 4096 ok");
    CHECK(mlp_arch_parse(&a, "4-4097-2") == MLP_EARCH, "width 4097 rejected");
    CHECK(strlen(mlp_strerror(MLP_EARCH)) > 0 && strlen(mlp_strerror(-99)) > 0, "strerror");
}

static void test_misc(void)
{
    mlp_arch_t a;
    mlp_arch_parse(&a, "4-8-2");
    CHECK(mlp_new(&a, 0) == NULL, "max_batch 0 rejected");
    CHECK(mlp_new(NULL, 4) == NULL, "NULL arch rejected");
    mlp_t *net = mlp_new(&a, 4);
    CHECK(net != NULL, "mlp_new");
    if (!net)
        return;
    for (size_t i = 0; i < a.n_params; i++)
        CHECK(net->params[i] == 0 && net->grads[i] == 0, "params zero until init");
    rng_t r;
    rng_seed(&r, 1);
    mlp_init(net, &r);
    int in_range = 1;
    for (int l = 0; l < a.n_layers; l++) {
        float bound = 1.0f / sqrtf((float)a.sizes[l]);
        for (size_t i = a.w_off[l]; i < a.b_off[l] + a.sizes[l + 1]; i++)
            in_range &= fabsf(net->params[i]) <= bound;
    }
    CHECK(in_range, "init within U(-1/sqrt(in), 1/sqrt(in))");
    float x[5 * 4] = {0}, q[5 * 2];
    CHECK(mlp_forward(net, x, 0, q) == MLP_EBATCH, "B=0");
    CHECK(mlp_forward(net, x, 5, q) == MLP_EBATCH, "B>max");
    CHECK(mlp_backward(net, q, 5) == MLP_EBATCH, "backward B>max");
    mlp_destroy(&net);
    mlp_destroy(&net);  // NULL-safe
    mlp_destroy(NULL);

    const float qa[] = {1, 3, 3, 0, 5, -1, 2, 2, 2};
    int32_t am[3];
    mlp_argmax(qa, 3, 3, am);
    CHECK(am[0] == 1 && am[1] == 1 && am[2] == 0, "argmax ties low: %d %d %d", am[0], am[1], am[2]);
    CHECK(mlp_infer_scratch(&a, 10) >= 2 * 10 * 8, "infer scratch");
}

int main(void)
{
    openblas_set_num_threads(1);
    test_arch();
    test_misc();
    test_adam();
    test_clip();

    gradcheck_net("4-8-8-3", 5, 0, 11);
    gradcheck_net("4-8-8-3", 6, 1, 12);
    gradcheck_net("4-16-2", 1, 0, 13);
    gradcheck_net("4-16-2", 7, 1, 14);
    gradcheck_net("12-10-9-4", 4, 1, 15);  // sgemm first layer, small-in hidden layer

    const int b1[] = {1, 2, 7, 32, 64};
    fast_vs_naive("4-64-64-2", 64, b1, 5);
    const int b2[] = {1, 17, 256};
    fast_vs_naive("4-256-256-2", 256, b2, 3);
    const int b3[] = {1, 3, 33};
    fast_vs_naive("5-33-17-3", 40, b3, 3);
    fast_vs_naive("13-31-9-7-1", 40, b3, 3);

    printf("test_mlp: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
