/* test_loss.c — TD and distillation losses: values, finite-difference gradients,
 * masks, IS weights, tiny temperatures, Double DQN targets. Exits non-zero on failure.
 *
 * The losses take float Q-values, so the central differences are taken on the
 * library's own float functions, computed in double: the actual perturbed floats
 * q ± h are divided by their real distance, and two step sizes are combined by
 * Richardson extrapolation (error O(h^4)). h is 1e-2 times the logit scale (T for
 * KL, 0.1 for the piecewise-quadratic TD losses, whose kinks are >= 0.2 away). The loss value itself comes back
 * as a float, whose rounding (2^-24 |L|) puts ~1e-5 * max|grad| of noise on every
 * difference, so the error is relative with a floor at 1% of the largest entry:
 *   rel = |analytic - fd| / max(|analytic|, |fd|, 1e-2 * max|fd|). */
#include "check.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "rng.h"



enum { B = 8, A = 3 };

/* One loss call, described so it can be re-evaluated at perturbed Q-values. */
typedef struct {
    const char *name;
    int is_td;
    loss_td_kind_t td;
    loss_kd_kind_t kd;
    const int32_t *action;
    const float *y, *weight;
    const float *q_t;
    const uint8_t *mask;
    float T, scale;
} lcase_t;

static float eval(const lcase_t *c, const float *q, float *dq)
{
    if (c->is_td)
        return loss_td(c->td, q, c->action, c->y, c->weight, B, A, c->scale, dq, NULL);
    return loss_kd(c->kd, q, c->q_t, c->mask, B, A, c->T, c->scale, dq);
}

static double central(const lcase_t *c, float *q, int idx, double h)
{
    float scratch[B * A];
    const float q0 = q[idx];
    const float qp = (float)(q0 + h), qm = (float)(q0 - h);
    q[idx] = qp;
    double lp = eval(c, q, scratch);
    q[idx] = qm;
    double lm = eval(c, q, scratch);
    q[idx] = q0;
    return (lp - lm) / ((double)qp - (double)qm);
}

/* FD check of dq; also checks dq is ADDED (pre-filled) and masked rows untouched. */
static void gradcheck(const lcase_t *c, const float *q_in, double h, double bound)
{
    float q[B * A], dq[B * A], base[B * A];
    memcpy(q, q_in, sizeof q);
    for (int i = 0; i < B * A; i++)
        base[i] = dq[i] = 0.25f * (float)(i % 5) - 0.5f;
    eval(c, q, dq);
    double fd[B * A], fdmax = 0;
    for (int i = 0; i < B * A; i++) {
        double d1 = central(c, q, i, h), d2 = central(c, q, i, h / 2);
        fd[i] = c->scale * (4 * d2 - d1) / 3;
        fdmax = fmax(fdmax, fabs(fd[i]));
    }
    double worst = 0;
    int untouched = 1;
    for (int i = 0; i < B * A; i++) {
        double a = (double)dq[i] - base[i];
        double den = fmax(fmax(fabs(a), fabs(fd[i])), 1e-2 * fdmax);
        worst = fmax(worst, fabs(a - fd[i]) / den);
        if (c->mask && !c->mask[i / A])
            untouched &= dq[i] == base[i];
    }
    printf("  gradcheck %-22s max rel err %.2e (bound %.0e)\n", c->name, worst, bound);
    CHECK(worst < bound, "%s: gradient max rel err %.3g", c->name, worst);
    CHECK(untouched, "%s: masked rows of dq changed", c->name);
    CHECK(fdmax > 0, "%s: zero gradient, test is vacuous", c->name);
}

// ----------------------------------------------------------------------------
// independent references (plain formulas, double)

static void ref_softmax(const float *q, double T, double *p)
{
    double m = q[0];
    for (int a = 1; a < A; a++)
        m = fmax(m, q[a]);
    double s = 0;
    for (int a = 0; a < A; a++)
        s += (p[a] = exp((q[a] - m) / T));
    for (int a = 0; a < A; a++)
        p[a] /= s;
}

