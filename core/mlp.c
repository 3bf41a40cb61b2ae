/* mlp.c — MLP forward/backward on OpenBLAS sgemm (row-major), its naive twin,
 * Adam and gradient-norm clipping.
 *
 * Layer kernels come in three flavours:
 *   naive : textbook triple loops, the reference every fast path is tested against;
 *   small : row-broadcast loops for layers with a tiny inner size (in <= MLP_SMALL_IN,
 *           i.e. CartPole's 4 inputs), where sgemm's packing costs more than the work;
 *   gemm  : cblas_sgemm for everything else.
 * Nothing here allocates after mlp_new/adam_new, and nothing sets OpenBLAS's
 * thread count (callers choose it in main). */
#include "mlp.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif

#define MLP_SMALL_IN 8
#define MLP_ALIGN 64
#define VL 16  /* floats per fixed-width inner loop: one AVX-512 or two AVX2 vectors */

// ----------------------------------------------------------------------------
// memory

/* 64-byte aligned, zeroed; n may be 0 (one line is still allocated). */
static float *alloc_floats(size_t n)
{
    size_t bytes = n * sizeof(float);
    if (n != 0 && bytes / sizeof(float) != n)
        return NULL;
    bytes = (bytes + MLP_ALIGN - 1) / MLP_ALIGN * MLP_ALIGN;
    if (bytes == 0)
        bytes = MLP_ALIGN;
    float *p = aligned_alloc(MLP_ALIGN, bytes);
    if (p)
        memset(p, 0, bytes);
    return p;
}

static int max_width(const mlp_arch_t *a)
{
    int w = 0;
    for (int l = 0; l <= a->n_layers; l++)
        if (a->sizes[l] > w)
            w = a->sizes[l];
    return w;
}

/* Start of layer l's saved output inside net->acts: (max_batch, sizes[l+1]) each. */
static float *layer_acts(const mlp_t *net, int l)
{
    size_t off = 0;
    for (int j = 0; j < l; j++)
        off += (size_t)net->max_batch * (size_t)net->arch.sizes[j + 1];
    return net->acts + off;
}

// ----------------------------------------------------------------------------
// forward kernels: y (B, out) = x (B, in) · w (in, out) + b (out)

static void linear_forward_naive(float *y, const float *x, const float *w, const float *b,
                                 int B, int in, int out)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < out; j++) {
            float s = b[j];
            for (int k = 0; k < in; k++)
                s += x[(size_t)i * in + k] * w[(size_t)k * out + j];
            y[(size_t)i * out + j] = s;
        }
}

/* Row i: y_i = b + Σ_k x_ik · W_k, in blocks of VL outputs held in registers. The fixed
 * VL-wide inner loops are what gcc vectorizes at -O2 (its "very cheap" cost model
 * skips loops whose trip count is unknown); the tail is scalar. */
static void linear_forward_small(float *restrict y, const float *restrict x, const float *restrict w,
                                 const float *restrict b, int B, int in, int out)
{
    for (int i = 0; i < B; i++) {
        float *restrict yi = y + (size_t)i * out;  // (out)
        const float *xi = x + (size_t)i * in;      // (in)
        int j = 0;
        for (; j + VL <= out; j += VL) {
            float acc[VL];
            for (int v = 0; v < VL; v++)
                acc[v] = b[j + v];
            for (int k = 0; k < in; k++) {
                const float xk = xi[k];
                const float *wk = w + (size_t)k * out + j;
                for (int v = 0; v < VL; v++)
                    acc[v] += xk * wk[v];
            }
            for (int v = 0; v < VL; v++)
                yi[j + v] = acc[v];
        }
        for (; j < out; j++) {
            float s = b[j];
            for (int k = 0; k < in; k++)
                s += xi[k] * w[(size_t)k * out + j];
            yi[j] = s;
        }
    }
}

