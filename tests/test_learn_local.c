/* test_learn_local — the math learns: a 4-64-64-2 Double DQN driven in-process
 * reaches a greedy mean return >= 475 over 100 episodes within 100k environment
 * steps on at least 4 of 5 seeds.
 *   test_learn_local [first_seed] [n_seeds] [min_solved] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

#include "dqn.h"
#include "local.h"

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    int first = argc > 1 ? atoi(argv[1]) : 1;
    int seeds = argc > 2 ? atoi(argv[2]) : 5;
    int need = argc > 3 ? atoi(argv[3]) : 4;
    int solved = 0;
    for (int s = first; s < first + seeds; s++) {
        dqn_config_t cfg;
        dqn_config_default(&cfg);
        cfg.seed = (uint64_t)s;
        local_opts_t o;
        local_opts_default(&o);
        o.max_env_steps = 100000;
        dqn_t *d = dqn_new(&cfg);
        if (!d) {
            fprintf(stderr, "FAIL: dqn_new\n");
            return 1;
        }
        local_result_t r;
        if (local_train(d, &o, &r) != 0) {
            fprintf(stderr, "FAIL: local_train error\n");
            return 1;
        }
        printf("seed %d: %s  env_steps_to_475 %lld  seconds %.2f  last eval %.1f ± %.1f  best %.1f  updates %lld\n",
               s, r.solved ? "solved" : "NOT solved", (long long)r.env_steps_to_target,
               r.solved ? r.seconds_to_target : r.seconds, r.last_eval_mean, r.last_eval_std,
               r.best_eval_mean, (long long)r.updates);
        fflush(stdout);
        solved += r.solved;
        dqn_destroy(&d);
    }
    printf("%d of %d seeds solved within 100k env steps (need %d)\n", solved, seeds, need);
    return solved >= need ? 0 : 1;
}
