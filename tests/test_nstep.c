/* test_nstep — n-step returns: values, bootstrapping on truncation, none on termination. */
#include "check.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nstep.h"


int main(void)
{
    const float g = 0.5f;
    nstep_t *ns = nstep_new(2, 3, 1, g);
    CHECK(ns != NULL, "nstep_new");
    CHECK(nstep_new(0, 3, 1, g) == NULL && nstep_new(1, 0, 1, g) == NULL && nstep_new(1, 3, 1, 1.5f) == NULL,
          "bad sizes accepted");
    float o_obs[64], o_next[64], o_rew[64], o_disc[64];
    int32_t o_act[64];
    nstep_out_t out = {0, o_obs, o_next, o_act, o_rew, o_disc};
    /* copy 0 runs 5 steps then terminates; copy 1 runs 4 steps then truncates.
     * rewards are 1,2,3,... (step index), obs = step index, next_obs = step index + 1 */
    int emitted0 = 0, emitted1 = 0;
    for (int t = 0; t < 5; t++) {
        float obs[2] = {(float)t, 100.0f + t}, next[2] = {t + 1.0f, 101.0f + t};
        int32_t act[2] = {t & 1, 1};
        float rew[2] = {(float)(t + 1), 10.0f * (t + 1)};
        uint8_t term[2] = {t == 4, 0}, trunc[2] = {0, t == 3};
        if (t == 4) {
            /* copy 1 already reset: a fresh episode's first step */
            obs[1] = 200.0f; next[1] = 201.0f; rew[1] = 7.0f;
        }
        out.len = 0;
        nstep_push(ns, obs, act, rew, next, term, trunc, &out);
        for (int j = 0; j < out.len; j++) {
            if (out.obs[j] < 100.0f) {
                int s = (int)out.obs[j];
                emitted0++;
                if (t < 4) {
                    /* full window: r_s+1 + g r_s+2 + g^2 r_s+3, bootstrap g^3 from obs s+3 */
                    float want = (s + 1) + g * (s + 2) + g * g * (s + 3);
                    CHECK(fabsf(out.reward[j] - want) < 1e-6f, "copy0 s=%d reward %g want %g", s, out.reward[j], want);
                    CHECK(out.discount[j] == g * g * g, "copy0 discount %g", out.discount[j]);
                    CHECK(out.next_obs[j] == s + 3.0f, "copy0 next_obs %g", out.next_obs[j]);
                } else {
                    /* terminated at t=4: tail never bootstraps */
                    float want = 0, gg = 1;
                    for (int k = s; k <= 4; k++, gg *= g)
                        want += gg * (k + 1);
                    CHECK(fabsf(out.reward[j] - want) < 1e-6f, "copy0 tail s=%d reward %g want %g", s, out.reward[j], want);
                    CHECK(out.discount[j] == 0.0f, "terminated transition bootstraps (discount %g)", out.discount[j]);
                    CHECK(out.next_obs[j] == 5.0f, "tail next_obs %g", out.next_obs[j]);
                }
                CHECK(out.action[j] == (s & 1), "action %d for s=%d", out.action[j], s);
            } else if (out.obs[j] < 200.0f) {
                int s = (int)out.obs[j] - 100;
                emitted1++;
                int len = t == 3 ? 3 - s + 1 : 3;
                if (len > 3) len = 3;
                float want = 0, gg = 1;
                for (int k = 0; k < len; k++, gg *= g)
                    want += gg * 10.0f * (s + k + 1);
                CHECK(fabsf(out.reward[j] - want) < 1e-5f, "copy1 s=%d reward %g want %g", s, out.reward[j], want);
                CHECK(fabsf(out.discount[j] - gg) < 1e-7f, "truncated transition must bootstrap with g^%d (got %g)",
                      len, out.discount[j]);
            } else {
                CHECK(0, "fresh episode emitted too early");
            }
        }
    }
    CHECK(emitted0 == 5, "copy 0 emitted %d transitions, want 5", emitted0);
    CHECK(emitted1 == 4, "copy 1 emitted %d transitions, want 4", emitted1);
    nstep_destroy(&ns);
    CHECK(ns == NULL, "destroy nulls");
    nstep_destroy(&ns);
    if (failures) {
        fprintf(stderr, "test_nstep: %d failures\n", failures);
        return 1;
    }
    printf("test_nstep: ok\n");
    return 0;
}