static void linear_forward_gemm(float *y, const float *x, const float *w, const float *b,
                                int B, int in, int out)
{
    for (int i = 0; i < B; i++)
        memcpy(y + (size_t)i * out, b, (size_t)out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, in,
                1.0f, x, in, w, out, 1.0f, y, out);
}

static void linear_forward(float *y, const float *x, const float *w, const float *b,
                           int B, int in, int out, int naive)
{
    if (naive)
        linear_forward_naive(y, x, w, b, B, in, out);
    else if (in <= MLP_SMALL_IN)
        linear_forward_small(y, x, w, b, B, in, out);
    else
        linear_forward_gemm(y, x, w, b, B, in, out);
}

static void relu_inplace(float *y, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        for (int v = 0; v < VL; v++)
            y[i + v] = y[i + v] > 0.0f ? y[i + v] : 0.0f;
    for (; i < n; i++)
        y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

/* dx *= [x > 0], x the previous layer's ReLU output. */
static void relu_mask(float *restrict dx, const float *restrict x, size_t n)
{
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        for (int v = 0; v < VL; v++)
            dx[i + v] = x[i + v] > 0.0f ? dx[i + v] : 0.0f;
    for (; i < n; i++)
        dx[i] = x[i] > 0.0f ? dx[i] : 0.0f;
}

/* Runs all layers on x (B, sizes[0]); layer l writes outs[l] (B, sizes[l+1]). */
static void forward_layers(const mlp_arch_t *a, const float *params, const float *x, int B,
                           float *const *outs, int naive)
{
    const float *in_act = x;
    for (int l = 0; l < a->n_layers; l++) {
        const int in = a->sizes[l], out = a->sizes[l + 1];
        float *y = outs[l];  // (B, out)
        linear_forward(y, in_act, params + a->w_off[l], params + a->b_off[l], B, in, out, naive);
        if (l < a->n_layers - 1)
            relu_inplace(y, (size_t)B * out);
        in_act = y;
    }
}

// ----------------------------------------------------------------------------
// backward kernels, for one layer with input x (B, in), weights w (in, out) and
// upstream gradient dy (B, out):
//   dw (in, out) += xᵀ · dy      db (out) += Σ_i dy[i]
//   dx (B, in)    = (dy · wᵀ) ⊙ [x > 0]   (x is the previous ReLU's output; dx NULL = skip)

static void linear_backward_naive(float *dx, float *dw, float *db, const float *dy,
                                  const float *x, const float *w, int B, int in, int out)
{
    for (int k = 0; k < in; k++)
        for (int j = 0; j < out; j++) {
            float s = 0.0f;
            for (int i = 0; i < B; i++)
                s += x[(size_t)i * in + k] * dy[(size_t)i * out + j];
            dw[(size_t)k * out + j] += s;
        }
    for (int j = 0; j < out; j++) {
        float s = 0.0f;
        for (int i = 0; i < B; i++)
            s += dy[(size_t)i * out + j];
        db[j] += s;
    }
    if (!dx)
        return;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < in; k++) {
            float s = 0.0f;
            for (int j = 0; j < out; j++)
                s += dy[(size_t)i * out + j] * w[(size_t)k * out + j];
            dx[(size_t)i * in + k] = x[(size_t)i * in + k] > 0.0f ? s : 0.0f;
        }
}

/* db (out) += Σ_i dy_i, VL columns at a time. */
static void bias_backward(float *restrict db, const float *restrict dy, int B, int out)
{
    int j = 0;
    for (; j + VL <= out; j += VL) {
        float acc[VL] = {0};
        for (int i = 0; i < B; i++) {
            const float *dyi = dy + (size_t)i * out + j;
            for (int v = 0; v < VL; v++)
                acc[v] += dyi[v];
        }
        for (int v = 0; v < VL; v++)
            db[j + v] += acc[v];
    }
    for (; j < out; j++) {
        float s = 0.0f;
        for (int i = 0; i < B; i++)
            s += dy[(size_t)i * out + j];
        db[j] += s;
    }
}

