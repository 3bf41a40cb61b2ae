/* kdqn-cartpole — replay a list of actions on CartPole from a given state and print
 * the trajectory, one line per step, for comparison with Gymnasium.
 *
 *   kdqn-cartpole [--v0] --state X,XDOT,THETA,THETADOT --actions 1,0,1,...
 *
 * Output columns: t action x x_dot theta theta_dot reward terminated truncated,
 * with the float64 state after the step as %.17g (round-trips exactly). Like gym it
 * keeps stepping after termination (reward 0 then). Exit status: 0 ok, 2 bad
 * arguments, 1 runtime failure. */
#include "cartpole.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KDQN_VERSION_STRING
#define KDQN_VERSION_STRING "0.1.0"
#endif

enum { EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kdqn-cartpole [--v0] --state X,XDOT,THETA,THETADOT --actions A1,A2,...\n"
            "Replays actions on Gymnasium CartPole-v1 (or v0) from the given state.\n"
            "\n"
            "  --state X,XDOT,THETA,THETADOT  initial float64 state (4 finite numbers)\n"
            "  --actions A1,A2,...            actions to replay, each 0 (push left) or 1 (right)\n"
            "  --v0                           CartPole-v0 (truncation at 200 steps, not 500)\n"
            "  --v1                           CartPole-v1 (the default)\n"
            "  --help                         show this help and exit\n"
            "  --version                      show the version and exit\n"
            "\n"
            "Prints one line per step: t action x x_dot theta theta_dot reward terminated "
            "truncated\n"
            "(t from 1, state after the step as %%.17g, flags 0/1). Exit status 2 on bad "
            "arguments.\n");
}

static int usage_error(const char *msg, const char *detail)
{
    if (detail)
        fprintf(stderr, "kdqn-cartpole: %s: '%s' (see --help)\n", msg, detail);
    else
        fprintf(stderr, "kdqn-cartpole: %s (see --help)\n", msg);
    return EXIT_USAGE;
}

/* Parses exactly four comma-separated finite doubles. Returns 0, or -1 with *why set. */
static int parse_state(const char *s, double out[4], const char **why)
{
    const char *p = s;
    for (int k = 0; k < 4; k++) {
        if (*p == '\0' || *p == ',' || *p == ' ' || *p == '\t' || *p == '\n') {
            *why = k == 0 ? "--state is empty" : "--state has an empty or blank value";
            return -1;
        }
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || (*end != ',' && *end != '\0')) {
            *why = "--state has a malformed number";
            return -1;
        }
        if (!isfinite(v)) {
            *why = "--state values must be finite";
            return -1;
        }
        out[k] = v;
        p = end;
        if (k < 3) {
            if (*p != ',') {
                *why = "--state needs exactly 4 comma-separated values, got fewer";
                return -1;
            }
            p++;
        }
    }
    if (*p != '\0') {
        *why = "--state needs exactly 4 comma-separated values, got more";
        return -1;
    }
    return 0;
}

/* Parses comma-separated 0/1 into a new array (caller frees). Returns the count, or
 * -1 with *why set (*actions untouched). */
static long parse_actions(const char *s, int **actions, const char **why)
{
    size_t len = strlen(s);
    if (len == 0) {
        *why = "--actions is empty";
        return -1;
    }
    /* "0,1,0" has len/2 + 1 entries at most. */
    int *a = malloc((len / 2 + 1) * sizeof *a);
    if (!a) {
        *why = "out of memory";
        return -1;
    }
    long n = 0;
    const char *p = s;
    for (;;) {
        if ((p[0] != '0' && p[0] != '1') || (p[1] != ',' && p[1] != '\0')) {
            free(a);
            *why = "--actions must be a comma-separated list of 0 and 1";
            return -1;
        }
        a[n++] = p[0] - '0';
        if (p[1] == '\0')
            break;
        p += 2;
    }
    *actions = a;
    return n;
}

int main(int argc, char **argv)
{
    const char *state_arg = NULL, *actions_arg = NULL;
    cartpole_version_t version = CARTPOLE_V1;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char **dest = NULL;
        const char *flag = NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(arg, "--version") == 0) {
            printf("kdqn-cartpole %s\n", KDQN_VERSION_STRING);
            return 0;
        } else if (strcmp(arg, "--v0") == 0) {
            version = CARTPOLE_V0;
            continue;
        } else if (strcmp(arg, "--v1") == 0) {
            version = CARTPOLE_V1;
            continue;
        } else if (strncmp(arg, "--state", 7) == 0 && (arg[7] == '\0' || arg[7] == '=')) {
            dest = &state_arg;
            flag = "--state";
        } else if (strncmp(arg, "--actions", 9) == 0 && (arg[9] == '\0' || arg[9] == '=')) {
            dest = &actions_arg;
            flag = "--actions";
        } else {
            return usage_error("unknown argument", arg);
        }
        if (*dest)
            return usage_error("flag given twice", flag);
        const char *eq = strchr(arg, '=');
        if (eq) {
            *dest = eq + 1;
        } else {
            if (i + 1 >= argc)
                return usage_error("missing value after", flag);
            *dest = argv[++i];
        }
    }
    if (!state_arg)
        return usage_error("--state is required", NULL);
    if (!actions_arg)
        return usage_error("--actions is required", NULL);

    double state[4];
    const char *why = NULL;
    if (parse_state(state_arg, state, &why) < 0)
        return usage_error(why, state_arg);
    int *actions = NULL;
    long n_actions = parse_actions(actions_arg, &actions, &why);
    if (n_actions < 0) {
        if (strcmp(why, "out of memory") == 0) {
            fprintf(stderr, "kdqn-cartpole: out of memory\n");
            return 1;
        }
        return usage_error(why, actions_arg);
    }

    cartpole_t *env = cartpole_new(1, version, 0, 0);
    if (!env) {
        fprintf(stderr, "kdqn-cartpole: out of memory\n");
        free(actions);
        return 1;
    }
    /* As gym's env.unwrapped.state = s right after reset: elapsed starts at 0. */
    cartpole_set_state(env, 0, state);
    int status = 0;
    for (long t = 0; t < n_actions; t++) {
        double reward;
        int terminated, truncated;
        if (cartpole_step_one(env, 0, actions[t], &reward, &terminated, &truncated) < 0) {
            fprintf(stderr, "kdqn-cartpole: internal error: action rejected\n");
            status = 1;
            break;
        }
        printf("%ld %d %.17g %.17g %.17g %.17g %g %d %d\n", t + 1, actions[t], env->x[0],
               env->x_dot[0], env->theta[0], env->theta_dot[0], reward, terminated, truncated);
    }
    cartpole_destroy(&env);
    free(actions);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "kdqn-cartpole: error writing output\n");
        return 1;
    }
    return status;
}
