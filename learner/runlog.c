#include "runlog.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

void runlog_default_dir(char *out, size_t len, const char *name, int index)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y%m%d-%H%M%S", &tm);
    snprintf(out, len, "runs/%s-%s-%d", name, ts, index);
}

static int mkdir_p(const char *path)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static FILE *open_csv(const char *dir, const char *file, const char *header, int append)
{
    char path[640];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    struct stat st;
    int exists = stat(path, &st) == 0 && st.st_size > 0;
    FILE *f = fopen(path, append ? "a" : "w");
    if (f && !(append && exists))
        fprintf(f, "%s\n", header);
    return f;
}

runlog_t *runlog_open(const char *dir, int resume)
{
    if (mkdir_p(dir) != 0)
        return NULL;
    runlog_t *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    snprintf(rl->dir, sizeof rl->dir, "%s", dir);
    rl->tty = isatty(STDERR_FILENO);
    rl->metrics = open_csv(dir, "metrics.csv",
                           "wall_s,env_steps,updates,env_steps_per_s,updates_per_s,replay_ratio,td_loss,kd_loss,"
                           "kd_alpha,eval_mean,episode_return,teacher_fraction,teacher_latency_ms,actors_alive,"
                           "rejected,policy_version,eps_min,eps_max",
                           resume);
    rl->eval = open_csv(dir, "eval.csv", "wall_s,env_steps,updates,mean,std,min,max,episodes", resume);
    if (!rl->metrics || !rl->eval) {
        runlog_close(&rl);
        return NULL;
    }
    return rl;
}

void runlog_close(runlog_t **rlp)
{
    if (!rlp || !*rlp)
        return;
    runlog_t *rl = *rlp;
    if (rl->tty)
        fputc('\n', stderr);
    if (rl->metrics)
        fclose(rl->metrics);
    if (rl->eval)
        fclose(rl->eval);
    free(rl);
    *rlp = NULL;
}

void runlog_write_config(runlog_t *rl, const char *config)
{
    char path[640];
    snprintf(path, sizeof path, "%s/config.txt", rl->dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        LOG_WARN("cannot write %s: %s", path, strerror(errno));
        return;
    }
    fputs(config, f);
    fclose(f);
}

void runlog_metrics(runlog_t *rl, const runlog_metrics_t *m, int print)
{
    fprintf(rl->metrics, "%.3f,%lld,%lld,%.1f,%.1f,%.3f,%.6g,%.6g,%.4g,%.2f,%.2f,%.4f,%.3f,%d,%llu,%lld,%.4g,%.4g\n", m->wall,
            (long long)m->env_steps, (long long)m->updates, m->env_steps_per_s, m->updates_per_s, m->replay_ratio,
            m->td_loss, m->kd_loss, m->kd_alpha, m->eval_mean, m->episode_return, m->teacher_fraction,
            m->teacher_latency_ms, m->actors_alive, (unsigned long long)m->rejected, (long long)m->policy_version,
            (double)m->eps_min, (double)m->eps_max);
    fflush(rl->metrics);
    if (!print)
        return;
    char line[320], ev[16] = "     -", ep[16] = "     -", lat[16] = "   -";
    if (!isnan(m->eval_mean))
        snprintf(ev, sizeof ev, "%6.1f", m->eval_mean);
    if (!isnan(m->episode_return))
        snprintf(ep, sizeof ep, "%6.1f", m->episode_return);
    if (!isnan(m->teacher_latency_ms))
        snprintf(lat, sizeof lat, "%.2fms", m->teacher_latency_ms);
    snprintf(line, sizeof line,
             "%6.1fs  env %9lld (%7.0f/s)  upd %8lld (%6.0f/s)  ratio %.2f  eval %s  ep-return %s  "
             "eps %.2g-%.2g  teacher %3.0f%% %s  actors %d  rejected %llu",
             m->wall, (long long)m->env_steps, m->env_steps_per_s, (long long)m->updates, m->updates_per_s,
             m->replay_ratio, ev, ep, (double)m->eps_min, (double)m->eps_max, 100.0 * m->teacher_fraction, lat,
             m->actors_alive, (unsigned long long)m->rejected);
    if (rl->tty) {
        fprintf(stderr, "\r%s\033[K", line);
        fflush(stderr);
    } else if (log_level >= LOG_LEVEL_INFO) {
        LOG_INFO("%s", line);
    }
}

