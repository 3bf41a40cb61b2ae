/* kdqn-actor — flags, MPI rendezvous or standalone endpoints, then actor_run.
 * Exit status (launch/ROLES.md): 0 done, 2 usage, 3 runtime failure. */
#include <getopt.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "actor.h"
#include "log.h"
#include "rendezvous.h"
#include "secure.h"

#ifndef KDQN_VERSION
#define KDQN_VERSION "0.0.0"
#endif

static volatile sig_atomic_t main_stop;

static void main_on_signal(int sig)
{
    (void)sig;
    main_stop = 1;
}

static void main_usage(FILE *f)
{
    fprintf(f,
        "usage: kdqn-actor [options]\n"
        "Runs K CartPole copies with an epsilon-greedy copy of the learner's network and\n"
        "streams n-step transitions to the learner. Under mpirun the learner is found by\n"
        "rendezvous; otherwise give --learner/--weights.\n"
        "\n"
        "  --envs K               environment copies stepped together (default %d)\n"
        "  --eps E                Ape-X base epsilon: eps_i = E^(1 + 7 i/(N-1)) (default 0.4)\n"
        "  --eps-schedule S,E,N   instead: epsilon linear from S to E over N env steps of this actor (default off)\n"
        "  --n-step N             n-step returns, 1..64 (default 3)\n"
        "  --gamma G              discount in [0, 1] (default 0.99)\n"
        "  --send-batch N         transitions per batch message (default 256)\n"
        "  --send-hwm N           batches queued towards the learner before sending waits (default 8)\n"
        "  --heartbeat S          seconds between heartbeats (default 0.5)\n"
        "  --max-env-steps N      stop after N env steps, 0 = unlimited (default 0)\n"
        "  --learner-timeout S    exit 3 when the learner is silent this long (default 10)\n"
        "  --stats-interval S     seconds between progress lines, 0 = none (default 10)\n"
        "  --seed N               base seed (default 1)\n"
        "  --v0                   CartPole-v0 (200-step episodes) instead of v1\n"
        "  --learner EP           standalone: learner's experience endpoint (default tcp://127.0.0.1:5556)\n"
        "  --weights EP           standalone: learner's weights endpoint (default tcp://127.0.0.1:5557)\n"
        "  --actor-id I           standalone: this actor's index (default 0)\n"
        "  --num-actors N         standalone: actors of this learner, for epsilon (default 1)\n"
        "  --no-mpi               standalone even under mpirun\n"
        "  --curve-keys DIR       CURVE client: DIR/client.key and the learner's DIR/server.pub (see kdqn-keygen)\n"
        "                         (default: off, plain TCP)\n"
        "  --bind-host SPEC       accepted for uniformity with the other roles; the actor binds nothing (default auto)\n"
        "  --quiet                warnings and errors only\n"
        "  --verbose              debug output\n"
        "  --help                 this text\n"
        "  --version              print the version\n",
        ACTOR_DEFAULT_ENVS);
}

static int main_bad(const char *flag, const char *val, const char *why)
{
    fprintf(stderr, "kdqn-actor: bad value '%s' for %s: %s (see --help)\n", val, flag, why);
    return 2;
}