/* dW_k (out) += Σ_i x_ik · dy_i, VL columns at a time (as in linear_forward_small). */
static void linear_backward_small(float *restrict dx, float *restrict dw, float *restrict db,
                                  const float *restrict dy, const float *restrict x,
                                  const float *restrict w, int B, int in, int out)
{
    for (int k = 0; k < in; k++) {
        float *restrict dwk = dw + (size_t)k * out;  // (out) row k of dW
        int j = 0;
        for (; j + VL <= out; j += VL) {
            float acc[VL] = {0};
            for (int i = 0; i < B; i++) {
                const float xik = x[(size_t)i * in + k];
                const float *dyi = dy + (size_t)i * out + j;
                for (int v = 0; v < VL; v++)
                    acc[v] += xik * dyi[v];
            }
            for (int v = 0; v < VL; v++)
                dwk[j + v] += acc[v];
        }
        for (; j < out; j++) {
            float s = 0.0f;
            for (int i = 0; i < B; i++)
                s += x[(size_t)i * in + k] * dy[(size_t)i * out + j];
            dwk[j] += s;
        }
    }
    bias_backward(db, dy, B, out);
    if (!dx)
        return;
    for (int i = 0; i < B; i++) {
        const float *dyi = dy + (size_t)i * out;  // (out)
        for (int k = 0; k < in; k++) {
            const float *wk = w + (size_t)k * out;
            float s = 0.0f;
            for (int j = 0; j < out; j++)
                s += dyi[j] * wk[j];
            dx[(size_t)i * in + k] = x[(size_t)i * in + k] > 0.0f ? s : 0.0f;
        }
    }
}

static void linear_backward_gemm(float *dx, float *dw, float *db, const float *dy,
                                 const float *x, const float *w, int B, int in, int out)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, B,
                1.0f, x, in, dy, out, 1.0f, dw, out);
    bias_backward(db, dy, B, out);
    if (!dx)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, in, out,
                1.0f, dy, out, w, out, 0.0f, dx, in);
    relu_mask(dx, x, (size_t)B * in);
}

// ----------------------------------------------------------------------------
// network

mlp_t *mlp_new(const mlp_arch_t *arch, int max_batch)
{
    if (!arch || max_batch < 1 || arch->n_layers < 1 || arch->n_layers > MLP_MAX_LAYERS)
        return NULL;
    mlp_arch_t a;
    if (mlp_arch_init(&a, arch->n_layers, arch->sizes) != MLP_OK)
        return NULL;
    mlp_t *net = calloc(1, sizeof *net);
    if (!net)
        return NULL;
    net->arch = a;
    net->max_batch = max_batch;
    size_t n_acts = 0;
    for (int l = 0; l < a.n_layers; l++)
        n_acts += (size_t)max_batch * (size_t)a.sizes[l + 1];
    const size_t n_scratch = (size_t)max_batch * (size_t)max_width(&a);
    net->params = alloc_floats(a.n_params);
    net->grads = alloc_floats(a.n_params);
    net->acts = alloc_floats(n_acts);
    net->input = alloc_floats((size_t)max_batch * (size_t)a.sizes[0]);
    net->dbuf[0] = alloc_floats(n_scratch);
    net->dbuf[1] = alloc_floats(n_scratch);
    if (!net->params || !net->grads || !net->acts || !net->input || !net->dbuf[0] || !net->dbuf[1])
        mlp_destroy(&net);
    return net;
}

void mlp_destroy(mlp_t **net)
{
    if (!net || !*net)
        return;
    mlp_t *n = *net;
    free(n->params);
    free(n->grads);
    free(n->acts);
    free(n->input);
    free(n->dbuf[0]);
    free(n->dbuf[1]);
    free(n);
    *net = NULL;
}