void runlog_eval(runlog_t *rl, int64_t env_steps, int64_t updates, double wall, const eval_result_t *ev)
{
    fprintf(rl->eval, "%.3f,%lld,%lld,%.2f,%.2f,%.0f,%.0f,%d\n", wall, (long long)env_steps, (long long)updates,
            ev->mean, ev->std, ev->min, ev->max, ev->episodes);
    fflush(rl->eval);
    if (rl->tty)
        fputc('\n', stderr);
}

int runlog_save_checkpoint(runlog_t *rl, const dqn_t *d, const ckpt_counters_t *c, const char *config)
{
    ckpt_t ck;
    memset(&ck, 0, sizeof ck);
    ck.arch = d->cfg.arch;
    ck.params = d->online->params;
    ck.target_params = d->target_params;
    ck.adam_m = d->adam->m;
    ck.adam_v = d->adam->v;
    ck.adam_t = d->adam->t;
    ck.counters = *c;
    ck.n_rng = 1;
    ck.rng[0] = d->rng;
    ck.config = (char *)config;
    char path[640];
    snprintf(path, sizeof path, "%s/checkpoint.ckpt", rl->dir);
    int rc = ckpt_save(path, &ck);
    if (rc != 0)
        LOG_WARN("checkpoint %s not written: %s (%s)", path, ckpt_strerror(rc), strerror(errno));
    return rc;
}

int runlog_save_params(runlog_t *rl, const char *file, const mlp_arch_t *arch, const float *params,
                       const ckpt_counters_t *c, const char *config)
{
    ckpt_t ck;
    memset(&ck, 0, sizeof ck);
    ck.arch = *arch;
    ck.params = (float *)params;
    ck.counters = *c;
    ck.config = (char *)config;
    char path[640];
    snprintf(path, sizeof path, "%s/%s", rl->dir, file);
    int rc = ckpt_save(path, &ck);
    if (rc != 0)
        LOG_WARN("checkpoint %s not written: %s", path, ckpt_strerror(rc));
    return rc;
}

int runlog_load_checkpoint(runlog_t *rl, dqn_t *d, ckpt_counters_t *c)
{
    char path[640];
    snprintf(path, sizeof path, "%s/checkpoint.ckpt", rl->dir);
    ckpt_t ck;
    int rc = ckpt_load(path, &d->cfg.arch, &ck);
    if (rc != 0)
        return rc;
    const size_t n = d->cfg.arch.n_params;
    memcpy(d->online->params, ck.params, sizeof(float) * n);
    if (ck.target_params)
        memcpy(d->target_params, ck.target_params, sizeof(float) * n);
    else
        dqn_sync_target(d);
    if (ck.adam_m && ck.adam_v) {
        memcpy(d->adam->m, ck.adam_m, sizeof(float) * n);
        memcpy(d->adam->v, ck.adam_v, sizeof(float) * n);
        d->adam->t = ck.adam_t;
    }
    if (ck.n_rng >= 1)
        d->rng = ck.rng[0];
    d->updates = ck.counters.updates;
    *c = ck.counters;
    ckpt_free(&ck);
    return 0;
}

static void json_num_or_null(FILE *f, const char *key, double v, int is_null, const char *fmt)
{
    fprintf(f, "  \"%s\": ", key);
    if (is_null || !isfinite(v))
        fputs("null", f);
    else
        fprintf(f, fmt, v);
    fputs(",\n", f);
}

