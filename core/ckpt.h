/* ckpt.h — checkpoints: one documented binary format (see ckpt.c's header comment).
 *
 * A checkpoint holds the architecture, parameters, target-network parameters,
 * Adam state, training counters, RNG states and a free-form config string,
 * followed by a CRC-32C of everything before it. It is written to a temporary
 * file in the same folder, fsync'ed, renamed over the target and the folder
 * fsync'ed, so a crash mid-write leaves either the old file or the new one. */
#ifndef KDQN_CKPT_H
#define KDQN_CKPT_H
#include <stddef.h>
#include <stdint.h>
#include "mlp.h"
#include "rng.h"

#define CKPT_MAGIC "KDQNCKPT"
#define CKPT_VERSION 1
#define CKPT_MAX_RNG 4
#define CKPT_MAX_CONFIG 65536

enum {
    CKPT_OK = 0,
    CKPT_EIO = -1,        /* open/read/write/fsync/rename failed (errno kept) */
    CKPT_EMAGIC = -2,     /* not a kdqn checkpoint */
    CKPT_EVERSION = -3,   /* a format version this build does not read */
    CKPT_ETRUNC = -4,     /* file shorter than its header says */
    CKPT_ECRC = -5,       /* checksum mismatch: corrupted */
    CKPT_EARCH = -6,      /* malformed architecture, or not the one the caller expected */
    CKPT_EFORMAT = -7,    /* inconsistent sizes or non-finite parameters */
    CKPT_ENOMEM = -8,
};
const char *ckpt_strerror(int err);

typedef struct {
    int64_t env_steps, updates, ingested, episodes;
    int64_t policy_version;
    double wall_seconds;         /* training time so far */
    double best_eval_mean;
} ckpt_counters_t;

typedef struct {
    mlp_arch_t arch;
    float *params;               /* (n_params) */
    float *target_params;        /* (n_params) or NULL */
    float *adam_m, *adam_v;      /* (n_params) each, or NULL */
    int64_t adam_t;
    ckpt_counters_t counters;
    int n_rng;                   /* <= CKPT_MAX_RNG */
    rng_t rng[CKPT_MAX_RNG];
    char *config;                /* NUL-terminated, may be NULL */
} ckpt_t;

/* Atomic write. On error returns a negative code and the old file (if any) is intact. */
int ckpt_save(const char *path, const ckpt_t *ck);
/* Reads and fully validates a checkpoint into *ck, allocating its arrays (free with
 * ckpt_free). If expect is not NULL the architecture must equal it (CKPT_EARCH).
 * On error nothing is allocated and *ck is zeroed. */
int ckpt_load(const char *path, const mlp_arch_t *expect, ckpt_t *ck);
void ckpt_free(ckpt_t *ck);

/* CRC-32C (Castagnoli), exposed for tests and the proto checksum. */
uint32_t ckpt_crc32c(uint32_t crc, const void *data, size_t len);

#endif
