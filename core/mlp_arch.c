/* mlp_arch.c — architecture descriptions: parsing, offsets, comparison. */
#include "mlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MLP_MAX_WIDTH 4096

int mlp_arch_init(mlp_arch_t *arch, int n_layers, const int *sizes)
{
    if (n_layers < 1 || n_layers > MLP_MAX_LAYERS)
        return MLP_EARCH;
    for (int l = 0; l <= n_layers; l++)
        if (sizes[l] < 1 || sizes[l] > MLP_MAX_WIDTH)
            return MLP_EARCH;
    mlp_arch_t a;
    memset(&a, 0, sizeof a);
    a.n_layers = n_layers;
    size_t off = 0;
    for (int l = 0; l <= n_layers; l++)
        a.sizes[l] = sizes[l];
    for (int l = 0; l < n_layers; l++) {
        a.w_off[l] = off;
        off += (size_t)sizes[l] * (size_t)sizes[l + 1];
        a.b_off[l] = off;
        off += (size_t)sizes[l + 1];
    }
    a.n_params = off;
    *arch = a;
    return MLP_OK;
}

int mlp_arch_parse(mlp_arch_t *arch, const char *spec)
{
    int sizes[MLP_MAX_LAYERS + 1];
    int n = 0;
    const char *p = spec;
    if (!spec || !*spec)
        return MLP_EARCH;
    for (;;) {
        if (*p < '0' || *p > '9')
            return MLP_EARCH;
        char *end;
        long v = strtol(p, &end, 10);
        if (v < 1 || v > MLP_MAX_WIDTH || n > MLP_MAX_LAYERS)
            return MLP_EARCH;
        sizes[n++] = (int)v;
        if (*end == '\0')
            break;
        if (*end != '-')
            return MLP_EARCH;
        p = end + 1;
    }
    if (n < 2)
        return MLP_EARCH;
    return mlp_arch_init(arch, n - 1, sizes);
}

void mlp_arch_format(const mlp_arch_t *arch, char *buf, size_t len)
{
    size_t off = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (int l = 0; l <= arch->n_layers && off < len; l++) {
        int w = snprintf(buf + off, len - off, l ? "-%d" : "%d", arch->sizes[l]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

int mlp_arch_equal(const mlp_arch_t *a, const mlp_arch_t *b)
{
    if (a->n_layers != b->n_layers)
        return 0;
    for (int l = 0; l <= a->n_layers; l++)
        if (a->sizes[l] != b->sizes[l])
            return 0;
    return 1;
}

size_t mlp_arch_macs(const mlp_arch_t *arch)
{
    size_t m = 0;
    for (int l = 0; l < arch->n_layers; l++)
        m += (size_t)arch->sizes[l] * (size_t)arch->sizes[l + 1];
    return m;
}

const char *mlp_strerror(int err)
{
    switch (err) {
    case MLP_OK: return "ok";
    case MLP_EARCH: return "bad network architecture (expected widths like 4-64-64-2, 1..4096 each, 1..8 layers)";
    case MLP_EBATCH: return "batch size out of range";
    case MLP_ENOMEM: return "out of memory";
    default: return "unknown mlp error";
    }
}
