/* kdqn-eval — greedy evaluation of any kdqn checkpoint on CartPole.
 *
 *   kdqn-eval --checkpoint PATH [--episodes 100] [--v0] [--seed 0] [--json]
 *             [--target] [--print-q X1,X2,X3,X4[;X1,...]]
 *
 * Loads PATH (ckpt_load: every check of the format), runs `episodes` greedy
 * (epsilon = 0) episodes side by side with eval_greedy and prints one line:
 * mean, std, min and max of the undiscounted returns. --json prints one JSON
 * object instead. --print-q also prints the network's raw Q-values for the
 * given states (mlp_infer, the path actors, the teacher and evaluation use),
 * so other implementations of the forward pass can be checked against it;
 * with --episodes 0 only the Q-values are printed.
 *
 * Exit status: 0 ok; 2 bad flags, or a checkpoint that is missing, unreadable,
 * corrupt or not a CartPole Q-network; 3 runtime failure (memory, output). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cartpole.h"
#include "ckpt.h"
#include "eval.h"
#include "flags.h"
#include "mlp.h"

#ifndef KDQN_VERSION_STRING
#define KDQN_VERSION_STRING "unknown"
#endif

#define PROG "kdqn-eval"
enum { EXIT_USAGE = 2, EXIT_RUNTIME = 3 };
#define MAX_PRINT_STATES 4096

/* Writes s as a JSON string literal (quotes included). */
static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* Parses a list of finite numbers separated by ',' or ';' (whitespace allowed
 * around them). Returns the count, or -1 with *why set. */
static long parse_floats(const char *s, float *out, long cap, const char **why)
{
    long n = 0;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == ',' || *p == ';') {
            *why = "empty value";
            return -1;
        }
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p) {
            *why = "not a number";
            return -1;
        }
        if (!isfinite(v) || fabs(v) > 3.4e38) {
            *why = "values must be finite float32 numbers";
            return -1;
        }
        if (n >= cap) {
            *why = "too many values";
            return -1;
        }
        out[n++] = (float)v;
        p = end;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            return n;
        if (*p != ',' && *p != ';') {
            *why = "values must be separated by ',' (or ';' between states)";
            return -1;
        }
        p++;
    }
}

