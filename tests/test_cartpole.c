/* test_cartpole.c — CartPole against Gymnasium's own trajectories, plus resets,
 * seeding, the vector step, time limits and bad actions.
 *
 * usage: test_cartpole path/to/cartpole_reference.json
 * Exits 0 only when every check passed; prints each failure. */
#include "cartpole.h"
#include "json_mini.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int n_checks, n_failed;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    n_checks++;
    if (ok)
        return;
    n_failed++;
    if (n_failed > 200)
        return; /* the count still says how many */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static int num_of(const json_value_t *v, double *out)
{
    if (!v || v->type != JSON_NUMBER)
        return -1;
    *out = v->number;
    return 0;
}

/* A JSON array of exactly 4 numbers. */
static int vec4_of(const json_value_t *v, double out[4])
{
    if (!v || v->type != JSON_ARRAY || v->count != 4)
        return -1;
    for (size_t k = 0; k < 4; k++)
        if (num_of(json_at(v, k), &out[k]) < 0)
            return -1;
    return 0;
}

static int bool_of(const json_value_t *v, int *out)
{
    if (!v || v->type != JSON_BOOL)
        return -1;
    *out = v->boolean;
    return 0;
}

static void state_of(const cartpole_t *env, int i, double s[4])
{
    s[0] = env->x[i];
    s[1] = env->x_dot[i];
    s[2] = env->theta[i];
    s[3] = env->theta_dot[i];
}

/* ---------- reference trajectories ---------- */

static int bits_exact, bits_total;