void mlp_init(mlp_t *net, rng_t *rng)
{
    const mlp_arch_t *a = &net->arch;
    for (int l = 0; l < a->n_layers; l++) {
        const float bound = 1.0f / sqrtf((float)a->sizes[l]);
        const size_t nw = (size_t)a->sizes[l] * (size_t)a->sizes[l + 1];
        float *w = net->params + a->w_off[l];  // (in, out)
        float *b = net->params + a->b_off[l];  // (out)
        for (size_t i = 0; i < nw; i++)
            w[i] = (2.0f * rng_uniformf(rng) - 1.0f) * bound;
        for (int j = 0; j < a->sizes[l + 1]; j++)
            b[j] = (2.0f * rng_uniformf(rng) - 1.0f) * bound;
    }
}

void mlp_zero_grad(mlp_t *net)
{
    memset(net->grads, 0, net->arch.n_params * sizeof(float));
}

int mlp_forward(mlp_t *net, const float *x, int B, float *q)
{
    if (B < 1 || B > net->max_batch)
        return MLP_EBATCH;
    const mlp_arch_t *a = &net->arch;
    float *outs[MLP_MAX_LAYERS];
    for (int l = 0; l < a->n_layers; l++)
        outs[l] = layer_acts(net, l);
    memcpy(net->input, x, (size_t)B * a->sizes[0] * sizeof(float));
    forward_layers(a, net->params, net->input, B, outs, net->naive);
    memcpy(q, outs[a->n_layers - 1], (size_t)B * a->sizes[a->n_layers] * sizeof(float));
    return MLP_OK;
}

int mlp_backward(mlp_t *net, const float *dq, int B)
{
    if (B < 1 || B > net->max_batch)
        return MLP_EBATCH;
    const mlp_arch_t *a = &net->arch;
    const float *dy = dq;  // (B, sizes[l+1]) gradient w.r.t. layer l's output
    int buf = 0;
    for (int l = a->n_layers - 1; l >= 0; l--) {
        const int in = a->sizes[l], out = a->sizes[l + 1];
        const float *x = l ? layer_acts(net, l - 1) : net->input;  // (B, in)
        const float *w = net->params + a->w_off[l];                // (in, out)
        float *dw = net->grads + a->w_off[l];                      // (in, out)
        float *db = net->grads + a->b_off[l];                      // (out)
        float *dx = l ? net->dbuf[buf] : NULL;                     // (B, in)
        if (net->naive)
            linear_backward_naive(dx, dw, db, dy, x, w, B, in, out);
        else if (in <= MLP_SMALL_IN)
            linear_backward_small(dx, dw, db, dy, x, w, B, in, out);
        else
            linear_backward_gemm(dx, dw, db, dy, x, w, B, in, out);
        dy = dx;
        buf ^= 1;
    }
    return MLP_OK;
}

size_t mlp_infer_scratch(const mlp_arch_t *arch, int B)
{
    return 2 * (size_t)(B > 0 ? B : 0) * (size_t)max_width(arch);
}

void mlp_infer(const mlp_arch_t *arch, const float *params, const float *x, int B, float *q,
               float *scratch)
{
    if (B < 1)
        return;
    const size_t half = (size_t)B * (size_t)max_width(arch);
    float *outs[MLP_MAX_LAYERS];
    for (int l = 0; l < arch->n_layers; l++)
        outs[l] = l == arch->n_layers - 1 ? q : scratch + (l & 1) * half;
    forward_layers(arch, params, x, B, outs, 0);
}

void mlp_argmax(const float *q, int B, int A, int32_t *out)
{
    for (int i = 0; i < B; i++) {
        const float *qi = q + (size_t)i * A;
        int32_t best = 0;
        for (int a = 1; a < A; a++)
            if (qi[a] > qi[best])
                best = a;
        out[i] = best;
    }
}

// ----------------------------------------------------------------------------
// Adam