int main(int argc, char **argv)
{
    const char *ckpt_path = NULL, *print_q = NULL;
    int episodes = 100, v0 = 0, json = 0, use_target = 0;
    uint64_t seed = 0;
    const flag_t flags[] = {
        {"checkpoint", FLAG_STR, &ckpt_path, 0, -1, "checkpoint to evaluate (required)"},
        {"episodes", FLAG_INT, &episodes, 0, 100000, "greedy episodes (0: only --print-q)"},
        {"v0", FLAG_BOOL, &v0, 0, -1, "CartPole-v0 (200-step episodes) instead of CartPole-v1 (500)"},
        {"seed", FLAG_U64, &seed, 0, -1, "seed of the evaluation environments"},
        {"json", FLAG_BOOL, &json, 0, -1, "print one JSON object instead of the human line"},
        {"target", FLAG_BOOL, &use_target, 0, -1, "evaluate the target-network parameters instead"},
        {"print-q", FLAG_STR, &print_q, 0, -1,
         "also print the Q-values of these states: X1,X2,X3,X4[;X1,...]"},
    };
    const int nflags = (int)(sizeof flags / sizeof flags[0]);
    const char *summary =
        "Greedy evaluation of a kdqn checkpoint on CartPole: mean, std, min and max return\n"
        "over --episodes episodes. Exit status 2 on bad flags or a bad checkpoint.";
    int pr = flags_parse(flags, nflags, argc, argv, PROG, summary, KDQN_VERSION_STRING);
    if (pr > 0)
        return 0;
    if (pr < 0)
        return EXIT_USAGE;
    if (!ckpt_path || !*ckpt_path) {
        fprintf(stderr, PROG ": --checkpoint PATH is required (try --help)\n");
        return EXIT_USAGE;
    }
    if (episodes == 0 && !print_q) {
        fprintf(stderr, PROG ": --episodes 0 needs --print-q (nothing to do) (try --help)\n");
        return EXIT_USAGE;
    }

    /* Parse --print-q before loading: a flag error should not depend on the file. */
    float *states = NULL;
    long n_values = 0;
    if (print_q) {
        states = malloc(sizeof(float) * MAX_PRINT_STATES * 8);
        if (!states) {
            fprintf(stderr, PROG ": out of memory\n");
            return EXIT_RUNTIME;
        }
        const char *why = NULL;
        n_values = parse_floats(print_q, states, MAX_PRINT_STATES * 8, &why);
        if (n_values < 0) {
            fprintf(stderr, PROG ": --print-q: %s in '%s' (try --help)\n", why, print_q);
            free(states);
            return EXIT_USAGE;
        }
    }

    ckpt_t ck;
    int rc = ckpt_load(ckpt_path, NULL, &ck);
    if (rc != CKPT_OK) {
        if (rc == CKPT_EIO)
            fprintf(stderr, PROG ": cannot load checkpoint '%s': %s (%s)\n", ckpt_path, ckpt_strerror(rc),
                    strerror(errno));
        else
            fprintf(stderr, PROG ": cannot load checkpoint '%s': %s\n", ckpt_path, ckpt_strerror(rc));
        free(states);
        return rc == CKPT_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    const mlp_arch_t *arch = &ck.arch;
    char arch_str[128];
    mlp_arch_format(arch, arch_str, sizeof arch_str);
    int status = 0;
    float *q = NULL, *scratch = NULL;
    const float *params = ck.params;
    if (use_target) {
        if (!ck.target_params) {
            fprintf(stderr, PROG ": checkpoint '%s' holds no target-network parameters (drop --target)\n",
                    ckpt_path);
            status = EXIT_USAGE;
            goto out;
        }
        params = ck.target_params;
    }
    const int in = arch->sizes[0], A = arch->sizes[arch->n_layers];

    long n_states = 0;
    if (print_q) {
        if (n_values % in != 0) {
            fprintf(stderr, PROG ": --print-q: %ld values is not a whole number of states of %d inputs (%s)\n",
                    n_values, in, arch_str);
            status = EXIT_USAGE;
            goto out;
        }
        n_states = n_values / in;
        if (n_states > MAX_PRINT_STATES) {
            fprintf(stderr, PROG ": --print-q: at most %d states\n", MAX_PRINT_STATES);
            status = EXIT_USAGE;
            goto out;
        }
        q = malloc(sizeof(float) * (size_t)n_states * (size_t)A);
        scratch = malloc(sizeof(float) * mlp_infer_scratch(arch, (int)n_states));
        if (!q || !scratch) {
            fprintf(stderr, PROG ": out of memory\n");
            status = EXIT_RUNTIME;
            goto out;
        }
        mlp_infer(arch, params, states, (int)n_states, q, scratch);
    }

    eval_result_t res;
    memset(&res, 0, sizeof res);
    double seconds = 0;
    const cartpole_version_t ver = v0 ? CARTPOLE_V0 : CARTPOLE_V1;
    const char *env_name = v0 ? "CartPole-v0" : "CartPole-v1";
    const double solved_at = v0 ? 195.0 : 475.0;
    if (episodes > 0) {
        if (in != CARTPOLE_OBS_DIM || A != CARTPOLE_N_ACTIONS) {
            fprintf(stderr,
                    PROG ": checkpoint '%s' holds a %s network; CartPole needs %d inputs and %d outputs\n",
                    ckpt_path, arch_str, CARTPOLE_OBS_DIM, CARTPOLE_N_ACTIONS);
            status = EXIT_USAGE;
            goto out;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (eval_greedy(arch, params, episodes, ver, seed, &res) != 0) {
            fprintf(stderr, PROG ": evaluation failed (out of memory)\n");
            status = EXIT_RUNTIME;
            goto out;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    }

    if (json) {
        printf("{\"checkpoint\": ");
        json_string(stdout, ckpt_path);
        printf(", \"arch\": \"%s\", \"params\": \"%s\", \"n_params\": %zu", arch_str,
               use_target ? "target" : "online", arch->n_params);
        printf(", \"updates\": %lld, \"env_steps_trained\": %lld", (long long)ck.counters.updates,
               (long long)ck.counters.env_steps);
        if (episodes > 0)
            printf(", \"env\": \"%s\", \"episodes\": %d, \"seed\": %llu, \"mean\": %.6f, \"std\": %.6f, "
                   "\"min\": %.0f, \"max\": %.0f, \"solved\": %s, \"eval_env_steps\": %lld, \"seconds\": %.4f",
                   env_name, res.episodes, (unsigned long long)seed, res.mean, res.std, res.min, res.max,
                   res.mean >= solved_at ? "true" : "false", (long long)res.env_steps, seconds);
        if (print_q) {
            printf(", \"states\": [");
            for (long i = 0; i < n_states; i++) {
                printf("%s[", i ? ", " : "");
                for (int k = 0; k < in; k++)
                    printf("%s%.9g", k ? ", " : "", (double)states[i * in + k]);
                printf("]");
            }
            printf("], \"q\": [");
            for (long i = 0; i < n_states; i++) {
                printf("%s[", i ? ", " : "");
                for (int a = 0; a < A; a++)
                    printf("%s%.9g", a ? ", " : "", (double)q[i * A + a]);
                printf("]");
            }
            printf("]");
        }
        printf("}\n");
    } else {
        if (episodes > 0)
            printf("%s: %s %s on %s, %d greedy episodes (seed %llu): mean %.2f std %.2f min %.0f max %.0f%s "
                   "(%.3f s)\n",
                   PROG, ckpt_path, arch_str, env_name, res.episodes, (unsigned long long)seed, res.mean,
                   res.std, res.min, res.max, res.mean >= solved_at ? " solved" : "", seconds);
        for (long i = 0; i < n_states; i++) {
            printf("q");
            for (int k = 0; k < in; k++)
                printf(" %.9g", (double)states[i * in + k]);
            printf(" ->");
            int best = 0;
            for (int a = 0; a < A; a++) {
                printf(" %.9g", (double)q[i * A + a]);
                if (q[i * A + a] > q[i * A + best])
                    best = a;
            }
            printf("  greedy %d\n", best);
        }
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROG ": error writing output\n");
        status = EXIT_RUNTIME;
    }
out:
    free(q);
    free(scratch);
    free(states);
    ckpt_free(&ck);
    return status;
}
