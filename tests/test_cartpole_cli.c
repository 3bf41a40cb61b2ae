/* test_cartpole_cli.c — runs the kdqn-cartpole executable on every reference case
 * and compares its printed trajectory with Gymnasium's (state to 1e-12, reward and
 * flags exact), then checks that bad arguments give exit status 2 with a one-line
 * message on stderr and nothing on stdout.
 *
 * usage: test_cartpole_cli path/to/kdqn-cartpole path/to/cartpole_reference.json */
#include "json_mini.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int n_checks, n_failed;

static void check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int ok, const char *fmt, ...)
{
    n_checks++;
    if (ok)
        return;
    n_failed++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

typedef struct {
    char *out, *err;   /* owned, NUL-terminated */
    size_t out_len, err_len;
    int status;        /* exit status, or -1 if it did not exit normally */
} run_result_t;

static int append(char **buf, size_t *len, size_t *cap, const char *src, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t ncap = (*cap ? *cap : 4096);
        while (*len + n + 1 > ncap)
            ncap *= 2;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

/* Runs argv (argv[0] a path) with stdout and stderr captured. Returns 0 or -1. */
static int run(char *const argv[], run_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->status = -1;
    int po[2], pe[2];
    if (pipe(po) < 0)
        return -1;
    if (pipe(pe) < 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        close(po[0]);
        close(po[1]);
        close(pe[0]);
        close(pe[1]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    size_t ocap = 0, ecap = 0;
    int rc = 0;
    if (append(&res->out, &res->out_len, &ocap, "", 0) < 0 ||
        append(&res->err, &res->err_len, &ecap, "", 0) < 0)
        rc = -1;
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[8192];
            ssize_t n = read(fds[k].fd, buf, sizeof buf);
            if (n <= 0) {
                close(fds[k].fd);
                fds[k].fd = -1;
                open_fds--;
                continue;
            }
            if (rc == 0 && (k == 0 ? append(&res->out, &res->out_len, &ocap, buf, (size_t)n)
                                   : append(&res->err, &res->err_len, &ecap, buf, (size_t)n)) < 0)
                rc = -1;
        }
    }
    for (int k = 0; k < 2; k++)
        if (fds[k].fd >= 0)
            close(fds[k].fd);
    int wst;
    while (waitpid(pid, &wst, 0) < 0)
        if (errno != EINTR)
            return -1;
    res->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
    return rc;
}

static void run_free(run_result_t *res)
{
    free(res->out);
    free(res->err);
    res->out = res->err = NULL;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Builds "--state a,b,c,d" and "--actions ..." from a case and checks the output. */
static void test_case(const char *exe, const json_value_t *c)
{
    const json_value_t *jname = json_get(c, "name"), *jenv = json_get(c, "env_id");
    const json_value_t *init = json_get(c, "initial_state_f64"), *steps = json_get(c, "steps");
    const json_value_t *acts = json_get(c, "actions");
    const char *name = jname && jname->type == JSON_STRING ? jname->string : "?";
    if (!jenv || jenv->type != JSON_STRING || !init || init->type != JSON_ARRAY ||
        init->count != 4 || !steps || steps->type != JSON_ARRAY || !acts ||
        acts->type != JSON_ARRAY || acts->count != steps->count) {
        check(0, "case %s: malformed", name);
        return;
    }
    char state[256];
    int off = 0;
    for (size_t k = 0; k < 4; k++)
        off += snprintf(state + off, sizeof state - (size_t)off, "%s%.17g", k ? "," : "",
                        json_at(init, k)->number);
    char *actions = malloc(2 * acts->count + 1);
    if (!actions) {
        check(0, "out of memory");
        return;
    }
    for (size_t t = 0; t < acts->count; t++) {
        actions[2 * t] = json_at(acts, t)->number == 1 ? '1' : '0';
        actions[2 * t + 1] = ',';
    }
    actions[2 * acts->count - 1] = '\0';
    int v0 = strcmp(jenv->string, "CartPole-v0") == 0;

    char *argv[8];
    int a = 0;
    argv[a++] = (char *)exe;
    if (v0)
        argv[a++] = "--v0";
    argv[a++] = "--state";
    argv[a++] = state;
    argv[a++] = "--actions";
    argv[a++] = actions;
    argv[a] = NULL;
    run_result_t res;
    if (run(argv, &res) < 0) {
        check(0, "case %s: could not run %s", name, exe);
        free(actions);
        run_free(&res);
        return;
    }
    check(res.status == 0, "case %s: exit status %d, stderr: %s", name, res.status, res.err);
    check(count_lines(res.out) == steps->count, "case %s: %zu lines, want %zu", name,
          count_lines(res.out), steps->count);
    char *save = NULL;
    char *line = strtok_r(res.out, "\n", &save);
    for (size_t t = 0; t < steps->count && line; t++, line = strtok_r(NULL, "\n", &save)) {
        const json_value_t *st = json_at(steps, t);
        const json_value_t *ns = json_get(st, "next_state_f64");
        const json_value_t *jr = json_get(st, "reward");
        const json_value_t *jte = json_get(st, "terminated"), *jtr = json_get(st, "truncated");
        long lt;
        int la, lte, ltr;
        double s[4], lr;
        int consumed = 0;
        int got = sscanf(line, "%ld %d %lf %lf %lf %lf %lf %d %d%n", &lt, &la, &s[0], &s[1],
                         &s[2], &s[3], &lr, &lte, &ltr, &consumed);
        if (got != 9 || line[consumed] != '\0' || !ns || ns->count != 4 || !jr || !jte ||
            !jtr) {
            check(0, "case %s step %zu: cannot parse line '%s'", name, t + 1, line);
            break;
        }
        check(lt == (long)(t + 1), "case %s: line %zu has t=%ld", name, t + 1, lt);
        check(la == (int)json_at(acts, t)->number, "case %s step %zu: action %d", name, t + 1,
              la);
        for (size_t k = 0; k < 4; k++) {
            double want = json_at(ns, k)->number;
            check(fabs(s[k] - want) <= 1e-12, "case %s step %zu: state[%zu] %.17g, want %.17g",
                  name, t + 1, k, s[k], want);
        }
        check(lr == jr->number, "case %s step %zu: reward %g, want %g", name, t + 1, lr,
              jr->number);
        check(lte == jte->boolean && ltr == jtr->boolean,
              "case %s step %zu: flags %d %d, want %d %d", name, t + 1, lte, ltr, jte->boolean,
              jtr->boolean);
    }
    check(res.err_len == 0, "case %s: unexpected stderr: %s", name, res.err);
    free(actions);
    run_free(&res);
}

/* Bad arguments: exit 2, one line on stderr, nothing on stdout. */
static void expect_usage_error(const char *exe, const char *what, int argc, ...)
{
    char *argv[16];
    argv[0] = (char *)exe;
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc && i < 14; i++)
        argv[i + 1] = va_arg(ap, char *);
    va_end(ap);
    argv[argc + 1] = NULL;
    run_result_t res;
    if (run(argv, &res) < 0) {
        check(0, "%s: could not run", what);
        run_free(&res);
        return;
    }
    check(res.status == 2, "%s: exit status %d, want 2", what, res.status);
    check(res.out_len == 0, "%s: printed on stdout: %s", what, res.out);
    check(res.err_len > 0 && count_lines(res.err) == 1, "%s: want one line on stderr, got '%s'",
          what, res.err);
    run_free(&res);
}

static void test_flags(const char *exe)
{
    run_result_t res;
    char *help[] = {(char *)exe, "--help", NULL};
    if (run(help, &res) == 0) {
        check(res.status == 0, "--help: exit status %d", res.status);
        check(strstr(res.out, "--state") && strstr(res.out, "--actions") &&
                  strstr(res.out, "--v0") && strstr(res.out, "--version"),
              "--help does not list every flag: %s", res.out);
    } else {
        check(0, "--help: could not run");
    }
    run_free(&res);
    char *ver[] = {(char *)exe, "--version", NULL};
    if (run(ver, &res) == 0) {
        check(res.status == 0 && strncmp(res.out, "kdqn-cartpole ", 14) == 0,
              "--version: status %d output '%s'", res.status, res.out);
    } else {
        check(0, "--version: could not run");
    }
    run_free(&res);
    /* The --flag=value form; steps continue after termination. */
    char acts[401];
    for (int i = 0; i < 200; i++) {
        acts[2 * i] = (char)('0' + (i & 1));
        acts[2 * i + 1] = ',';
    }
    acts[399] = '\0';
    char actsarg[420];
    snprintf(actsarg, sizeof actsarg, "--actions=%s", acts);
    char *eqform[] = {(char *)exe, "--state=0,0,0,0", actsarg, NULL};
    if (run(eqform, &res) == 0) {
        check(res.status == 0 && count_lines(res.out) == 200, "--flag=value form failed: %d %s",
              res.status, res.err);
    }
    run_free(&res);

    const char *ok_actions = "1,0";
    expect_usage_error(exe, "unknown flag", 5, "--bogus", "--state", "0,0,0,0", "--actions",
                       ok_actions);
    expect_usage_error(exe, "no arguments", 0);
    expect_usage_error(exe, "missing --state", 2, "--actions", ok_actions);
    expect_usage_error(exe, "missing --actions", 2, "--state", "0,0,0,0");
    expect_usage_error(exe, "--state without value", 3, "--actions", ok_actions, "--state");
    expect_usage_error(exe, "3 state values", 4, "--state", "0,0,0", "--actions", ok_actions);
    expect_usage_error(exe, "5 state values", 4, "--state", "0,0,0,0,0", "--actions",
                       ok_actions);
    expect_usage_error(exe, "malformed number", 4, "--state", "0,0,x,0", "--actions",
                       ok_actions);
    expect_usage_error(exe, "trailing junk", 4, "--state", "0,0,0.1abc,0", "--actions",
                       ok_actions);
    expect_usage_error(exe, "empty value", 4, "--state", "0,,0,0", "--actions", ok_actions);
    expect_usage_error(exe, "trailing comma", 4, "--state", "0,0,0,0,", "--actions",
                       ok_actions);
    expect_usage_error(exe, "inf", 4, "--state", "0,0,inf,0", "--actions", ok_actions);
    expect_usage_error(exe, "nan", 4, "--state", "nan,0,0,0", "--actions", ok_actions);
    expect_usage_error(exe, "overflow", 4, "--state", "1e999,0,0,0", "--actions", ok_actions);
    expect_usage_error(exe, "action 2", 4, "--state", "0,0,0,0", "--actions", "1,2,0");
    expect_usage_error(exe, "action -1", 4, "--state", "0,0,0,0", "--actions", "-1");
    expect_usage_error(exe, "action 10", 4, "--state", "0,0,0,0", "--actions", "10");
    expect_usage_error(exe, "empty action", 4, "--state", "0,0,0,0", "--actions", "1,,0");
    expect_usage_error(exe, "empty actions", 4, "--state", "0,0,0,0", "--actions", "");
    expect_usage_error(exe, "trailing comma in actions", 4, "--state", "0,0,0,0", "--actions",
                       "1,0,");
    expect_usage_error(exe, "duplicate --state", 6, "--state", "0,0,0,0", "--state", "0,0,0,0",
                       "--actions", ok_actions);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s path/to/kdqn-cartpole cartpole_reference.json\n", argv[0]);
        return 2;
    }
    char err[256];
    json_value_t *root = json_parse_file(argv[2], err, sizeof err);
    if (!root) {
        fprintf(stderr, "FAIL: cannot load %s: %s\n", argv[2], err);
        return 1;
    }
    const json_value_t *cases = json_get(root, "cases");
    if (!cases || cases->type != JSON_ARRAY || cases->count == 0)
        check(0, "reference file has no cases");
    else
        for (size_t i = 0; i < cases->count; i++)
            test_case(argv[1], json_at(cases, i));
    json_free(&root);
    test_flags(argv[1]);
    if (n_failed) {
        fprintf(stderr, "test_cartpole_cli: %d of %d checks FAILED\n", n_failed, n_checks);
        return 1;
    }
    printf("test_cartpole_cli: all %d checks passed\n", n_checks);
    return 0;
}