static int parse_i64(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_dbl(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_schedule(const char *s, actor_config_t *cfg)
{
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return -1;
    strcpy(buf, s);
    char *c1 = strchr(buf, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
    if (!c1 || !c2)
        return -1;
    *c1 = *c2 = '\0';
    double a, b;
    uint64_t n;
    if (parse_dbl(buf, 0, 1, &a) || parse_dbl(c1 + 1, 0, 1, &b) || parse_u64(c2 + 1, &n) || n < 1)
        return -1;
    cfg->eps_schedule = 1;
    cfg->eps_start = (float)a;
    cfg->eps_end = (float)b;
    cfg->eps_steps = n;
    return 0;
}

enum {
    OPT_ENVS = 256, OPT_EPS, OPT_EPS_SCHED, OPT_NSTEP, OPT_GAMMA, OPT_SEND_BATCH, OPT_SEND_HWM, OPT_HEARTBEAT,
    OPT_MAX_STEPS, OPT_TIMEOUT, OPT_STATS, OPT_SEED, OPT_V0, OPT_LEARNER, OPT_WEIGHTS, OPT_ID,
    OPT_NUM, OPT_NO_MPI, OPT_BIND_HOST, OPT_QUIET, OPT_VERBOSE, OPT_HELP, OPT_VERSION, OPT_CURVE,
};

typedef struct {
    actor_config_t cfg;
    int no_mpi, quiet, verbose, id_given, num_given, ep_given;
    const char *curve_keys;   /* --curve-keys DIR, or NULL */
} main_opts_t;

/* Returns -1 to go on, else the exit status. */
static int main_parse(int argc, char **argv, main_opts_t *o)
{
    static const struct option opts[] = {
        {"envs", required_argument, 0, OPT_ENVS},
        {"eps", required_argument, 0, OPT_EPS},
        {"eps-schedule", required_argument, 0, OPT_EPS_SCHED},
        {"n-step", required_argument, 0, OPT_NSTEP},
        {"gamma", required_argument, 0, OPT_GAMMA},
        {"send-batch", required_argument, 0, OPT_SEND_BATCH},
        {"send-hwm", required_argument, 0, OPT_SEND_HWM},
        {"heartbeat", required_argument, 0, OPT_HEARTBEAT},
        {"max-env-steps", required_argument, 0, OPT_MAX_STEPS},
        {"learner-timeout", required_argument, 0, OPT_TIMEOUT},
        {"stats-interval", required_argument, 0, OPT_STATS},
        {"seed", required_argument, 0, OPT_SEED},
        {"v0", no_argument, 0, OPT_V0},
        {"learner", required_argument, 0, OPT_LEARNER},
        {"weights", required_argument, 0, OPT_WEIGHTS},
        {"actor-id", required_argument, 0, OPT_ID},
        {"num-actors", required_argument, 0, OPT_NUM},
        {"no-mpi", no_argument, 0, OPT_NO_MPI},
        {"bind-host", required_argument, 0, OPT_BIND_HOST},
        {"curve-keys", required_argument, 0, OPT_CURVE},
        {"quiet", no_argument, 0, OPT_QUIET},
        {"verbose", no_argument, 0, OPT_VERBOSE},
        {"help", no_argument, 0, OPT_HELP},
        {"version", no_argument, 0, OPT_VERSION},
        {0, 0, 0, 0},
    };
    actor_config_t *c = &o->cfg;
    long long v;
    double d;
    opterr = 0;
    for (;;) {
        int idx = 0;
        const int ch = getopt_long(argc, argv, ":", opts, &idx);
        if (ch == -1)
            break;
        const char *flag = argv[optind - 1];
        switch (ch) {
        case OPT_ENVS:
            if (parse_i64(optarg, 1, 65536, &v)) return main_bad("--envs", optarg, "want 1..65536");
            c->n_envs = (int)v;
            break;
        case OPT_EPS:
            if (parse_dbl(optarg, 0, 1, &d)) return main_bad("--eps", optarg, "want a number in [0, 1]");
            c->eps = (float)d;
            break;
        case OPT_EPS_SCHED:
            if (parse_schedule(optarg, c))
                return main_bad("--eps-schedule", optarg, "want START,END,STEPS with START, END in [0, 1], STEPS >= 1");
            break;
        case OPT_NSTEP:
            if (parse_i64(optarg, 1, 64, &v)) return main_bad("--n-step", optarg, "want 1..64");
            c->n_step = (int)v;
            break;
        case OPT_GAMMA:
            if (parse_dbl(optarg, 0, 1, &d)) return main_bad("--gamma", optarg, "want a number in [0, 1]");
            c->gamma = (float)d;
            break;
        case OPT_SEND_BATCH:
            if (parse_i64(optarg, 1, 65536, &v)) return main_bad("--send-batch", optarg, "want 1..65536");
            c->send_batch = (int)v;
            break;
        case OPT_SEND_HWM:
            if (parse_i64(optarg, 1, 1000000, &v)) return main_bad("--send-hwm", optarg, "want 1..1000000");
            c->send_hwm = (int)v;
            break;
        case OPT_HEARTBEAT:
            if (parse_dbl(optarg, 1e-3, 3600, &d)) return main_bad("--heartbeat", optarg, "want seconds in [0.001, 3600]");
            c->heartbeat_s = d;
            break;
        case OPT_MAX_STEPS:
            if (parse_u64(optarg, &c->max_env_steps)) return main_bad("--max-env-steps", optarg, "want an integer >= 0");
            break;
        case OPT_TIMEOUT:
            if (parse_dbl(optarg, 1e-3, 1e6, &d)) return main_bad("--learner-timeout", optarg, "want seconds > 0");
            c->learner_timeout_s = d;
            break;
        case OPT_STATS:
            if (parse_dbl(optarg, 0, 1e6, &d)) return main_bad("--stats-interval", optarg, "want seconds >= 0");
            c->stats_interval_s = d;
            break;
        case OPT_SEED:
            if (parse_u64(optarg, &c->seed)) return main_bad("--seed", optarg, "want an integer >= 0");
            break;
        case OPT_V0: c->version = CARTPOLE_V0; break;
        case OPT_LEARNER:
        case OPT_WEIGHTS: {
            char *dst = ch == OPT_LEARNER ? c->learner_ep : c->weights_ep;
            if (rdv_parse_endpoint(optarg, 0, NULL, 0, NULL) || strlen(optarg) >= ACTOR_MAX_ENDPOINT)
                return main_bad(ch == OPT_LEARNER ? "--learner" : "--weights", optarg, "want tcp://HOST:PORT");
            strcpy(dst, optarg);
            o->ep_given = 1;
            break;
        }
        case OPT_ID:
            if (parse_i64(optarg, 0, INT32_MAX, &v)) return main_bad("--actor-id", optarg, "want an integer >= 0");
            c->actor_id = (uint32_t)v;
            o->id_given = 1;
            break;
        case OPT_NUM:
            if (parse_i64(optarg, 1, INT32_MAX, &v)) return main_bad("--num-actors", optarg, "want an integer >= 1");
            c->num_actors = (int)v;
            o->num_given = 1;
            break;
        case OPT_NO_MPI: o->no_mpi = 1; break;
        case OPT_BIND_HOST: break;
        case OPT_CURVE:
            if (!*optarg) return main_bad("--curve-keys", optarg, "want a key folder");
            o->curve_keys = optarg;
            break;
        case OPT_QUIET: o->quiet = 1; break;
        case OPT_VERBOSE: o->verbose = 1; break;
        case OPT_HELP: main_usage(stdout); return 0;
        case OPT_VERSION: printf("kdqn-actor %s\n", KDQN_VERSION); return 0;
        case ':':
            fprintf(stderr, "kdqn-actor: %s needs a value (see --help)\n", flag);
            return 2;
        default:
            fprintf(stderr, "kdqn-actor: unknown option '%s' (see --help)\n", flag);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "kdqn-actor: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    return -1;
}

/* MPI mode: the rendezvous tells this actor its learner's endpoints and its
 * place among that learner's actors. Returns 0 or the exit status (3). */
static int main_rendezvous(actor_config_t *c, int *rank_out)
{
    int status = 3;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        LOG_ERROR("MPI_Init failed");
        return 3;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, rank_out);
    rdv_table_t t;
    int rc = rdv_exchange(MPI_COMM_WORLD, RDV_ROLE_ACTOR, NULL, &t);
    if (rc) {
        LOG_ERROR("rendezvous failed: %s", rdv_strerror(rc));
        goto done;
    }
    const rdv_entry_t *me = rdv_self(&t);
    const int n_learners = t.n_role[RDV_ROLE_LEARNER], n_actors = t.n_role[RDV_ROLE_ACTOR];
    const int li = me ? rdv_learner_of_actor(me->index, n_learners) : -1;
    const rdv_entry_t *learner = li >= 0 ? rdv_find(&t, RDV_ROLE_LEARNER, li) : NULL;
    if (!me || !learner) {
        LOG_ERROR("no learner in this MPI job (%d learner ranks); start one with mpirun ... : -np 1 kdqn-learner",
                  n_learners);
        goto done;
    }
    char why[256] = "";
    rc = rdv_check_table(&t, t.self, why, sizeof why);
    if (rc) {
        LOG_ERROR("%s: %s%s", rdv_strerror(rc), why,
                  rc == RDV_ELOOPBACK ? " (multi-host jobs: give the learner --bind-host IFACE|ADDR|SUBNET|HOST)" : "");
        goto done;
    }
    if (strlen(learner->ep[RDV_EP_EXPERIENCE]) >= ACTOR_MAX_ENDPOINT ||
        strlen(learner->ep[RDV_EP_WEIGHTS]) >= ACTOR_MAX_ENDPOINT)
        goto done;
    strcpy(c->learner_ep, learner->ep[RDV_EP_EXPERIENCE]);
    strcpy(c->weights_ep, learner->ep[RDV_EP_WEIGHTS]);
    c->actor_id = (uint32_t)me->index;
    c->eps_index = me->index / n_learners;  /* actors li, li + L, li + 2L, ... belong to learner li */
    c->num_actors = rdv_actors_of_learner(li, n_actors, n_learners);
    log_set_role("actor", me->index);
    LOG_DEBUG("rank %d: actor %d of learner %d (%d of its %d actors)", t.self, me->index, li, c->eps_index,
              c->num_actors);
    status = 0;
done:
    rdv_table_free(&t);
    MPI_Finalize(); /* from here on only ZeroMQ: a dead rank cannot hang the others */
    return status;
}

int main(int argc, char **argv)
{
    main_opts_t o;
    memset(&o, 0, sizeof o);
    actor_config_default(&o.cfg);
    int st = main_parse(argc, argv, &o);
    if (st >= 0)
        return st;
    log_level = o.quiet ? LOG_LEVEL_WARN : o.verbose ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;

    /* CURVE keys are checked before anything starts: a bad folder is a usage error */
    secure_t *curve = NULL;
    if (o.curve_keys) {
        char why[1200];
        int serr;
        curve = secure_load(o.curve_keys, SECURE_NEED_CLIENT, &serr, why, sizeof why);
        if (!curve) {
            fprintf(stderr, "kdqn-actor: --curve-keys: %s (%s)\n", why, secure_strerror(serr));
            return 2;
        }
        o.cfg.curve = curve;
    }

    const int mpi = !o.no_mpi && getenv("OMPI_COMM_WORLD_SIZE") != NULL;
    if (mpi) {
        if (o.ep_given || o.id_given || o.num_given)
            fprintf(stderr, "kdqn-actor: under mpirun --learner/--weights/--actor-id/--num-actors are ignored "
                            "(use --no-mpi to give them)\n");
        int rank = 0;
        log_set_role("actor", -1);
        if (main_rendezvous(&o.cfg, &rank)) {
            secure_destroy(&curve);
            return 3;
        }
    } else {
        if (o.cfg.actor_id >= (uint32_t)o.cfg.num_actors) {
            fprintf(stderr, "kdqn-actor: --actor-id %u must be below --num-actors %d (see --help)\n",
                    o.cfg.actor_id, o.cfg.num_actors);
            secure_destroy(&curve);
            return 2;
        }
        o.cfg.eps_index = (int)o.cfg.actor_id;
        log_set_role("actor", (int)o.cfg.actor_id);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = main_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    int err = 0;
    actor_t *a = actor_new(&o.cfg, NULL, &err);
    if (!a) {
        LOG_ERROR("cannot start: %s", actor_strerror(err));
        secure_destroy(&curve);
        return err == ACTOR_EINVAL ? 2 : 3;
    }
    int rc = actor_run(a, &main_stop);
    actor_destroy(&a);
    secure_destroy(&curve);
    if (rc) {
        LOG_ERROR("actor failed: %s", actor_strerror(rc));
        return 3;
    }
    return 0;
}