static void test_case(const json_value_t *c, size_t ci)
{
    const json_value_t *jname = json_get(c, "name");
    const char *name = jname && jname->type == JSON_STRING ? jname->string : "?";
    const json_value_t *jenv = json_get(c, "env_id");
    const json_value_t *jsteps = json_get(c, "steps");
    const json_value_t *jactions = json_get(c, "actions");
    double init[4];
    if (!jenv || jenv->type != JSON_STRING || !jsteps || jsteps->type != JSON_ARRAY ||
        vec4_of(json_get(c, "initial_state_f64"), init) < 0) {
        check(0, "case %zu (%s): malformed case", ci, name);
        return;
    }
    cartpole_version_t ver;
    if (strcmp(jenv->string, "CartPole-v1") == 0)
        ver = CARTPOLE_V1;
    else if (strcmp(jenv->string, "CartPole-v0") == 0)
        ver = CARTPOLE_V0;
    else {
        check(0, "case %s: unknown env_id %s", name, jenv->string);
        return;
    }
    double n_steps;
    if (num_of(json_get(c, "n_steps"), &n_steps) == 0)
        check(n_steps == (double)jsteps->count, "case %s: n_steps %g but %zu steps", name,
              n_steps, jsteps->count);
    check(jactions && jactions->type == JSON_ARRAY && jactions->count == jsteps->count,
          "case %s: actions list does not match steps", name);

    cartpole_t *env = cartpole_new(1, ver, 12345, ci);
    if (!env) {
        check(0, "case %s: cartpole_new failed", name);
        return;
    }
    cartpole_set_state(env, 0, init);
    double total = 0;
    long first_term = -1;
    for (size_t t = 0; t < jsteps->count; t++) {
        const json_value_t *st = json_at(jsteps, t);
        double jt, ja, jr, want[4], want_obs[4];
        int jterm, jtrunc;
        const json_value_t *jbits = json_get(st, "obs_f32_bits");
        if (num_of(json_get(st, "t"), &jt) < 0 || num_of(json_get(st, "action"), &ja) < 0 ||
            num_of(json_get(st, "reward"), &jr) < 0 ||
            vec4_of(json_get(st, "next_state_f64"), want) < 0 ||
            vec4_of(json_get(st, "obs_f32"), want_obs) < 0 ||
            bool_of(json_get(st, "terminated"), &jterm) < 0 ||
            bool_of(json_get(st, "truncated"), &jtrunc) < 0 || !jbits ||
            jbits->type != JSON_ARRAY || jbits->count != 4) {
            check(0, "case %s step %zu: malformed step", name, t + 1);
            break;
        }
        check(jt == (double)(t + 1), "case %s: step %zu has t=%g", name, t + 1, jt);
        if (jactions && jactions->type == JSON_ARRAY) {
            double a2;
            check(num_of(json_at(jactions, t), &a2) == 0 && a2 == ja,
                  "case %s step %zu: actions[] disagrees with the step's action", name, t + 1);
        }
        double reward = -1;
        int term = -1, trunc = -1;
        int rc = cartpole_step_one(env, 0, (int)ja, &reward, &term, &trunc);
        check(rc == 0, "case %s step %zu: cartpole_step_one returned %d", name, t + 1, rc);

        double got[4];
        state_of(env, 0, got);
        static const char *var[4] = {"x", "x_dot", "theta", "theta_dot"};
        for (int k = 0; k < 4; k++) {
            check(fabs(got[k] - want[k]) <= 1e-12,
                  "case %s step %zu: %s = %.17g, gymnasium %.17g (diff %.3g)", name, t + 1,
                  var[k], got[k], want[k], got[k] - want[k]);
            bits_total++;
            bits_exact += memcmp(&got[k], &want[k], sizeof got[k]) == 0;
        }
        float obs[4];
        cartpole_observe(env, obs);
        for (int k = 0; k < 4; k++) {
            const json_value_t *b = json_at(jbits, (size_t)k);
            unsigned long wbits = b && b->type == JSON_STRING ? strtoul(b->string, NULL, 16) : 0;
            check((double)obs[k] == want_obs[k] && f32_bits(obs[k]) == (uint32_t)wbits,
                  "case %s step %zu: obs[%d] = %.9g (bits %08x), gymnasium %.9g (bits %08lx)",
                  name, t + 1, k, (double)obs[k], (unsigned)f32_bits(obs[k]), want_obs[k],
                  wbits);
        }
        check(reward == jr, "case %s step %zu: reward %g, gymnasium %g", name, t + 1, reward,
              jr);
        check(term == jterm, "case %s step %zu: terminated %d, gymnasium %d", name, t + 1, term,
              jterm);
        check(trunc == jtrunc, "case %s step %zu: truncated %d, gymnasium %d", name, t + 1,
              trunc, jtrunc);
        total += jr;
        if (jterm && first_term < 0)
            first_term = (long)(t + 1);
    }
    /* The case's own summary agrees with its steps (guards the data file). */
    double jtotal;
    if (num_of(json_get(c, "total_reward"), &jtotal) == 0)
        check(jtotal == total, "case %s: total_reward %g, steps sum to %g", name, jtotal, total);
    const json_value_t *jft = json_get(c, "first_terminated_step");
    if (jft && jft->type == JSON_NUMBER)
        check(jft->number == (double)first_term, "case %s: first_terminated_step mismatch", name);
    else if (jft && jft->type == JSON_NULL)
        check(first_term < 0, "case %s: terminated although the case says it never does", name);
    cartpole_destroy(&env);
    check(env == NULL, "cartpole_destroy did not null the pointer");
}