static int ref_argmax(const float *q)
{
    int b = 0;
    for (int a = 1; a < A; a++)
        if (q[a] > q[b])
            b = a;
    return b;
}

static double ref_kd(loss_kd_kind_t kind, const float *qs, const float *qt, const uint8_t *mask, double T)
{
    double tot = 0;
    int n = 0;
    for (int i = 0; i < B; i++) {
        if (mask && !mask[i])
            continue;
        n++;
        const float *s = qs + i * A, *t = qt + i * A;
        double ps[A], pt[A];
        if (kind == LOSS_KD_KL) {
            ref_softmax(s, T, ps);
            ref_softmax(t, T, pt);
            double kl = 0;
            for (int a = 0; a < A; a++)
                kl += pt[a] * log(pt[a] / ps[a]);
            tot += T * T * kl;
        } else if (kind == LOSS_KD_MSE) {
            for (int a = 0; a < A; a++)
                tot += ((double)s[a] - t[a]) * ((double)s[a] - t[a]) / A;
        } else {
            ref_softmax(s, 1.0, ps);
            tot += -log(ps[ref_argmax(t)]);
        }
    }
    return n ? tot / n : 0;
}

// ----------------------------------------------------------------------------

static void test_td(rng_t *r)
{
    float q[B * A], y[B], w[B], td[B], dq[B * A];
    int32_t act[B];
    static const float off[B] = {0.3f, -2.5f, -0.4f, 1.7f, 0.05f, -1.2f, 3.0f, -0.7f};
    for (int i = 0; i < B * A; i++)
        q[i] = 4 * rng_uniformf(r) - 2;
    for (int i = 0; i < B; i++) {
        act[i] = (int32_t)rng_below(r, A);
        y[i] = q[i * A + act[i]] - off[i];
        w[i] = 0.25f + rng_uniformf(r);
    }
    // values by hand
    for (int kind = 0; kind < 2; kind++) {
        for (int weighted = 0; weighted < 2; weighted++) {
            memset(dq, 0, sizeof dq);
            float v = loss_td((loss_td_kind_t)kind, q, act, y, weighted ? w : NULL, B, A, 1.0f, dq, td);
            double ref = 0;
            for (int i = 0; i < B; i++) {
                double x = (double)q[i * A + act[i]] - y[i];
                double l = kind == LOSS_TD_HUBER ? (fabs(x) < 1 ? 0.5 * x * x : fabs(x) - 0.5) : 0.5 * x * x;
                ref += (weighted ? w[i] : 1.0) * l;
                CHECK(fabsf(td[i] - (float)x) < 1e-6f, "td_error row %d", i);
                for (int a = 0; a < A; a++)
                    if (a != act[i])
                        CHECK(dq[i * A + a] == 0, "TD gradient on an action not taken");
            }
            ref /= B;
            CHECK(fabs(v - ref) < 1e-6 * fmax(1, fabs(ref)), "td kind %d weighted %d value %g vs %g", kind,
                  weighted, v, ref);
        }
    }
    // Huber: |x| = 2.5 lies in the linear regime, gradient sign(x)/B exactly
    memset(dq, 0, sizeof dq);
    loss_td(LOSS_TD_HUBER, q, act, y, NULL, B, A, 1.0f, dq, NULL);
    CHECK(fabsf(dq[1 * A + act[1]] - (-1.0f / B)) < 1e-7f, "huber linear regime grad %g", dq[1 * A + act[1]]);
    CHECK(fabsf(dq[0 * A + act[0]] - (0.3f / B)) < 1e-6f, "huber quadratic regime grad %g", dq[0 * A + act[0]]);
    // B = 0 is a no-op
    CHECK(loss_td(LOSS_TD_HUBER, q, act, y, NULL, 0, A, 1.0f, dq, NULL) == 0.0f, "td B=0");

    lcase_t c = {"td huber (IS weights)", 1, LOSS_TD_HUBER, 0, act, y, w, NULL, NULL, 1, 1.0f};
    gradcheck(&c, q, 1e-1, 1e-3);
    c.name = "td huber scale 0.3";
    c.weight = NULL;
    c.scale = 0.3f;
    gradcheck(&c, q, 1e-1, 1e-3);
    c = (lcase_t){"td mse (IS weights)", 1, LOSS_TD_MSE, 0, act, y, w, NULL, NULL, 1, 1.0f};
    gradcheck(&c, q, 1e-1, 1e-3);
}

