/* eval.h — greedy evaluation of a Q-network on CartPole.
 *
 * Runs `episodes` CartPole copies side by side (one batched forward per step)
 * with epsilon = 0 until each has finished one episode. */
#ifndef KDQN_EVAL_H
#define KDQN_EVAL_H
#include <stdint.h>
#include "cartpole.h"
#include "mlp.h"

typedef struct {
    int episodes;
    double mean, std, min, max;
    int64_t env_steps;   /* steps the evaluation took */
} eval_result_t;

/* Returns 0, or -1 on bad arguments (episodes < 1, arch not 4-...-2) or no memory. */
int eval_greedy(const mlp_arch_t *arch, const float *params, int episodes, cartpole_version_t version,
                uint64_t seed, eval_result_t *out);

#endif