static void test_reference(const json_value_t *root)
{
    const json_value_t *cases = json_get(root, "cases");
    if (!cases || cases->type != JSON_ARRAY || cases->count == 0) {
        check(0, "reference file has no cases");
        return;
    }
    for (size_t i = 0; i < cases->count; i++)
        test_case(json_at(cases, i), i);
    printf("reference: %zu cases, %d/%d float64 state values bit-identical to gymnasium\n",
           cases->count, bits_exact, bits_total);

    /* The thresholds the file states must be the ones the dynamics use: a state just
     * inside stays alive, one just outside terminates. */
    const json_value_t *k = json_get(root, "constants");
    double th, xt;
    if (num_of(json_get(k, "theta_threshold_radians"), &th) == 0 &&
        num_of(json_get(k, "x_threshold"), &xt) == 0) {
        cartpole_t *env = cartpole_new(1, CARTPOLE_V1, 1, 1);
        /* With zero velocities and theta = 0 the positions do not move in one step. */
        double s_in[4] = {xt, 0, 0, 0}, s_out[4] = {nextafter(xt, 10), 0, 0, 0};
        double r;
        int term, trunc;
        cartpole_set_state(env, 0, s_in);
        cartpole_step_one(env, 0, 1, &r, &term, &trunc);
        check(term == 0, "x == x_threshold exactly must not terminate (strict >)");
        cartpole_set_state(env, 0, s_out);
        cartpole_step_one(env, 0, 1, &r, &term, &trunc);
        check(term == 1, "x just above x_threshold must terminate");
        /* theta moves by tau*theta_dot = 0 in the step when theta_dot = 0. */
        double t_in[4] = {0, 0, th, 0}, t_out[4] = {0, 0, nextafter(th, 1), 0};
        double t_neg[4] = {0, 0, -nextafter(th, 1), 0};
        cartpole_set_state(env, 0, t_in);
        cartpole_step_one(env, 0, 1, &r, &term, &trunc);
        check(term == 0, "theta == theta_threshold exactly must not terminate");
        cartpole_set_state(env, 0, t_out);
        cartpole_step_one(env, 0, 1, &r, &term, &trunc);
        check(term == 1, "theta just above theta_threshold must terminate");
        cartpole_set_state(env, 0, t_neg);
        cartpole_step_one(env, 0, 0, &r, &term, &trunc);
        check(term == 1, "theta just below -theta_threshold must terminate");
        cartpole_destroy(&env);
    } else {
        check(0, "reference file lacks constants.theta_threshold_radians / x_threshold");
    }
}

/* ---------- resets and seeding ---------- */

static void test_reset_and_seeds(void)
{
    enum { N = 4096 };
    cartpole_t *a = cartpole_new(N, CARTPOLE_V1, 42, 3);
    cartpole_t *b = cartpole_new(N, CARTPOLE_V1, 42, 3);
    cartpole_t *c = cartpole_new(N, CARTPOLE_V1, 43, 3);
    cartpole_t *d = cartpole_new(N, CARTPOLE_V1, 42, 4);
    cartpole_t *small = cartpole_new(8, CARTPOLE_V1, 42, 3);
    if (!a || !b || !c || !d || !small) {
        check(0, "cartpole_new failed");
        goto out;
    }
    double lo[4] = {1, 1, 1, 1}, hi[4] = {-1, -1, -1, -1}, mean[4] = {0};
    int same_b = 1, same_c = 0, same_d = 0, same_small = 1, dup = 0;
    for (int i = 0; i < N; i++) {
        double s[4], sb[4], sc[4], sd[4];
        state_of(a, i, s);
        state_of(b, i, sb);
        state_of(c, i, sc);
        state_of(d, i, sd);
        for (int k = 0; k < 4; k++) {
            lo[k] = fmin(lo[k], s[k]);
            hi[k] = fmax(hi[k], s[k]);
            mean[k] += s[k] / N;
            check(s[k] >= -0.05 && s[k] < 0.05, "reset value %.17g outside [-0.05, 0.05)", s[k]);
        }
        same_b &= memcmp(s, sb, sizeof s) == 0;
        same_c += memcmp(s, sc, sizeof s) == 0;
        same_d += memcmp(s, sd, sizeof s) == 0;
        if (i < 8) {
            double ss[4];
            state_of(small, i, ss);
            same_small &= memcmp(s, ss, sizeof s) == 0;
        }
        if (i > 0)
            dup += a->x[i] == a->x[i - 1];
        check(a->elapsed[i] == 0 && a->ep_return[i] == 0, "fresh copy %d has bookkeeping set",
              i);
    }
    for (int k = 0; k < 4; k++) {
        check(lo[k] < -0.049 && hi[k] > 0.049, "reset var %d spans only [%g, %g]", k, lo[k],
              hi[k]);
        /* sd of the mean of N uniforms on ±0.05: 0.0289/sqrt(4096) = 4.5e-4; allow 5 sd. */
        check(fabs(mean[k]) < 2.3e-3, "reset var %d mean %g is not near 0", k, mean[k]);
    }
    check(same_b, "same (seed, stream) gave different initial states");
    check(same_c == 0, "different seed gave %d identical initial states", same_c);
    check(same_d == 0, "different stream gave %d identical initial states", same_d);
    check(same_small, "copy i does not depend only on (seed, stream, i)");
    check(dup == 0, "neighbouring copies start in the same state");

    /* A later reset draws from the copy's own generator: reproducible across twins,
     * and different from the first episode's start. */
    double first[4], again[4], twin[4];
    state_of(a, 5, first);
    cartpole_reset_one(a, 5);
    cartpole_reset_one(b, 5);
    state_of(a, 5, again);
    state_of(b, 5, twin);
    check(memcmp(first, again, sizeof first) != 0, "second reset repeated the first state");
    check(memcmp(again, twin, sizeof again) == 0, "second reset is not reproducible");
    /* Resetting copy 5 must not disturb copy 6. */
    check(a->x[6] == b->x[6] && a->theta_dot[6] == b->theta_dot[6],
          "resetting one copy changed another");
    /* reset_all restores the bookkeeping. */
    a->elapsed[0] = 17;
    a->beyond[0] = 3;
    a->ep_return[0] = 17;
    cartpole_reset_all(a);
    check(a->elapsed[0] == 0 && a->ep_return[0] == 0, "reset_all left bookkeeping");

    check(cartpole_new(0, CARTPOLE_V1, 1, 1) == NULL, "cartpole_new(0) must fail");
    check(cartpole_new(-3, CARTPOLE_V1, 1, 1) == NULL, "cartpole_new(-3) must fail");
    cartpole_t *none = NULL;
    cartpole_destroy(&none);
    cartpole_destroy(NULL);
out:
    cartpole_destroy(&a);
    cartpole_destroy(&b);
    cartpole_destroy(&c);
    cartpole_destroy(&d);
    cartpole_destroy(&small);
}