static void test_kd(rng_t *r)
{
    float qs[B * A], qt[B * A], dq[B * A];
    for (int i = 0; i < B * A; i++) {
        qs[i] = 3 * rng_uniformf(r) - 1.5f;
        qt[i] = 3 * rng_uniformf(r) - 1.5f;
    }
    const uint8_t mask[B] = {1, 0, 1, 1, 0, 1, 1, 0};
    const uint8_t none[B] = {0};

    // values against the plain formulas
    const loss_kd_kind_t kinds[3] = {LOSS_KD_KL, LOSS_KD_MSE, LOSS_KD_NLL};
    const char *names[3] = {"KL", "MSE", "NLL"};
    const float temps[3] = {1.0f, 2.0f, 0.05f};
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < 3; t++)
            for (int m = 0; m < 2; m++) {
                memset(dq, 0, sizeof dq);
                const uint8_t *mk = m ? mask : NULL;
                float v = loss_kd(kinds[k], qs, qt, mk, B, A, temps[t], 1.0f, dq);
                double ref = ref_kd(kinds[k], qs, qt, mk, kinds[k] == LOSS_KD_KL ? temps[t] : 1.0);
                CHECK(fabs(v - ref) < 1e-5 * fmax(1, fabs(ref)), "kd %s T=%g mask=%d value %.8g vs %.8g",
                      names[k], temps[t], m, v, ref);
            }
    // KL of identical distributions is 0 with 0 gradient
    memset(dq, 0, sizeof dq);
    float v0 = loss_kd(LOSS_KD_KL, qs, qs, NULL, B, A, 2.0f, 1.0f, dq);
    double gmax = 0;
    for (int i = 0; i < B * A; i++)
        gmax = fmax(gmax, fabs(dq[i]));
    CHECK(fabsf(v0) < 1e-6f && gmax < 1e-7, "KL(p||p) = %g, grad %g", v0, gmax);

    // gradients
    for (int t = 0; t < 3; t++) {
        char name[64];
        snprintf(name, sizeof name, "kd KL T=%g mask", temps[t]);
        lcase_t c = {name, 0, 0, LOSS_KD_KL, NULL, NULL, NULL, qt, mask, temps[t], 0.8f};
        // at T = 0.05 the logits reach 60 and T^2 KL is ~50x the gradient entries, so the
        // float rounding of the value alone gives ~5e-3 (see the header); the closed form
        // below checks the same gradient to 1e-5
        gradcheck(&c, qs, 5e-2 * temps[t], temps[t] < 0.1f ? 1e-2 : 1e-3);

        // closed form: dL/dq_s = scale / n * T * (softmax(q_s/T) - softmax(q_t/T)) on covered rows
        for (int i = 0; i < B * A; i++)
            dq[i] = 0;
        loss_kd(LOSS_KD_KL, qs, qt, mask, B, A, temps[t], 0.8f, dq);
        int n = 0;
        for (int i = 0; i < B; i++)
            n += mask[i];
        double err = 0, gm = 0;
        for (int i = 0; i < B; i++) {
            double ps[A], pt[A];
            ref_softmax(qs + i * A, temps[t], ps);
            ref_softmax(qt + i * A, temps[t], pt);
            for (int a = 0; a < A; a++) {
                double g = mask[i] ? 0.8 / n * temps[t] * (ps[a] - pt[a]) : 0.0;
                err = fmax(err, fabs(dq[i * A + a] - g));
                gm = fmax(gm, fabs(g));
            }
        }
        printf("  closed form kd KL T=%-4g        max |err| / max |grad| %.2e\n", temps[t], err / gm);
        CHECK(err <= 1e-5 * gm, "kd KL T=%g gradient vs T (p_s - p_t): %g", temps[t], err / gm);
    }
    lcase_t c = {"kd KL T=1 all rows", 0, 0, LOSS_KD_KL, NULL, NULL, NULL, qt, NULL, 1.0f, 1.0f};
    gradcheck(&c, qs, 5e-2, 1e-3);
    c = (lcase_t){"kd MSE mask", 0, 0, LOSS_KD_MSE, NULL, NULL, NULL, qt, mask, 1.0f, 1.3f};
    gradcheck(&c, qs, 4e-2, 1e-3);
    c = (lcase_t){"kd NLL mask", 0, 0, LOSS_KD_NLL, NULL, NULL, NULL, qt, mask, 1.0f, 1.0f};
    gradcheck(&c, qs, 5e-2, 1e-3);

    // no covered rows: 0 and dq untouched
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < B * A; i++)
            dq[i] = (float)i;
        float v = loss_kd(kinds[k], qs, qt, none, B, A, 0.01f, 1.0f, dq);
        int same = 1;
        for (int i = 0; i < B * A; i++)
            same &= dq[i] == (float)i;
        CHECK(v == 0.0f && same, "kd %s with no teacher rows: %g, dq untouched %d", names[k], v, same);
    }
}