void runlog_write_summary(runlog_t *rl, const runlog_summary_t *s)
{
    /* inference cost: one state at a time, as an actor or a deployed policy runs it */
    const mlp_arch_t *a = s->arch;
    float x[4] = {0.01f, -0.02f, 0.03f, 0.04f}, q[16];
    float *scratch = malloc(sizeof(float) * mlp_infer_scratch(a, 64));
    float xb[64 * 4], qb[64 * 16];
    for (int i = 0; i < 64 * 4; i++)
        xb[i] = 0.01f * (float)(i % 7);
    double ns1 = -1, ns64 = -1;
    if (scratch && a->sizes[a->n_layers] <= 16 && a->sizes[0] == 4) {
        int reps = 20000;
        double t0 = log_now();
        for (int r = 0; r < reps; r++) {
            x[0] = 0.001f * (float)(r & 15);
            mlp_infer(a, s->params, x, 1, q, scratch);
        }
        ns1 = 1e9 * (log_now() - t0) / reps;
        reps = 2000;
        t0 = log_now();
        for (int r = 0; r < reps; r++)
            mlp_infer(a, s->params, xb, 64, qb, scratch);
        ns64 = 1e9 * (log_now() - t0) / (reps * 64.0);
    }
    free(scratch);
    char net[128], path[640], tmp[660];
    mlp_arch_format(a, net, sizeof net);
    snprintf(path, sizeof path, "%s/summary.json", rl->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        LOG_WARN("cannot write %s: %s", tmp, strerror(errno));
        return;
    }
    fprintf(f, "{\n  \"name\": \"%s\",\n  \"net\": \"%s\",\n  \"params\": %zu,\n", s->name, net, a->n_params);
    fprintf(f, "  \"solved\": %s,\n  \"stop_reason\": \"%s\",\n", s->solved ? "true" : "false", s->stop_reason);
    json_num_or_null(f, "eval_mean", s->eval.mean, s->evaluations == 0, "%.2f");
    json_num_or_null(f, "eval_std", s->eval.std, s->evaluations == 0, "%.2f");
    fprintf(f, "  \"eval_episodes\": %d,\n", s->eval.episodes);
    json_num_or_null(f, "env_steps_to_475", (double)s->env_steps_to_target, s->env_steps_to_target < 0, "%.0f");
    json_num_or_null(f, "seconds_to_475", s->seconds_to_target, s->seconds_to_target < 0, "%.2f");
    fprintf(f, "  \"env_steps\": %lld,\n  \"updates\": %lld,\n  \"seconds\": %.2f,\n  \"replay_ratio\": %.3f,\n",
            (long long)s->env_steps, (long long)s->updates, s->seconds, s->replay_ratio);
    json_num_or_null(f, "infer_ns_per_state_b1", ns1, ns1 < 0, "%.1f");
    json_num_or_null(f, "infer_ns_per_state_b64", ns64, ns64 < 0, "%.1f");
    fprintf(f, "  \"teacher_endpoint\": \"%s\",\n", s->teacher_endpoint ? s->teacher_endpoint : "");
    fprintf(f, "  \"teacher_queries_sent\": %llu,\n  \"teacher_queries_answered\": %llu,\n"
               "  \"teacher_queries_timed_out\": %llu,\n  \"teacher_queries_skipped\": %llu,\n"
               "  \"transitions_with_teacher\": %llu,\n",
            (unsigned long long)s->teacher_sent, (unsigned long long)s->teacher_answered,
            (unsigned long long)s->teacher_timed_out, (unsigned long long)s->teacher_skipped,
            (unsigned long long)s->transitions_with_teacher);
    json_num_or_null(f, "teacher_latency_ms", s->teacher_latency_ms, s->teacher_latency_ms < 0, "%.3f");
    fprintf(f, "  \"rejected_messages\": %llu,\n  \"actors_seen\": %d,\n  \"actors_expected\": %d,\n"
               "  \"actors_lost\": %d,\n  \"lost\": \"%s\",\n",
            (unsigned long long)s->rejected, s->actors_seen, s->actors_expected, s->actors_lost,
            s->lost_list ? s->lost_list : "");
    json_num_or_null(f, "message_gaps", (double)s->message_gaps, !s->gaps_known, "%.0f");
    json_num_or_null(f, "duplicate_batches", (double)s->duplicate_batches, !s->gaps_known, "%.0f");
    fprintf(f, "  \"bytes_received\": %llu\n}\n", (unsigned long long)s->bytes_received);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        LOG_WARN("cannot write %s: %s", path, strerror(errno));
}