/* ---------- time limits ---------- */

/* The balancing controller the reference file uses, on the float64 state. */
static int balance_action(const cartpole_t *env, int i)
{
    return 1.0 * env->x[i] + 1.5 * env->x_dot[i] + 18 * env->theta[i] + 3 * env->theta_dot[i] >
           0;
}

static void test_time_limit(cartpole_version_t ver, int limit)
{
    const char *vn = ver == CARTPOLE_V0 ? "v0" : "v1";
    cartpole_t *env = cartpole_new(1, ver, 7, 0);
    if (!env) {
        check(0, "cartpole_new failed");
        return;
    }
    check(env->max_episode_steps == limit, "%s: max_episode_steps %d, want %d", vn,
          env->max_episode_steps, limit);
    int first_trunc = 0, any_term = 0;
    for (int t = 1; t <= limit + 3; t++) {
        double r;
        int term, trunc;
        cartpole_step_one(env, 0, balance_action(env, 0), &r, &term, &trunc);
        any_term |= term;
        if (trunc && !first_trunc)
            first_trunc = t;
        if (t >= limit)
            check(trunc, "%s: step %d past the limit not truncated", vn, t);
    }
    check(!any_term, "%s: the balancing controller let the pole fall", vn);
    check(first_trunc == limit, "%s: first truncation at step %d, want %d", vn, first_trunc,
          limit);
    check(env->ep_return[0] == limit + 3, "%s: ep_return %d", vn, env->ep_return[0]);

    /* Terminated and truncated on the same step. */
    cartpole_reset_one(env, 0);
    env->elapsed[0] = limit - 1;
    const double edge[4] = {2.39, 1.0, 0, 0};
    cartpole_set_state(env, 0, edge);
    double r;
    int term, trunc;
    cartpole_step_one(env, 0, 1, &r, &term, &trunc);
    check(term && trunc && r == 1.0, "%s: both flags on one step: term=%d trunc=%d r=%g", vn,
          term, trunc, r);
    cartpole_destroy(&env);
}

