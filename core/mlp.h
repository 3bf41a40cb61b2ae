/* mlp.h — multilayer perceptron with ReLU hidden layers and a linear output.
 *
 * All parameters live in one flat float buffer (llm.c style) so gradients and
 * Adam moments have the same shape and the optimiser is one loop. Layer l
 * (0 <= l < n_layers) maps sizes[l] -> sizes[l+1]:
 *   W_l at params + w_off[l], shape (sizes[l], sizes[l+1]) row-major,
 *   b_l at params + b_off[l], shape (sizes[l+1]),
 *   Y (B, out) = X (B, in) · W_l + b_l
 * so batched forward and backward are plain row-major sgemm calls. The first
 * layer (in = 4) uses a plain loop, which beats sgemm at that inner size. */
#ifndef KDQN_MLP_H
#define KDQN_MLP_H
#include <stddef.h>
#include <stdint.h>
#include "rng.h"

#define MLP_MAX_LAYERS 8

typedef struct {
    int n_layers;                    /* number of weight layers (>= 1) */
    int sizes[MLP_MAX_LAYERS + 1];   /* widths: sizes[0] = inputs, sizes[n_layers] = outputs */
    size_t w_off[MLP_MAX_LAYERS];
    size_t b_off[MLP_MAX_LAYERS];
    size_t n_params;
} mlp_arch_t;

enum {
    MLP_OK = 0,
    MLP_EARCH = -1,    /* malformed architecture string or widths out of range */
    MLP_EBATCH = -2,   /* batch size < 1 or > max_batch */
    MLP_ENOMEM = -3,
};
const char *mlp_strerror(int err);

/* Parses "4-64-64-2": 2..MLP_MAX_LAYERS+1 widths, each 1..4096. On error returns
 * MLP_EARCH and leaves *arch unchanged. */
int mlp_arch_parse(mlp_arch_t *arch, const char *spec);
/* Fills offsets and n_params from sizes/n_layers; MLP_EARCH if out of range. */
int mlp_arch_init(mlp_arch_t *arch, int n_layers, const int *sizes);
/* Writes "4-64-64-2" into buf (always NUL-terminated). */
void mlp_arch_format(const mlp_arch_t *arch, char *buf, size_t len);
int mlp_arch_equal(const mlp_arch_t *a, const mlp_arch_t *b);
/* Multiply-adds of one forward pass per state (for GFLOP/s figures: 2x this). */
size_t mlp_arch_macs(const mlp_arch_t *arch);

typedef struct {
    mlp_arch_t arch;
    int max_batch;
    int naive;        /* 1: use the naive reference loops instead of sgemm (tests, benchmarks) */
    float *params;    /* (n_params) owned */
    float *grads;     /* (n_params) owned */
    float *acts;      /* activations kept for backward: layer l output, (max_batch, sizes[l+1]) each */
    float *input;     /* (max_batch, sizes[0]) copy of the last forward's input */
    float *dbuf[2];   /* (max_batch, max width) backward scratch */
} mlp_t;

/* Allocates a network for batches up to max_batch; parameters are zero until
 * mlp_init. Returns NULL on bad arguments or allocation failure. */
mlp_t *mlp_new(const mlp_arch_t *arch, int max_batch);
void mlp_destroy(mlp_t **net);
/* PyTorch's nn.Linear default: W, b ~ U(-1/sqrt(in), 1/sqrt(in)). */
void mlp_init(mlp_t *net, rng_t *rng);
void mlp_zero_grad(mlp_t *net);

/* q (B, out) = net(x (B, in)); keeps what backward needs. MLP_EBATCH if B is out
 * of range. Never allocates. */
int mlp_forward(mlp_t *net, const float *x, int B, float *q);
/* Adds to net->grads the gradient of a loss whose gradient w.r.t. the last
 * forward's output is dq (B, out). B must equal that forward's B. */
int mlp_backward(mlp_t *net, const float *dq, int B);

/* Inference with external parameters and no saved state (actors, teacher,
 * evaluation): q (B, out) from x (B, in). scratch holds 2 * B * max width floats
 * (mlp_infer_scratch gives the count). Never allocates. */
size_t mlp_infer_scratch(const mlp_arch_t *arch, int B);
void mlp_infer(const mlp_arch_t *arch, const float *params, const float *x, int B, float *q,
               float *scratch);

/* Greedy action per row of q (B, A); ties go to the lower index (numpy argmax). */
void mlp_argmax(const float *q, int B, int A, int32_t *out);

/* Adam (Kingma & Ba) with bias correction, one loop over the flat buffers. */
typedef struct {
    float lr, beta1, beta2, eps;
    size_t n;
    int64_t t;        /* steps taken */
    float *m, *v;     /* (n) owned, zeroed */
} adam_t;

adam_t *adam_new(size_t n, float lr, float beta1, float beta2, float eps);
void adam_destroy(adam_t **opt);
/* t += 1; params -= lr * mhat / (sqrt(vhat) + eps). */
void adam_step(adam_t *opt, float *params, const float *grads);

/* Scales grads so their global L2 norm is at most max_norm (no-op when
 * max_norm <= 0). Returns the norm before clipping. */
float mlp_clip_grad_norm(float *grads, size_t n, float max_norm);

#endif