/* As T -> 0, p_t -> onehot(a_t = argmax q_t), so T^2 KL -> T (max q_s - q_s[a_t]) and
 * dL/dq_s = T (p_s - p_t) -> T (onehot(argmax q_s) - onehot(a_t)). */
static void test_kd_small_T(rng_t *r)
{
    float qs[B * A], qt[B * A], dq[B * A];
    const float temps[4] = {0.01f, 1e-3f, 1e-4f, 1e-6f};
    const float mags[2] = {1.0f, 1000.0f};
    for (int m = 0; m < 2; m++) {
        // keep each row's best action >= 0.1 |q| ahead of the rest, so the exp(-gap / T)
        // tails are below 1e-4 of the limit at T = 0.01
        for (int i = 0; i < B * A; i++) {
            qs[i] = mags[m] * (2 * rng_uniformf(r) - 1);
            qt[i] = mags[m] * (2 * rng_uniformf(r) - 1);
        }
        for (int i = 0; i < B; i++) {
            int as = ref_argmax(qs + i * A), at = ref_argmax(qt + i * A);
            for (int a = 0; a < A; a++) {
                if (a != as && qs[i * A + a] > qs[i * A + as] - 0.1f * mags[m])
                    qs[i * A + a] = qs[i * A + as] - 0.1f * mags[m] - mags[m] * rng_uniformf(r);
                if (a != at && qt[i * A + a] > qt[i * A + at] - 0.1f * mags[m])
                    qt[i * A + a] = qt[i * A + at] - 0.1f * mags[m] - mags[m] * rng_uniformf(r);
            }
        }
        for (int t = 0; t < 4; t++) {
            const double T = temps[t];
            memset(dq, 0, sizeof dq);
            float v = loss_kd(LOSS_KD_KL, qs, qt, NULL, B, A, temps[t], 1.0f, dq);
            double lim = 0, gerr = 0;
            int finite = isfinite(v);
            for (int i = 0; i < B; i++) {
                int as = ref_argmax(qs + i * A), at = ref_argmax(qt + i * A);
                lim += T * ((double)qs[i * A + as] - qs[i * A + at]);
                for (int a = 0; a < A; a++) {
                    finite &= isfinite(dq[i * A + a]);
                    double g = T * ((a == as) - (a == at)) / B;
                    gerr = fmax(gerr, fabs(dq[i * A + a] - g));
                }
            }
            lim /= B;
            // the gap to the limit is O(T^2 log A) per row plus exp(-gap/T) tails
            CHECK(finite, "KL T=%g |q|~%g not finite", T, mags[m]);
            CHECK(fabs(v - lim) <= 1e-4 * fabs(lim) + 2 * T * T * log(A) + 1e-7,
                  "KL T=%g |q|~%g value %.9g, limit %.9g", T, mags[m], v, lim);
            CHECK(gerr <= 1e-3 * T / B, "KL T=%g |q|~%g gradient off the limit by %g", T, mags[m], gerr);
        }
    }
    // a worked case: q_s = (1, 2), q_t = (3, 0), T = 0.01 -> L ~ 0.01, dq ~ (-0.01, 0.01)
    const float s2[2] = {1, 2}, t2[2] = {3, 0};
    float d2[2] = {0, 0};
    float v = loss_kd(LOSS_KD_KL, s2, t2, NULL, 1, 2, 0.01f, 1.0f, d2);
    CHECK(fabsf(v - 0.01f) < 1e-6f && fabsf(d2[0] + 0.01f) < 1e-7f && fabsf(d2[1] - 0.01f) < 1e-7f,
          "KL T=0.01 worked case: %g, (%g, %g)", v, d2[0], d2[1]);

    // softmax: rows sum to 1, finite at tiny T and large values, one-hot limit
    float p[B * A];
    loss_softmax(qs, B, A, 1e-4f, p);
    for (int i = 0; i < B; i++) {
        double s = 0;
        for (int a = 0; a < A; a++) {
            CHECK(isfinite(p[i * A + a]), "softmax finite");
            s += p[i * A + a];
        }
        CHECK(fabs(s - 1) < 1e-6, "softmax row sums to %g", s);
        CHECK(p[i * A + ref_argmax(qs + i * A)] > 0.999f, "softmax one-hot at small T");
    }
    const float qq[3] = {0, 1, 2};
    loss_softmax(qq, 1, 3, 1.0f, p);
    double e = exp(0) + exp(1) + exp(2);
    CHECK(fabs(p[0] - 1 / e) < 1e-7 && fabs(p[2] - exp(2) / e) < 1e-7, "softmax values");
}