/* ---------- vector step vs step_one ---------- */

static void test_vector(void)
{
    enum { K = 16, T = 3000 };
    cartpole_t *v = cartpole_new(K, CARTPOLE_V1, 99, 2);
    cartpole_t *s = cartpole_new(K, CARTPOLE_V1, 99, 2);
    rng_t pol;
    rng_seed(&pol, 5);
    int32_t actions[K], ep_ret[K];
    float next_obs[K * 4], obs[K * 4], reward[K], prev_obs[K * 4];
    uint8_t term[K], trunc[K];
    if (!v || !s) {
        check(0, "cartpole_new failed");
        goto out;
    }
    cartpole_observe(v, prev_obs);
    int episodes = 0, truncations = 0, terminations = 0, mismatches = 0;
    for (int t = 0; t < T; t++) {
        /* Even copies balance (so they reach the time limit), odd ones act randomly. */
        for (int i = 0; i < K; i++) {
            const float *o = prev_obs + 4 * i;
            actions[i] = (i % 2 == 0)
                             ? (1.0f * o[0] + 1.5f * o[1] + 18.0f * o[2] + 3.0f * o[3] > 0)
                             : (int32_t)rng_below(&pol, 2);
        }
        int ended = cartpole_step(v, actions, next_obs, reward, term, trunc, obs, ep_ret);
        int ended_ref = 0;
        for (int i = 0; i < K; i++) {
            double r;
            int te, tr;
            cartpole_step_one(s, i, actions[i], &r, &te, &tr);
            float no[4];
            no[0] = (float)s->x[i];
            no[1] = (float)s->x_dot[i];
            no[2] = (float)s->theta[i];
            no[3] = (float)s->theta_dot[i];
            int ok = memcmp(no, next_obs + 4 * i, sizeof no) == 0 && reward[i] == (float)r &&
                     term[i] == te && tr == trunc[i];
            if (te || tr) {
                ended_ref++;
                ok &= ep_ret[i] == s->ep_return[i];
                truncations += tr;
                terminations += te;
                cartpole_reset_one(s, i);
            } else {
                ok &= ep_ret[i] == -1;
            }
            float o[4] = {(float)s->x[i], (float)s->x_dot[i], (float)s->theta[i],
                          (float)s->theta_dot[i]};
            ok &= memcmp(o, obs + 4 * i, sizeof o) == 0;
            if (!ok && mismatches++ < 5)
                check(0, "vector step disagrees with step_one at t=%d copy %d", t, i);
        }
        check(ended == ended_ref, "t=%d: cartpole_step returned %d, %d episodes ended", t,
              ended, ended_ref);
        episodes += ended;
        memcpy(prev_obs, obs, sizeof obs);
    }
    check(mismatches == 0, "vector step: %d mismatches with step_one", mismatches);
    check(truncations > 0 && terminations > 0,
          "vector test must see both endings (truncations %d, terminations %d)", truncations,
          terminations);
    printf("vector: %d steps x %d copies, %d episodes (%d truncated, %d terminated)\n", T, K,
           episodes, truncations, terminations);

    /* ep_return may be NULL. */
    for (int i = 0; i < K; i++)
        actions[i] = i & 1;
    check(cartpole_step(v, actions, next_obs, reward, term, trunc, obs, NULL) >= 0,
          "cartpole_step with ep_return NULL failed");
out:
    cartpole_destroy(&v);
    cartpole_destroy(&s);
}

/* ---------- bad actions ---------- */

