#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int log_level = LOG_LEVEL_INFO;
static char log_prefix[64] = "[kdqn] ";

void log_set_role(const char *role, int rank)
{
    if (rank >= 0)
        snprintf(log_prefix, sizeof log_prefix, "[%s %d] ", role, rank);
    else
        snprintf(log_prefix, sizeof log_prefix, "[%s] ", role);
}

double log_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void log_emit(log_level_t level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    char line[1024];
    int off = snprintf(line, sizeof line, "%s%s: ", log_prefix, names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + off, sizeof line - (size_t)off, fmt, ap);
    va_end(ap);
    /* one fputs per line so lines from concurrent ranks do not interleave mid-line */
    size_t n = strlen(line);
    if (n + 1 < sizeof line) {
        line[n] = '\n';
        line[n + 1] = '\0';
    }
    fputs(line, stderr);
}

int log_ratelimit_pass(log_ratelimit_t *rl, double period)
{
    double now = log_now();
    if (rl->last == 0.0 || now - rl->last >= period) {
        rl->last = now;
        return 1;
    }
    rl->suppressed++;
    return 0;
}