static void test_double_dqn(void)
{
    // online picks action 1 in row 0 and action 0 in row 1; target values differ
    const float q_on[6] = {0.1f, 0.9f, 0.5f, /**/ 2.0f, 1.0f, -1.0f};
    const float q_tg[6] = {10.0f, 20.0f, 30.0f, /**/ 40.0f, 50.0f, 60.0f};
    const float rew[2] = {1.0f, -1.0f};
    const float disc[2] = {0.5f, 0.99f};
    float y[2];
    loss_double_dqn_target(q_on, q_tg, rew, disc, 2, 3, y);
    CHECK(fabsf(y[0] - (1.0f + 0.5f * 20.0f)) < 1e-5f, "ddqn row 0: %g", y[0]);
    CHECK(fabsf(y[1] - (-1.0f + 0.99f * 40.0f)) < 1e-5f, "ddqn row 1: %g", y[1]);
    const float zero[2] = {0, 0};
    loss_double_dqn_target(q_on, q_tg, rew, zero, 2, 3, y);
    CHECK(y[0] == 1.0f && y[1] == -1.0f, "discount 0 gives the reward: %g %g", y[0], y[1]);
    const float tie[3] = {1, 1, 1};
    loss_double_dqn_target(tie, q_tg, rew, disc, 1, 3, y);
    CHECK(fabsf(y[0] - (1.0f + 0.5f * 10.0f)) < 1e-5f, "ddqn tie picks the lowest action: %g", y[0]);
}

int main(void)
{
    rng_t r;
    rng_seed(&r, 2024);
    test_td(&r);
    test_kd(&r);
    test_kd_small_T(&r);
    test_double_dqn();
    printf("test_loss: %d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;
}
