/* loss.c — TD and distillation losses. Per-row math is in double (rows are a
 * handful of actions wide, so it costs nothing) with max-shifted log-sum-exp,
 * which keeps T = 0.01 and large Q-values finite. No allocation. */
#include "loss.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>

/* Index of the largest entry; ties go to the lower index. */
static int row_argmax(const float *q, int A)
{
    int best = 0;
    for (int a = 1; a < A; a++)
        if (q[a] > q[best])
            best = a;
    return best;
}

static double row_max(const float *q, int A)
{
    double m = q[0];
    for (int a = 1; a < A; a++)
        if (q[a] > m)
            m = q[a];
    return m;
}

/* log Σ_a exp(q[a] * inv_T), max-shifted. */
static double row_logsumexp(const float *q, int A, double inv_T)
{
    const double m = row_max(q, A) * inv_T;
    double s = 0.0;
    for (int a = 0; a < A; a++)
        s += exp((double)q[a] * inv_T - m);
    return m + log(s);
}

void loss_double_dqn_target(const float *q_online_next, const float *q_target_next,
                            const float *reward, const float *discount, int B, int A, float *y)
{
    for (int i = 0; i < B; i++) {
        const int a = row_argmax(q_online_next + (size_t)i * A, A);
        y[i] = reward[i] + discount[i] * q_target_next[(size_t)i * A + a];
    }
}

float loss_td(loss_td_kind_t kind, const float *q, const int32_t *action, const float *y,
              const float *weight, int B, int A, float scale, float *dq, float *td_error)
{
    if (B < 1)
        return 0.0f;
    double total = 0.0;
    const double inv_B = 1.0 / B;
    for (int i = 0; i < B; i++) {
        const int a = action[i];
        assert(a >= 0 && a < A);  // actions are validated when transitions are decoded
        const double x = (double)q[(size_t)i * A + a] - y[i];
        const double w = weight ? weight[i] : 1.0;
        double l, g;  // loss and dl/dx
        if (kind == LOSS_TD_HUBER && fabs(x) >= 1.0) {
            l = fabs(x) - 0.5;
            g = x > 0.0 ? 1.0 : -1.0;
        } else {
            l = 0.5 * x * x;
            g = x;
        }
        total += w * l;
        dq[(size_t)i * A + a] += (float)(scale * w * g * inv_B);
        if (td_error)
            td_error[i] = (float)x;
    }
    return (float)(total * inv_B);
}

/* One row of T² KL(p_t ‖ p_s), p = softmax(q / T); adds g * T (p_s - p_t) to dq. */
static double kd_kl_row(const float *qs, const float *qt, int A, double T, double g, float *dq)
{
    const double inv_T = 1.0 / T;
    const double lse_s = row_logsumexp(qs, A, inv_T);
    const double lse_t = row_logsumexp(qt, A, inv_T);
    double kl = 0.0;
    for (int a = 0; a < A; a++) {
        const double log_ps = qs[a] * inv_T - lse_s;
        const double log_pt = qt[a] * inv_T - lse_t;
        const double pt = exp(log_pt);
        kl += pt * (log_pt - log_ps);
        dq[a] += (float)(g * T * (exp(log_ps) - pt));
    }
    return T * T * kl;
}

/* One row of mean_a (q_s - q_t)²; adds g * 2 (q_s - q_t) / A to dq. */
static double kd_mse_row(const float *qs, const float *qt, int A, double g, float *dq)
{
    double s = 0.0;
    for (int a = 0; a < A; a++) {
        const double d = (double)qs[a] - qt[a];
        s += d * d;
        dq[a] += (float)(g * 2.0 * d / A);
    }
    return s / A;
}

/* One row of -log softmax(q_s)[argmax q_t]; adds g * (softmax(q_s) - onehot) to dq. */
static double kd_nll_row(const float *qs, const float *qt, int A, double g, float *dq)
{
    const int target = row_argmax(qt, A);
    const double lse = row_logsumexp(qs, A, 1.0);
    for (int a = 0; a < A; a++)
        dq[a] += (float)(g * (exp(qs[a] - lse) - (a == target ? 1.0 : 0.0)));
    return lse - qs[target];
}

float loss_kd(loss_kd_kind_t kind, const float *q_s, const float *q_t, const uint8_t *has_teacher,
              int B, int A, float T, float scale, float *dq)
{
    int n = 0;
    for (int i = 0; i < B; i++)
        n += !has_teacher || has_teacher[i];
    if (n == 0)
        return 0.0f;
    const double g = (double)scale / n;  // d(mean)/d(row loss), times scale
    double total = 0.0;
    for (int i = 0; i < B; i++) {
        if (has_teacher && !has_teacher[i])
            continue;
        const float *qs = q_s + (size_t)i * A;  // (A)
        const float *qt = q_t + (size_t)i * A;  // (A)
        float *dqi = dq + (size_t)i * A;        // (A)
        switch (kind) {
        case LOSS_KD_KL: total += kd_kl_row(qs, qt, A, T, g, dqi); break;
        case LOSS_KD_MSE: total += kd_mse_row(qs, qt, A, g, dqi); break;
        case LOSS_KD_NLL: total += kd_nll_row(qs, qt, A, g, dqi); break;
        }
    }
    return (float)(total / n);
}

void loss_softmax(const float *q, int B, int A, float T, float *p)
{
    const double inv_T = 1.0 / T;
    for (int i = 0; i < B; i++) {
        const float *qi = q + (size_t)i * A;
        const double lse = row_logsumexp(qi, A, inv_T);
        for (int a = 0; a < A; a++)
            p[(size_t)i * A + a] = (float)exp(qi[a] * inv_T - lse);
    }
}
