/* log.h — stderr logging with the role and rank in every line.
 *
 * LOG_WARN(...) etc. test the level before evaluating their arguments. The
 * rate-limited form prints at most one line per `period` seconds per call site
 * and says how many it suppressed, so a flood of bad messages cannot flood the
 * log. */
#ifndef KDQN_LOG_H
#define KDQN_LOG_H
#include <stdint.h>

typedef enum { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN = 1, LOG_LEVEL_INFO = 2, LOG_LEVEL_DEBUG = 3 } log_level_t;

extern int log_level;

/* Sets the prefix of every line, e.g. ("learner", 1) -> "[learner 1] ". rank < 0 omits it. */
void log_set_role(const char *role, int rank);
void log_emit(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Seconds on a monotonic clock. */
double log_now(void);

typedef struct {
    double last;
    uint64_t suppressed;
} log_ratelimit_t;
/* 1 if a line may be printed now (and then *rl is updated), else counts it as suppressed. */
int log_ratelimit_pass(log_ratelimit_t *rl, double period);

#define LOG_AT(lvl, ...) do { if ((int)(lvl) <= log_level) log_emit((lvl), __VA_ARGS__); } while (0)
#define LOG_ERROR(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_WARN(...)  LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_INFO(...)  LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)
/* At most one line per `period` seconds from this call site. */
#define LOG_WARN_RL(period, ...) do { static log_ratelimit_t rl_; \
    if (LOG_LEVEL_WARN <= log_level && log_ratelimit_pass(&rl_, (period))) { \
        if (rl_.suppressed) log_emit(LOG_LEVEL_WARN, "(%llu similar lines suppressed)", \
                                     (unsigned long long)rl_.suppressed); \
        rl_.suppressed = 0; log_emit(LOG_LEVEL_WARN, __VA_ARGS__); } } while (0)

#endif
