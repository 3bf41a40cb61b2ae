#include "nstep.h"

#include <stdlib.h>
#include <string.h>

nstep_t *nstep_new(int k, int n, int obs_dim, float gamma)
{
    if (k < 1 || n < 1 || n > 64 || obs_dim < 1 || !(gamma >= 0.0f && gamma <= 1.0f))
        return NULL;
    nstep_t *ns = calloc(1, sizeof *ns);
    if (!ns)
        return NULL;
    ns->k = k;
    ns->n = n;
    ns->obs_dim = obs_dim;
    ns->gamma = gamma;
    ns->win_obs = calloc((size_t)k * n * obs_dim, sizeof(float));
    ns->win_act = calloc((size_t)k * n, sizeof(int32_t));
    ns->win_rew = calloc((size_t)k * n, sizeof(float));
    ns->head = calloc((size_t)k, sizeof(int));
    ns->count = calloc((size_t)k, sizeof(int));
    if (!ns->win_obs || !ns->win_act || !ns->win_rew || !ns->head || !ns->count)
        nstep_destroy(&ns);
    return ns;
}

void nstep_destroy(nstep_t **ns)
{
    if (!ns || !*ns)
        return;
    free((*ns)->win_obs);
    free((*ns)->win_act);
    free((*ns)->win_rew);
    free((*ns)->head);
    free((*ns)->count);
    free(*ns);
    *ns = NULL;
}

int nstep_max_out(const nstep_t *ns) { return ns->k * ns->n; }

/* Emits the transition that starts at the oldest window entry of copy i and ends
 * at next_obs, then drops that entry. discount_tail = gamma^len if it bootstraps. */
static void emit_oldest(nstep_t *ns, int i, const float *next_obs_i, int bootstrap, nstep_out_t *out)
{
    const int n = ns->n, d = ns->obs_dim;
    int len = ns->count[i];
    int h = ns->head[i];
    float ret = 0.0f, g = 1.0f;
    for (int j = 0; j < len; j++) {
        int slot = (h + j) % n;
        ret += g * ns->win_rew[(size_t)i * n + slot];
        g *= ns->gamma;
    }
    int row = out->len++;
    memcpy(out->obs + (size_t)row * d, ns->win_obs + ((size_t)i * n + h) * d, sizeof(float) * d);
    memcpy(out->next_obs + (size_t)row * d, next_obs_i, sizeof(float) * d);
    out->action[row] = ns->win_act[(size_t)i * n + h];
    out->reward[row] = ret;
    out->discount[row] = bootstrap ? g : 0.0f;
    ns->head[i] = (h + 1) % n;
    ns->count[i]--;
}

void nstep_push(nstep_t *ns, const float *obs, const int32_t *action, const float *reward,
                const float *next_obs, const uint8_t *terminated, const uint8_t *truncated,
                nstep_out_t *out)
{
    const int n = ns->n, d = ns->obs_dim;
    for (int i = 0; i < ns->k; i++) {
        int slot = (ns->head[i] + ns->count[i]) % n;
        memcpy(ns->win_obs + ((size_t)i * n + slot) * d, obs + (size_t)i * d, sizeof(float) * d);
        ns->win_act[(size_t)i * n + slot] = action[i];
        ns->win_rew[(size_t)i * n + slot] = reward[i];
        ns->count[i]++;
        const float *nx = next_obs + (size_t)i * d;
        if (terminated[i] || truncated[i]) {
            /* flush the whole window: terminated ones never bootstrap */
            while (ns->count[i] > 0)
                emit_oldest(ns, i, nx, !terminated[i], out);
            ns->head[i] = 0;
        } else if (ns->count[i] == n) {
            emit_oldest(ns, i, nx, 1, out);
        }
    }
}
