/* kdqn-learner — ingests actors' transitions, trains the student (Double DQN +
 * distillation against a teacher service), publishes weights, evaluates,
 * checkpoints. See launch/ROLES.md for how it starts (mpirun or standalone). */
#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "ckpt.h"
#include "dqn.h"
#include "eval.h"
#include "flags.h"
#include "ingest.h"
#include "log.h"
#include "proto.h"
#include "rendezvous.h"
#include "runlog.h"
#include "secure.h"
#include "tclient.h"

#ifndef KDQN_VERSION
#define KDQN_VERSION "dev"
#endif

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

/* everything the flags set */
typedef struct {
    const char *net, *td_loss, *kd_loss, *teacher, *run_dir, *bind_host, *bind_experience, *bind_weights;
    const char *name, *curve_keys;
    float gamma, lr, tau, max_grad_norm, td_weight, kd_alpha, kd_alpha_end, temperature, replay_ratio;
    float per_alpha, per_beta0;
    int batch_size, target_update, per, eval_episodes, publish_interval, resume, quiet, v0, no_mpi, live;
    int allow_all;
    int teacher_inflight;
    int64_t buffer_size, learning_starts, kd_alpha_steps, eval_interval, max_env_steps;
    double max_seconds, target_return, checkpoint_interval, actor_timeout, teacher_timeout, stats_interval;
    uint64_t seed;
} opts_t;

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    opts_t o = {
        .net = "4-64-64-2", .td_loss = "huber", .kd_loss = "kl", .teacher = "", .run_dir = "",
        .bind_host = "auto", .bind_experience = "tcp://127.0.0.1:5556", .bind_weights = "tcp://127.0.0.1:5557",
        .name = "", .curve_keys = "",
        .gamma = 0.99f, .lr = 1e-3f, .tau = 0.0f, .max_grad_norm = 10.0f, .td_weight = 1.0f,
        .kd_alpha = 1.0f, .kd_alpha_end = -1.0f, .temperature = 1.0f, .replay_ratio = 32.0f,
        .per_alpha = 0.6f, .per_beta0 = 0.4f,
        .batch_size = 64, .target_update = 250, .eval_episodes = 100, .publish_interval = 20,
        .teacher_inflight = 32,
        .buffer_size = 50000, .learning_starts = 1000, .kd_alpha_steps = 0, .eval_interval = 5000,
        .max_env_steps = 2000000, .max_seconds = 600, .target_return = 475, .checkpoint_interval = 30,
        .actor_timeout = 5.0, .teacher_timeout = 2.0, .stats_interval = 1.0, .seed = 1,
    };
    const flag_t flags[] = {
        {"net", FLAG_STR, &o.net, 1, 0, "network widths, e.g. 4-256-256-2 (teacher) or 4-16-2 (student)"},
        {"gamma", FLAG_FLOAT, &o.gamma, 0, 1, "discount per step"},
        {"lr", FLAG_FLOAT, &o.lr, 1e-7, 1, "Adam learning rate"},
        {"batch-size", FLAG_INT, &o.batch_size, 1, 65536, "transitions per gradient step"},
        {"buffer-size", FLAG_I64, &o.buffer_size, 1, 1e8, "replay capacity (transitions)"},
        {"learning-starts", FLAG_I64, &o.learning_starts, 0, 1e9, "transitions in replay before the first update"},
        {"target-update", FLAG_INT, &o.target_update, 1, 1e9, "updates between hard target-network copies"},
        {"tau", FLAG_FLOAT, &o.tau, 0, 1, "Polyak factor per update (0 = hard copies)"},
        {"max-grad-norm", FLAG_FLOAT, &o.max_grad_norm, 0, 1e9, "clip gradients to this global norm (0 = off)"},
        {"td-loss", FLAG_STR, &o.td_loss, 1, 0, "huber | mse"},
        {"td-weight", FLAG_FLOAT, &o.td_weight, 0, 1e6, "weight of the TD loss (0 = pure distillation)"},
        {"replay-ratio", FLAG_FLOAT, &o.replay_ratio, 0.01, 1e4, "transitions sampled per transition ingested"},
        {"per", FLAG_BOOL, &o.per, 1, 0, "prioritised replay"},
        {"per-alpha", FLAG_FLOAT, &o.per_alpha, 0, 1, "priority exponent"},
        {"per-beta", FLAG_FLOAT, &o.per_beta0, 0, 1, "initial importance-sampling exponent (anneals to 1)"},
        {"teacher", FLAG_STR, &o.teacher, 1, 0, "teacher service endpoint tcp://HOST:PORT (distillation mode)"},
        {"kd-loss", FLAG_STR, &o.kd_loss, 1, 0, "kl | mse | nll"},
        {"temperature", FLAG_FLOAT, &o.temperature, 1e-4, 1e4, "distillation temperature T"},
        {"kd-alpha", FLAG_FLOAT, &o.kd_alpha, 0, 1e6, "distillation weight alpha"},
        {"kd-alpha-end", FLAG_FLOAT, &o.kd_alpha_end, -1, 1e6, "alpha at the end of the schedule (-1 = constant)"},
        {"kd-alpha-steps", FLAG_I64, &o.kd_alpha_steps, 0, 1e12, "updates over which alpha moves linearly to its end"},
        {"teacher-inflight", FLAG_INT, &o.teacher_inflight, 1, 4096, "teacher queries in flight at most"},
        {"teacher-timeout", FLAG_DOUBLE, &o.teacher_timeout, 0.01, 3600, "seconds before an unanswered query is dropped"},
        {"eval-interval", FLAG_I64, &o.eval_interval, 1, 1e12, "environment steps between greedy evaluations"},
        {"eval-episodes", FLAG_INT, &o.eval_episodes, 1, 100000, "episodes per evaluation"},
        {"target-return", FLAG_DOUBLE, &o.target_return, -1e9, 1e9, "stop when the greedy mean return reaches this"},
        {"max-env-steps", FLAG_I64, &o.max_env_steps, 1, 1e13, "environment-step budget"},
        {"max-seconds", FLAG_DOUBLE, &o.max_seconds, 0, 1e8, "wall-time budget (0 = none)"},
        {"publish-interval", FLAG_INT, &o.publish_interval, 1, 1e9, "updates between weight publications"},
        {"actor-timeout", FLAG_DOUBLE, &o.actor_timeout, 0.1, 3600, "seconds of silence before an actor is declared lost"},
        {"run-dir", FLAG_STR, &o.run_dir, 1, 0, "run folder: config, metrics.csv, eval.csv, checkpoints (default runs/<time>)"},
        {"name", FLAG_STR, &o.name, 1, 0, "name of this run in summaries (default: teacher or student)"},
        {"checkpoint-interval", FLAG_DOUBLE, &o.checkpoint_interval, 0, 1e8, "seconds between checkpoints (0 = only at the end)"},
        {"resume", FLAG_BOOL, &o.resume, 1, 0, "continue from the run folder's checkpoint"},
        {"seed", FLAG_U64, &o.seed, 0, -1, "random seed"},
        {"v0", FLAG_BOOL, &o.v0, 1, 0, "evaluate on CartPole-v0 (200 steps)"},
        {"bind-host", FLAG_STR, &o.bind_host, 1, 0, "address to bind under mpirun: auto (127.0.0.1), interface, IPv4, subnet A.B.C.D/N or host name"},
        {"bind-experience", FLAG_STR, &o.bind_experience, 1, 0, "standalone: PULL endpoint actors push to"},
        {"bind-weights", FLAG_STR, &o.bind_weights, 1, 0, "standalone: PUB endpoint actors subscribe to"},
        {"allow-all-interfaces", FLAG_BOOL, &o.allow_all, 1, 0,
         "standalone: allow --bind-experience/--bind-weights on * / 0.0.0.0 / [::] (default: refused)"},
        {"curve-keys", FLAG_STR, &o.curve_keys, 1, 0,
         "CURVE key folder (kdqn-keygen): PULL/PUB admit only DIR/authorized keys; teacher via DIR/server.pub"},
        {"no-mpi", FLAG_BOOL, &o.no_mpi, 1, 0, "run standalone even under mpirun"},
        {"stats-interval", FLAG_DOUBLE, &o.stats_interval, 0.1, 3600, "seconds between progress lines / metrics rows"},
        {"quiet", FLAG_BOOL, &o.quiet, 1, 0, "only warnings and errors"},
        {"live", FLAG_BOOL, &o.live, 1, 0, "one self-updating progress line even when stderr is not a terminal (mpirun pipes it)"},
    };
    const int nflags = (int)(sizeof flags / sizeof flags[0]);
    int prc = flags_parse(flags, nflags, argc, argv, "kdqn-learner",
                          "Trains a Q-network from actors' experience (Double DQN + optional distillation).",
                          KDQN_VERSION);
    if (prc != 0)
        return prc > 0 ? 0 : 2;
    dqn_config_t cfg;
    dqn_config_default(&cfg);
    if (mlp_arch_parse(&cfg.arch, o.net) != 0) {
        fprintf(stderr, "kdqn-learner: --net '%s': %s\n", o.net, mlp_strerror(MLP_EARCH));
        return 2;
    }
    if (!strcmp(o.td_loss, "huber")) cfg.td_loss = LOSS_TD_HUBER;
    else if (!strcmp(o.td_loss, "mse")) cfg.td_loss = LOSS_TD_MSE;
    else { fprintf(stderr, "kdqn-learner: --td-loss must be huber or mse, not '%s'\n", o.td_loss); return 2; }
    if (!strcmp(o.kd_loss, "kl")) cfg.kd_loss = LOSS_KD_KL;
    else if (!strcmp(o.kd_loss, "mse")) cfg.kd_loss = LOSS_KD_MSE;
    else if (!strcmp(o.kd_loss, "nll")) cfg.kd_loss = LOSS_KD_NLL;
    else { fprintf(stderr, "kdqn-learner: --kd-loss must be kl, mse or nll, not '%s'\n", o.kd_loss); return 2; }
    if (o.buffer_size < o.batch_size) {
        fprintf(stderr, "kdqn-learner: --buffer-size (%lld) must be at least --batch-size (%d)\n",
                (long long)o.buffer_size, o.batch_size);
        return 2;
    }
    cfg.gamma = o.gamma; cfg.lr = o.lr; cfg.batch_size = o.batch_size; cfg.buffer_size = o.buffer_size;
    cfg.learning_starts = o.learning_starts; cfg.target_update = o.target_update; cfg.tau = o.tau;
    cfg.max_grad_norm = o.max_grad_norm; cfg.td_weight = o.td_weight; cfg.temperature = o.temperature;
    cfg.kd_alpha = o.kd_alpha; cfg.kd_alpha_end = o.kd_alpha_end < 0 ? o.kd_alpha : o.kd_alpha_end;
    cfg.kd_alpha_updates = o.kd_alpha_steps; cfg.prioritized = o.per; cfg.per_alpha = o.per_alpha;
    cfg.per_beta0 = o.per_beta0; cfg.seed = o.seed;
    /* safe defaults: loopback unless every interface is asked for explicitly */
    const char *const bind_eps[2] = {o.bind_experience, o.bind_weights};
    const char *const bind_names[2] = {"--bind-experience", "--bind-weights"};
    for (int i = 0; i < 2; i++) {
        if (rdv_parse_endpoint(bind_eps[i], 1, NULL, 0, NULL) != 0 && !secure_endpoint_is_wildcard(bind_eps[i])) {
            fprintf(stderr, "kdqn-learner: %s wants tcp://HOST:PORT, not '%s' (see --help)\n", bind_names[i],
                    bind_eps[i]);
            return 2;
        }
        if (secure_endpoint_is_wildcard(bind_eps[i]) && !o.allow_all) {
            fprintf(stderr, "kdqn-learner: %s %s: refusing to listen on every interface without "
                            "--allow-all-interfaces (see --help)\n", bind_names[i], bind_eps[i]);
            return 2;
        }
    }
    if (o.quiet)
        log_level = LOG_LEVEL_WARN;

    /* ---- CURVE keys: checked before anything binds (a bad folder is a usage error) ---- */
    secure_t *curve = NULL, *curve_cli = NULL;
    char why[1200];
    int serr = 0;
    if (o.curve_keys[0]) {
        curve = secure_load(o.curve_keys, SECURE_NEED_SERVER | (o.teacher[0] ? SECURE_NEED_CLIENT : 0), &serr,
                            why, sizeof why);
        if (!curve) {
            fprintf(stderr, "kdqn-learner: --curve-keys: %s (%s)\n", why, secure_strerror(serr));
            return 2;
        }
    }

    /* ---- sockets and rendezvous ---- */
    int learner_index = 0, expected_actors = -1;
    char teacher_ep[RDV_MAX_ENDPOINT] = "";
    char ep_exp[RDV_MAX_ENDPOINT], ep_w[RDV_MAX_ENDPOINT];
    snprintf(teacher_ep, sizeof teacher_ep, "%s", o.teacher);
    void *zctx = zmq_ctx_new();
    void *pull = zmq_socket(zctx, ZMQ_PULL), *pub = zmq_socket(zctx, ZMQ_PUB);
    int64_t maxmsg = 64 << 20;
    /* rcvhwm is per actor pipe: a small backlog keeps experience fresh and a lost
     * actor's last heartbeat from waiting behind seconds of queued batches */
    int linger = 1000, rcvhwm = 8, ka = 1, idle = 5, intvl = 2, cnt = 3;
    zmq_setsockopt(pull, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(pull, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    void *socks[2] = {pull, pub};
    for (int i = 0; i < 2; i++) {
        zmq_setsockopt(socks[i], ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(socks[i], ZMQ_TCP_KEEPALIVE, &ka, sizeof ka);
        zmq_setsockopt(socks[i], ZMQ_TCP_KEEPALIVE_IDLE, &idle, sizeof idle);
        zmq_setsockopt(socks[i], ZMQ_TCP_KEEPALIVE_INTVL, &intvl, sizeof intvl);
        zmq_setsockopt(socks[i], ZMQ_TCP_KEEPALIVE_CNT, &cnt, sizeof cnt);
    }
    if (curve) {
        /* the ZAP handler must be up before the first bind, or CURVE admits every key */
        int crc = secure_server(curve, pull);
        if (crc == 0)
            crc = secure_server(curve, pub);
        if (crc == 0)
            crc = secure_zap_start(curve, zctx);
        if (crc != 0) {
            fprintf(stderr, "kdqn-learner: CURVE setup failed: %s (%s)\n", secure_strerror(crc), zmq_strerror(errno));
            return 3;
        }
    }
    int use_mpi = getenv("OMPI_COMM_WORLD_SIZE") != NULL && !o.no_mpi;
    if (use_mpi) {
        MPI_Init(&argc, &argv);
        char addr[64];
        int rc = rdv_pick_address(o.bind_host, addr, sizeof addr);
        if (rc == 0)
            rc = rdv_bind_ephemeral(pull, addr, ep_exp, sizeof ep_exp);
        if (rc == 0)
            rc = rdv_bind_ephemeral(pub, addr, ep_w, sizeof ep_w);
        if (rc != 0)
            fprintf(stderr, "kdqn-learner: cannot bind on '%s': %s\n", o.bind_host, rdv_strerror(rc));
        const char *eps[RDV_N_EP] = {rc == 0 ? ep_exp : "", rc == 0 ? ep_w : "", ""};
        rdv_table_t t;
        int xrc = rdv_exchange(MPI_COMM_WORLD, RDV_ROLE_LEARNER, eps, &t);
        char why[256] = "";
        if (xrc == 0) {
            const rdv_entry_t *me = rdv_self(&t);
            learner_index = me->index;
            expected_actors = rdv_actors_of_learner(learner_index, t.n_role[RDV_ROLE_ACTOR], t.n_role[RDV_ROLE_LEARNER]);
            if (!teacher_ep[0] && t.n_role[RDV_ROLE_TEACHER] > 0) {
                const rdv_entry_t *te = rdv_find(&t, RDV_ROLE_TEACHER,
                                                 rdv_teacher_of_learner(learner_index, t.n_role[RDV_ROLE_TEACHER]));
                if (te)
                    snprintf(teacher_ep, sizeof teacher_ep, "%s", te->ep[RDV_EP_TEACHER]);
            }
            /* the endpoints this learner connects to: the job's teacher rank, unless
             * --teacher points it at a service of its own choosing */
            xrc = o.teacher[0] ? 0 : rdv_check_table(&t, t.self, why, sizeof why);
            if (xrc == 0) /* own endpoints reachable by this learner's actors on other hosts? */
                xrc = rdv_check_peers(&t, t.self, why, sizeof why);
        }
        rdv_table_free(&t);
        MPI_Finalize();
        if (rc != 0)
            return 3;
        if (xrc != 0) {
            fprintf(stderr, "kdqn-learner: rendezvous failed: %s%s%s\n", rdv_strerror(xrc), why[0] ? ": " : "", why);
            return 3;
        }
    } else {
        if (zmq_bind(pull, o.bind_experience) != 0 || zmq_bind(pub, o.bind_weights) != 0) {
            fprintf(stderr, "kdqn-learner: cannot bind %s / %s: %s\n", o.bind_experience, o.bind_weights,
                    zmq_strerror(errno));
            return 3;
        }
        size_t l1 = sizeof ep_exp, l2 = sizeof ep_w;
        zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep_exp, &l1);
        zmq_getsockopt(pub, ZMQ_LAST_ENDPOINT, ep_w, &l2);
    }
    log_set_role("learner", learner_index);
    const int distill = teacher_ep[0] != '\0';
    const char *run_name = o.name[0] ? o.name : (distill ? "student" : "teacher");

    /* ---- run folder, state ---- */
    char run_dir[512];
    if (o.run_dir[0])
        snprintf(run_dir, sizeof run_dir, "%s", o.run_dir);
    else
        runlog_default_dir(run_dir, sizeof run_dir, run_name, learner_index);
    runlog_t *rl = runlog_open(run_dir, o.resume);
    if (!rl) {
        fprintf(stderr, "kdqn-learner: cannot create run folder %s: %s\n", run_dir, strerror(errno));
        return 3;
    }
    if (o.live)
        rl->tty = 1;
    char config[8192];
    size_t clen = flags_dump(flags, nflags, config, sizeof config);
    snprintf(config + clen, sizeof config - clen, "teacher_endpoint=%s\nexperience_endpoint=%s\nweights_endpoint=%s\n",
             teacher_ep, ep_exp, ep_w);
    runlog_write_config(rl, config);

    dqn_t *d = dqn_new(&cfg);
    if (!d) {
        fprintf(stderr, "kdqn-learner: cannot set up the network (out of memory or bad sizes)\n");
        return 3;
    }
    ckpt_counters_t ctr = {0};
    ctr.best_eval_mean = -1;
    if (o.resume) {
        int rc = runlog_load_checkpoint(rl, d, &ctr);
        if (rc != 0) {
            fprintf(stderr, "kdqn-learner: --resume: %s/checkpoint.ckpt: %s\n", run_dir, ckpt_strerror(rc));
            return rc == CKPT_EIO ? 3 : 2;
        }
        LOG_INFO("resumed from %s/checkpoint.ckpt: %lld env steps, %lld updates, policy v%lld",
                 run_dir, (long long)ctr.env_steps, (long long)ctr.updates, (long long)ctr.policy_version);
    }
    ingest_t *in = ingest_new(d->replay, 65536, o.actor_timeout);
    tclient_t *tc = NULL;
    if (distill && curve && !o.teacher[0]) {
        /* the teacher came from the rendezvous: now the client keys are needed too */
        curve_cli = secure_load(o.curve_keys, SECURE_NEED_CLIENT, &serr, why, sizeof why);
        if (!curve_cli) {
            fprintf(stderr, "kdqn-learner: --curve-keys: %s (%s)\n", why, secure_strerror(serr));
            return 2;
        }
    }
    if (distill) {
        tc = tclient_new(zctx, teacher_ep, d->replay, cfg.arch.sizes[cfg.arch.n_layers], cfg.temperature,
                         o.teacher_inflight, o.teacher_timeout, learner_index, curve_cli ? curve_cli : curve);
        if (!tc) {
            fprintf(stderr, "kdqn-learner: --teacher '%s' is not a usable endpoint\n", teacher_ep);
            return 2;
        }
    }
    if (!in)
        return 3;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    LOG_INFO("%s: net %s (%zu parameters), experience %s, weights %s%s%s, run folder %s%s", run_name, o.net,
             cfg.arch.n_params, ep_exp, ep_w, distill ? ", teacher " : "", distill ? teacher_ep : "", run_dir,
             curve ? ", CURVE on" : "");

    /* ---- the loop ---- */
    proto_buf_t wbuf, hbuf;
    proto_buf_init(&wbuf);
    proto_buf_init(&hbuf);
    const double t_start = log_now() - ctr.wall_seconds;
    int64_t ingested = ctr.env_steps, updates = ctr.updates, policy_version = ctr.policy_version;
    int64_t next_eval = (ingested / o.eval_interval + 1) * o.eval_interval;
    int64_t last_published = -1;
    double credit = 0, max_credit = 4.0 * 256 * o.replay_ratio / cfg.batch_size + 4;
    double next_hb = 0, next_stats = log_now() + o.stats_interval, next_ckpt = log_now() + o.checkpoint_interval;
    double next_live = log_now() + 0.5;
    eval_result_t last_ev = {0};
    int solved = 0, evaluations = 0;
    int64_t steps_to_target = -1;
    double secs_to_target = -1;
    const char *stop_reason = "signal";
    int64_t stats_ingested = ingested, stats_updates = updates;
    double stats_t = log_now();
    dqn_stats_t ust = {0};
    uint64_t msg_bytes = 0;
    float *best_params = malloc(sizeof(float) * cfg.arch.n_params);
    memcpy(best_params, d->online->params, sizeof(float) * cfg.arch.n_params);

    while (!stop_signal) {
        double now = log_now();
        int got = 0;
        /* 1. experience, unless training is behind the replay ratio (back-pressure:
         *    actors then wait on their high-water mark) */
        while (credit < max_credit && got < 64) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, pull, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            got++;
            msg_bytes += zmq_msg_size(&m);
            int r = ingest_frame(in, zmq_msg_data(&m), zmq_msg_size(&m));
            zmq_msg_close(&m);
            if (r == 1) {
                ingested += in->last_n;
                if (tc)
                    tclient_query(tc, in->last_serial0, in->last_n, (uint32_t)d->replay->obs_dim, in->obs);
                if (dqn_ready(d))
                    credit += (double)in->last_n * o.replay_ratio / cfg.batch_size;
            }
        }
        if (tc)
            tclient_poll(tc);
        /* 2. gradient steps owed, in a bounded time slice */
        double slice_end = log_now() + 0.005;
        while (credit >= 1.0 && log_now() < slice_end) {
            int rc = dqn_update(d, &ust);
            if (rc != 0) {
                LOG_ERROR("update failed: %d", rc);
                break;
            }
            updates++;
            credit -= 1.0;
            if (updates % o.publish_interval == 0)
                break;
        }
        /* 3. publish weights */
        if (dqn_ready(d) && (last_published < 0 || updates - last_published >= o.publish_interval)) {
            policy_version++;
            proto_weights_t w = {.version = (uint64_t)policy_version, .n_params = (uint32_t)cfg.arch.n_params,
                                 .params = d->online->params};
            mlp_arch_format(&cfg.arch, w.arch, sizeof w.arch);
            if (proto_encode_weights(&wbuf, &w) == 0)
                zmq_send(pub, wbuf.data, wbuf.len, ZMQ_DONTWAIT);
            last_published = updates;
        }
        now = log_now();
        if (now >= next_hb) {
            proto_status_t st = {.type = PROTO_T_HEARTBEAT, .id = (uint32_t)learner_index, .pid = getpid(),
                                 .obs_dim = (uint32_t)d->replay->obs_dim,
                                 .n_actions = (uint32_t)cfg.arch.sizes[cfg.arch.n_layers],
                                 .env_steps = (uint64_t)ingested, .policy_version = (uint64_t)policy_version};
            snprintf(st.role, sizeof st.role, "learner");
            gethostname(st.host, sizeof st.host - 1);
            if (proto_encode_status(&hbuf, &st) == 0)
                zmq_send(pub, hbuf.data, hbuf.len, ZMQ_DONTWAIT);
            if (tc)
                tclient_heartbeat(tc, learner_index);
            next_hb = now + 0.5;
        }
        if (now >= next_live) {
            ingest_check_liveness(in);
            next_live = now + 0.5;
        }
        /* 4. evaluation */
        if (ingested >= next_eval && dqn_ready(d)) {
            next_eval = (ingested / o.eval_interval + 1) * o.eval_interval;
            eval_result_t ev;
            if (eval_greedy(&cfg.arch, d->online->params, o.eval_episodes, o.v0 ? CARTPOLE_V0 : CARTPOLE_V1,
                            rng_derive(o.seed, 0x6576ULL, (uint64_t)evaluations), &ev) == 0) {
                evaluations++;
                last_ev = ev;
                double el = log_now() - t_start;
                runlog_eval(rl, ingested, updates, el, &ev);
                if (ev.mean > ctr.best_eval_mean) {
                    ctr.best_eval_mean = ev.mean;
                    memcpy(best_params, d->online->params, sizeof(float) * cfg.arch.n_params);
                }
                LOG_INFO("eval @ %lld env steps: greedy return %.1f ± %.1f (min %.0f, max %.0f) over %d episodes",
                         (long long)ingested, ev.mean, ev.std, ev.min, ev.max, ev.episodes);
                if (ev.mean >= o.target_return) {
                    solved = 1;
                    steps_to_target = ingested;
                    secs_to_target = el;
                    stop_reason = "solved";
                    break;
                }
            }
        }
        /* 5. progress, metrics, checkpoints, budgets */
        now = log_now();
        if (now >= next_stats) {
            double dt = now - stats_t;
            runlog_metrics_t mrow = {
                .wall = now - t_start, .env_steps = ingested, .updates = updates,
                .env_steps_per_s = (ingested - stats_ingested) / dt, .updates_per_s = (updates - stats_updates) / dt,
                .replay_ratio = ingested > 0 ? (double)updates * cfg.batch_size / (double)ingested : 0,
                .td_loss = ust.td_loss, .kd_loss = ust.kd_loss, .kd_alpha = ust.kd_alpha,
                .eval_mean = evaluations ? last_ev.mean : NAN,
                .episode_return = in->ep_count_window ? in->ep_return_sum_window / in->ep_count_window : NAN,
                .teacher_fraction = d->replay->size ? (double)d->replay->with_teacher / d->replay->size : 0,
                .teacher_latency_ms = tc && tc->answered ? 1e3 * tc->latency_sum / tc->answered : NAN,
                .actors_alive = in->n_alive, .rejected = in->rejected, .policy_version = policy_version,
            };
            ingest_eps_range(in, &mrow.eps_min, &mrow.eps_max);
            runlog_metrics(rl, &mrow, !o.quiet);
            in->ep_return_sum_window = 0;
            in->ep_count_window = 0;
            stats_t = now;
            stats_ingested = ingested;
            stats_updates = updates;
            next_stats = now + o.stats_interval;
        }
        if (o.checkpoint_interval > 0 && now >= next_ckpt) {
            ctr = (ckpt_counters_t){ingested, updates, ingested, (int64_t)in->episodes, policy_version,
                                    now - t_start, ctr.best_eval_mean};
            runlog_save_checkpoint(rl, d, &ctr, config);
            next_ckpt = now + o.checkpoint_interval;
        }
        if (ingested >= o.max_env_steps) {
            stop_reason = "max_env_steps";
            break;
        }
        if (o.max_seconds > 0 && now - t_start >= o.max_seconds) {
            stop_reason = "max_seconds";
            break;
        }
        if (got == 0 && credit < 1.0) {
            zmq_pollitem_t items[2] = {{pull, 0, ZMQ_POLLIN, 0}, {tc ? tc->sock : NULL, 0, ZMQ_POLLIN, 0}};
            zmq_poll(items, tc ? 2 : 1, 5);
        }
    }
    double total = log_now() - t_start;
    if (stop_signal)
        LOG_WARN("stopping on signal %d", (int)stop_signal);
    LOG_INFO("finished (%s) after %lld env steps, %lld updates, %.1f s", stop_reason, (long long)ingested,
             (long long)updates, total);

    /* tell the actors (PUB is fire-and-forget: repeat a few times) */
    proto_stop_t sm;
    snprintf(sm.reason, sizeof sm.reason, "%s", stop_reason);
    if (proto_encode_stop(&hbuf, &sm) == 0)
        for (int i = 0; i < 5; i++) {
            zmq_send(pub, hbuf.data, hbuf.len, ZMQ_DONTWAIT);
            usleep(20000);
        }
    ctr = (ckpt_counters_t){ingested, updates, ingested, (int64_t)in->episodes, policy_version, total,
                            ctr.best_eval_mean};
    runlog_save_checkpoint(rl, d, &ctr, config);
    runlog_save_params(rl, "best.ckpt", &cfg.arch, best_params, &ctr, config);

    /* summary for launch/run's results table */
    char lost[1024];
    ingest_lost_list(in, lost, sizeof lost);
    runlog_summary_t sum = {
        .name = run_name, .arch = &cfg.arch, .solved = solved, .stop_reason = stop_reason,
        .eval = last_ev, .evaluations = evaluations, .env_steps_to_target = steps_to_target,
        .seconds_to_target = secs_to_target, .env_steps = ingested, .updates = updates, .seconds = total,
        .replay_ratio = ingested > 0 ? (double)updates * cfg.batch_size / (double)ingested : 0,
        .teacher_endpoint = teacher_ep,
        .teacher_sent = tc ? tc->sent : 0, .teacher_answered = tc ? tc->answered : 0,
        .teacher_timed_out = tc ? tc->timed_out : 0, .teacher_skipped = tc ? tc->skipped : 0,
        .transitions_with_teacher = tc ? tc->states_labelled : 0,
        .teacher_latency_ms = tc && tc->answered ? 1e3 * tc->latency_sum / tc->answered : -1,
        .rejected = in->rejected, .actors_seen = in->n_known, .actors_expected = expected_actors,
        .actors_lost = in->n_lost_total, .lost_list = lost, .bytes_received = msg_bytes,
        .gaps_known = 1, .message_gaps = in->gaps_total, .duplicate_batches = in->dups_total,
        .params = d->online->params,
    };
    runlog_write_summary(rl, &sum);
    if (lost[0])
        LOG_WARN("actors lost during the run: %s", lost);
    printf("run folder: %s\n", run_dir);
    fflush(stdout);

    if (curve)
        log_emit(LOG_LEVEL_INFO, "CURVE: %llu connections admitted, %llu refused (key not authorized), "
                 "%llu failed handshakes", (unsigned long long)secure_zap_accepted(curve),
                 (unsigned long long)secure_zap_refused(curve), (unsigned long long)secure_handshakes_failed(curve));
    tclient_destroy(&tc);
    zmq_close(pull);
    zmq_close(pub);
    zmq_ctx_term(zctx);
    secure_destroy(&curve);   /* after the sockets: see secure.h */
    secure_destroy(&curve_cli);
    ingest_destroy(&in);
    runlog_close(&rl);
    proto_buf_free(&wbuf);
    proto_buf_free(&hbuf);
    free(best_params);
    dqn_destroy(&d);
    if (stop_signal)
        return solved ? 0 : 1;
    return solved ? 0 : 1;
}