adam_t *adam_new(size_t n, float lr, float beta1, float beta2, float eps)
{
    adam_t *opt = calloc(1, sizeof *opt);
    if (!opt)
        return NULL;
    opt->lr = lr;
    opt->beta1 = beta1;
    opt->beta2 = beta2;
    opt->eps = eps;
    opt->n = n;
    opt->t = 0;
    opt->m = alloc_floats(n);
    opt->v = alloc_floats(n);
    if (!opt->m || !opt->v)
        adam_destroy(&opt);
    return opt;
}

void adam_destroy(adam_t **opt)
{
    if (!opt || !*opt)
        return;
    free((*opt)->m);
    free((*opt)->v);
    free(*opt);
    *opt = NULL;
}

void adam_step(adam_t *opt, float *params, const float *grads)
{
    opt->t += 1;
    const float b1 = opt->beta1, b2 = opt->beta2, lr = opt->lr, eps = opt->eps;
    // bias corrections in double: beta2^t is 1 - O(t * 1e-3) and loses digits in float
    const float inv_bc1 = (float)(1.0 / (1.0 - pow(b1, (double)opt->t)));
    const float inv_bc2 = (float)(1.0 / (1.0 - pow(b2, (double)opt->t)));
    float *restrict m = opt->m, *restrict v = opt->v, *restrict p = params;
    const float *restrict g = grads;
    size_t i = 0;
#if defined(__AVX__)
    // sqrtf may set errno, so gcc without -fno-math-errno never vectorizes this loop;
    // the AVX body computes the same correctly rounded sqrt and division, 8 at a time
    const __m256 vb1 = _mm256_set1_ps(b1), vb2 = _mm256_set1_ps(b2);
    const __m256 va1 = _mm256_set1_ps(1.0f - b1), va2 = _mm256_set1_ps(1.0f - b2);
    const __m256 vc1 = _mm256_set1_ps(inv_bc1), vc2 = _mm256_set1_ps(inv_bc2);
    const __m256 vlr = _mm256_set1_ps(lr), veps = _mm256_set1_ps(eps);
    for (; i + 8 <= opt->n; i += 8) {
        const __m256 gi = _mm256_loadu_ps(g + i);
        const __m256 mi = _mm256_add_ps(_mm256_mul_ps(vb1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(va1, gi));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(vb2, _mm256_loadu_ps(v + i)),
                                        _mm256_mul_ps(_mm256_mul_ps(va2, gi), gi));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        const __m256 num = _mm256_mul_ps(vlr, _mm256_mul_ps(mi, vc1));
        const __m256 den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vi, vc2)), veps);
        _mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_loadu_ps(p + i), _mm256_div_ps(num, den)));
    }
#endif
    for (; i < opt->n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        const float mhat = m[i] * inv_bc1;
        const float vhat = v[i] * inv_bc2;
        p[i] -= lr * mhat / (sqrtf(vhat) + eps);
    }
}

float mlp_clip_grad_norm(float *grads, size_t n, float max_norm)
{
    // sum of squares in double, in VL/2 independent lanes (vectorizes, and no single
    // long dependency chain)
    double acc[VL / 2] = {0};
    size_t i = 0;
    for (; i + VL / 2 <= n; i += VL / 2)
        for (int v = 0; v < VL / 2; v++)
            acc[v] += (double)grads[i + v] * grads[i + v];
    double ss = 0.0;
    for (; i < n; i++)
        ss += (double)grads[i] * grads[i];
    for (int v = 0; v < VL / 2; v++)
        ss += acc[v];
    const double norm = sqrt(ss);
    if (max_norm > 0.0f && norm > max_norm) {
        const float s = (float)(max_norm / norm);
        for (i = 0; i + VL <= n; i += VL)
            for (int v = 0; v < VL; v++)
                grads[i + v] *= s;
        for (; i < n; i++)
            grads[i] *= s;
    }
    return (float)norm;
}
