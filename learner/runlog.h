/* runlog.h — a learner's run folder:
 *   config.txt       every flag's value and the endpoints used
 *   metrics.csv      one row per stats interval (columns documented in learner/README.md)
 *   eval.csv         one row per greedy evaluation
 *   checkpoint.ckpt  latest full checkpoint (weights, target, Adam, counters, RNG)
 *   best.ckpt        parameters of the best evaluation
 *   summary.json     what launch/run's results table needs
 * and the progress line on stderr (a live line on a terminal, plain lines otherwise). */
#ifndef KDQN_RUNLOG_H
#define KDQN_RUNLOG_H
#include <stdint.h>
#include <stdio.h>
#include "ckpt.h"
#include "dqn.h"
#include "eval.h"

typedef struct {
    char dir[512];
    FILE *metrics, *eval;
    int tty;
} runlog_t;

typedef struct {
    double wall;
    int64_t env_steps, updates;
    double env_steps_per_s, updates_per_s, replay_ratio;
    float td_loss, kd_loss, kd_alpha;
    double eval_mean, episode_return, teacher_fraction, teacher_latency_ms;
    int actors_alive;
    uint64_t rejected;
    int64_t policy_version;
    float eps_min, eps_max;        /* alive actors' exploration rates */
} runlog_metrics_t;

typedef struct {
    const char *name;
    const mlp_arch_t *arch;
    int solved;
    const char *stop_reason;
    eval_result_t eval;
    int evaluations;
    int64_t env_steps_to_target;
    double seconds_to_target;
    int64_t env_steps, updates;
    double seconds, replay_ratio;
    const char *teacher_endpoint;
    uint64_t teacher_sent, teacher_answered, teacher_timed_out, teacher_skipped, transitions_with_teacher;
    double teacher_latency_ms;
    uint64_t rejected;
    int actors_seen, actors_expected, actors_lost;
    const char *lost_list;
    uint64_t bytes_received;
    /* batches missing from / repeated in the actors' sequence numbers (ingest_t
     * gaps_total / dups_total); written as null unless gaps_known is set */
    int gaps_known;
    uint64_t message_gaps, duplicate_batches;
    const float *params;   /* to time inference */
} runlog_summary_t;

/* "runs/<name>-<YYYYmmdd-HHMMSS>-<index>" */
void runlog_default_dir(char *out, size_t len, const char *name, int index);
/* Creates the folder (and parents); appends to existing CSVs when resuming.
 * NULL with errno set on failure. */
runlog_t *runlog_open(const char *dir, int resume);
void runlog_close(runlog_t **rl);
void runlog_write_config(runlog_t *rl, const char *config);
void runlog_metrics(runlog_t *rl, const runlog_metrics_t *m, int print);
void runlog_eval(runlog_t *rl, int64_t env_steps, int64_t updates, double wall, const eval_result_t *ev);
/* Full checkpoint to <dir>/checkpoint.ckpt (atomic). Logs and returns the ckpt code. */
int runlog_save_checkpoint(runlog_t *rl, const dqn_t *d, const ckpt_counters_t *c, const char *config);
/* Parameters only, to <dir>/<file>. */
int runlog_save_params(runlog_t *rl, const char *file, const mlp_arch_t *arch, const float *params,
                       const ckpt_counters_t *c, const char *config);
/* Restores d and *c from <dir>/checkpoint.ckpt (architecture must match). */
int runlog_load_checkpoint(runlog_t *rl, dqn_t *d, ckpt_counters_t *c);
void runlog_write_summary(runlog_t *rl, const runlog_summary_t *s);

#endif