static void test_bad_action(void)
{
    enum { K = 4 };
    cartpole_t *env = cartpole_new(K, CARTPOLE_V1, 1, 1);
    if (!env) {
        check(0, "cartpole_new failed");
        return;
    }
    double before[4], after[4], r = 123;
    int te = 7, tr = 7;
    state_of(env, 0, before);
    const int bad[] = {2, -1, 255, -2147483647 - 1};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        check(cartpole_step_one(env, 0, bad[k], &r, &te, &tr) == -1,
              "step_one(action=%d) must return -1", bad[k]);
    state_of(env, 0, after);
    check(memcmp(before, after, sizeof before) == 0 && env->elapsed[0] == 0,
          "a rejected action changed the state");
    check(r == 123 && te == 7 && tr == 7, "a rejected action wrote outputs");

    int32_t actions[K] = {0, 1, 1, 2};
    float next_obs[K * 4], obs[K * 4], reward[K];
    uint8_t term[K], trunc[K];
    int32_t ep[K];
    double s0[K][4];
    for (int i = 0; i < K; i++)
        state_of(env, i, s0[i]);
    check(cartpole_step(env, actions, next_obs, reward, term, trunc, obs, ep) == -1,
          "cartpole_step with action 2 must return -1");
    actions[3] = -1;
    check(cartpole_step(env, actions, next_obs, reward, term, trunc, obs, ep) == -1,
          "cartpole_step with action -1 must return -1");
    int untouched = 1;
    for (int i = 0; i < K; i++) {
        double s[4];
        state_of(env, i, s);
        untouched &= memcmp(s, s0[i], sizeof s) == 0 && env->elapsed[i] == 0;
    }
    check(untouched, "cartpole_step stepped copies despite a bad action");
    cartpole_destroy(&env);
}

/* ---------- the test's own JSON reader: garbage is rejected, not crashed on ---------- */

static void test_json_mini(void)
{
    static const char *bad[] = {"",        "[",          "{\"a\":}",   "[1,]",  "\"\\u12\"",
                                "01",      "[1 2]",      "{\"a\" 1}",  "tru",   "\"abc",
                                "-",       "1.",         "1e",          "[\"\\x\"]", "{1:2}",
                                "Infinit", "\"a\\",     "[] []"};
    char err[128];
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        json_value_t *v = json_parse(bad[k], strlen(bad[k]), err, sizeof err);
        check(v == NULL && err[0] != '\0', "json_mini accepted malformed '%s'", bad[k]);
        json_free(&v);
    }
    char deep[200];
    memset(deep, '[', sizeof deep);
    json_value_t *v = json_parse(deep, sizeof deep, err, sizeof err);
    check(v == NULL, "json_mini accepted nesting deeper than its limit");
    const char *good = "{\"a\": [1, -2.5e3, true, null, \"x\\u00e9\\n\"], \"b\": -Infinity, \"c\": NaN}";
    v = json_parse(good, strlen(good), err, sizeof err);
    const json_value_t *a = json_get(v, "a");
    check(v && a && a->count == 5 && json_at(a, 1)->number == -2500.0 &&
              json_at(a, 2)->boolean == 1 && json_at(a, 3)->type == JSON_NULL &&
              strcmp(json_at(a, 4)->string, "x\xc3\xa9\n") == 0 &&
              json_get(v, "b")->number == -INFINITY && isnan(json_get(v, "c")->number),
          "json_mini misread a valid document (%s)", v ? "parsed" : err);
    json_free(&v);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s cartpole_reference.json\n", argv[0]);
        return 2;
    }
    char err[256];
    json_value_t *root = json_parse_file(argv[1], err, sizeof err);
    if (!root) {
        fprintf(stderr, "FAIL: cannot load %s: %s\n", argv[1], err);
        return 1;
    }
    test_json_mini();
    test_reference(root);
    json_free(&root);
    test_reset_and_seeds();
    test_time_limit(CARTPOLE_V0, 200);
    test_time_limit(CARTPOLE_V1, 500);
    test_vector();
    test_bad_action();
    if (n_failed) {
        fprintf(stderr, "test_cartpole: %d of %d checks FAILED\n", n_failed, n_checks);
        return 1;
    }
    printf("test_cartpole: all %d checks passed\n", n_checks);
    return 0;
}
