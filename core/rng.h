/* rng.h — seedable pseudo-random numbers (xoshiro256**, seeded through splitmix64).
 *
 * Every environment copy, actor and learner owns one rng_t; seeds are derived
 * from (base seed, stream, index) so runs are reproducible whatever the rank
 * count. The state is plain data: checkpoints save and restore it verbatim. */
#ifndef KDQN_RNG_H
#define KDQN_RNG_H
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_t;

/* Seeds the generator from one 64-bit value. Never fails. */
void rng_seed(rng_t *r, uint64_t seed);
/* A seed for (base, stream, index), e.g. (seed, rank, copy). Distinct inputs give
 * unrelated seeds. */
uint64_t rng_derive(uint64_t base, uint64_t stream, uint64_t index);
uint64_t rng_next(rng_t *r);
/* Uniform double in [0, 1) with 53 random bits (numpy's construction). */
double rng_uniform(rng_t *r);
/* Uniform float in [0, 1) with 24 random bits. */
float rng_uniformf(rng_t *r);
/* Uniform integer in [0, n); n > 0. Unbiased (Lemire's method). */
uint32_t rng_below(rng_t *r, uint32_t n);

#endif
