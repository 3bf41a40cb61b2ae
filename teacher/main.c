/* kdqn-teacher — serves a trained Q-network's Q-values and soft targets
 * softmax(q / T) to learners (teacher/service.h does the serving).
 *
 * Under mpirun (launch/ROLES.md) it is one rank of the job: binds its ROUTER
 * on an ephemeral port, joins the rendezvous, calls MPI_Finalize, and serves
 * until every learner that said hello has said goodbye. Standalone it binds
 * --bind and serves until SIGTERM/SIGINT. */
#include <cblas.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ckpt.h"
#include "log.h"
#include "proto.h"
#include "rendezvous.h"
#include "secure.h"
#include "service.h"

#ifndef KDQN_VERSION
#define KDQN_VERSION "dev"
#endif

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

typedef struct {
    const char *checkpoint, *bind, *bind_host, *endpoint_file, *curve_keys;
    int allow_all, no_mpi, quiet, no_batching;
    double idle_exit, max_seconds, peer_timeout, stats_interval;
    long max_batch_states, max_round_requests;
    unsigned long long seed;
} opts_t;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: kdqn-teacher --checkpoint PATH [flags]\n"
        "Serves a Q-network's Q-values and softmax(Q/T) soft targets to learners (ROUTER socket).\n"
        "Under mpirun (OMPI_COMM_WORLD_SIZE set) it joins the job's rendezvous; otherwise it binds --bind.\n"
        "\n"
        "  --checkpoint PATH         teacher checkpoint (required)\n"
        "  --bind EP                 standalone: endpoint to bind (default tcp://127.0.0.1:5555;\n"
        "                            port * = ephemeral, see --endpoint-file)\n"
        "  --allow-all-interfaces    standalone: allow binding * / 0.0.0.0 / [::] (default: refused)\n"
        "  --curve-keys DIR          CURVE: encrypt and admit only clients whose public key is in\n"
        "                            DIR/authorized (DIR/server.key; see kdqn-keygen) (default: off)\n"
        "  --endpoint-file PATH      write the bound endpoint to PATH once listening (default: none)\n"
        "  --bind-host SPEC          under mpirun: auto (127.0.0.1), interface, IPv4 or host name (default auto)\n"
        "  --no-mpi                  run standalone even under mpirun (default off)\n"
        "  --idle-exit SECONDS       under mpirun: exit if no learner said hello for this long (default 0 = never)\n"
        "  --max-seconds SECONDS     exit after this long whatever happens (default 0 = never)\n"
        "  --peer-timeout SECONDS    a learner silent this long after its hello is lost (default 10; 0 = never)\n"
        "  --stats-interval SECONDS  seconds between progress lines (default 10; 0 = off)\n"
        "  --max-batch-states N      states per batched forward pass, 1..%u (default %u)\n"
        "  --max-round-requests N    queries gathered per round, 1..%u (default 1024)\n"
        "  --no-batching             one forward pass per query (naive reference, for benchmarks)\n"
        "  --seed N                  accepted for uniformity with the other roles; unused (default 1)\n"
        "  --quiet                   only warnings, errors and the final counters\n"
        "  --help                    this text\n"
        "  --version                 print the version\n"
        "\n"
        "Exit status: 0 done (signal, every learner said goodbye, idle), 2 usage or bad checkpoint,\n"
        "3 runtime failure (cannot bind, rendezvous failed, a learner lost, max-seconds with learners open).\n",
        PROTO_MAX_N, PROTO_MAX_N, PROTO_MAX_N);
}

static int usage_error(const char *msg, const char *detail)
{
    fprintf(stderr, "kdqn-teacher: %s%s%s\ntry 'kdqn-teacher --help'\n", msg, detail ? ": " : "",
            detail ? detail : "");
    return -1;
}

/* Parses a non-negative finite number of seconds; 0 or -1 on error. */
static int parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

/* Parses an integer in [lo, hi]; 0 or -1 on error. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Splits "tcp://HOST:PORT": 1 if HOST means every interface (*, 0.0.0.0, [::], ::). */
static int endpoint_is_wildcard(const char *ep)
{
    if (strncmp(ep, "tcp://", 6) != 0)
        return 0;
    const char *host = ep + 6, *colon = strrchr(host, ':');
    size_t len = colon ? (size_t)(colon - host) : strlen(host);
    static const char *const any[] = {"*", "0.0.0.0", "[::]", "::", "[0:0:0:0:0:0:0:0]"};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++)
        if (strlen(any[i]) == len && strncmp(host, any[i], len) == 0)
            return 1;
    return 0;
}

/* Writes the endpoint to path atomically (temp file + rename); 0 or -1 (errno). */
static int write_endpoint_file(const char *path, const char *ep)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fprintf(f, "%s\n", ep) > 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

/* Returns 0 (run), 1 (--help/--version printed: exit 0) or -1 (usage error printed). */
static int parse_flags(int argc, char **argv, opts_t *o)
{
    enum { F_CKPT = 1000, F_BIND, F_ALLOW_ALL, F_ENDPOINT_FILE, F_BIND_HOST, F_NO_MPI, F_IDLE, F_MAXSEC,
           F_PEER_TIMEOUT, F_STATS, F_MAX_STATES, F_MAX_REQ, F_NO_BATCH, F_SEED, F_QUIET, F_HELP, F_VERSION,
           F_CURVE };
    static const struct option longopts[] = {
        {"checkpoint", required_argument, 0, F_CKPT},
        {"bind", required_argument, 0, F_BIND},
        {"allow-all-interfaces", no_argument, 0, F_ALLOW_ALL},
        {"endpoint-file", required_argument, 0, F_ENDPOINT_FILE},
        {"curve-keys", required_argument, 0, F_CURVE},
        {"bind-host", required_argument, 0, F_BIND_HOST},
        {"no-mpi", no_argument, 0, F_NO_MPI},
        {"idle-exit", required_argument, 0, F_IDLE},
        {"max-seconds", required_argument, 0, F_MAXSEC},
        {"peer-timeout", required_argument, 0, F_PEER_TIMEOUT},
        {"stats-interval", required_argument, 0, F_STATS},
        {"max-batch-states", required_argument, 0, F_MAX_STATES},
        {"max-round-requests", required_argument, 0, F_MAX_REQ},
        {"no-batching", no_argument, 0, F_NO_BATCH},
        {"seed", required_argument, 0, F_SEED},
        {"quiet", no_argument, 0, F_QUIET},
        {"help", no_argument, 0, F_HELP},
        {"version", no_argument, 0, F_VERSION},
        {0, 0, 0, 0},
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        const char *flag = argv[optind - 1];
        switch (c) {
        case F_CKPT: o->checkpoint = optarg; break;
        case F_BIND: o->bind = optarg; break;
        case F_ALLOW_ALL: o->allow_all = 1; break;
        case F_ENDPOINT_FILE: o->endpoint_file = optarg; break;
        case F_CURVE:
            if (!*optarg) return usage_error("--curve-keys wants a folder", NULL);
            o->curve_keys = optarg;
            break;
        case F_BIND_HOST: o->bind_host = optarg; break;
        case F_NO_MPI: o->no_mpi = 1; break;
        case F_NO_BATCH: o->no_batching = 1; break;
        case F_QUIET: o->quiet = 1; break;
        case F_IDLE:
            if (parse_seconds(optarg, &o->idle_exit)) return usage_error("bad --idle-exit", optarg);
            break;
        case F_MAXSEC:
            if (parse_seconds(optarg, &o->max_seconds)) return usage_error("bad --max-seconds", optarg);
            break;
        case F_PEER_TIMEOUT:
            if (parse_seconds(optarg, &o->peer_timeout)) return usage_error("bad --peer-timeout", optarg);
            break;
        case F_STATS:
            if (parse_seconds(optarg, &o->stats_interval)) return usage_error("bad --stats-interval", optarg);
            break;
        case F_MAX_STATES:
            if (parse_long(optarg, 1, PROTO_MAX_N, &o->max_batch_states))
                return usage_error("bad --max-batch-states (1..65536)", optarg);
            break;
        case F_MAX_REQ:
            if (parse_long(optarg, 1, PROTO_MAX_N, &o->max_round_requests))
                return usage_error("bad --max-round-requests (1..65536)", optarg);
            break;
        case F_SEED: {
            char *end;
            errno = 0;
            o->seed = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end || optarg[0] == '-')
                return usage_error("bad --seed", optarg);
            break;
        }
        case F_HELP: usage(stdout); return 1;
        case F_VERSION: printf("kdqn-teacher %s (protocol %d)\n", KDQN_VERSION, PROTO_VERSION); return 1;
        case ':': return usage_error("missing value after", flag);
        default: return usage_error("unknown flag", flag);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (!o->checkpoint || !*o->checkpoint)
        return usage_error("--checkpoint is required", NULL);
    if (rdv_parse_endpoint(o->bind, 1, NULL, 0, NULL) != 0 && !endpoint_is_wildcard(o->bind))
        return usage_error("--bind wants tcp://HOST:PORT", o->bind);
    if (endpoint_is_wildcard(o->bind) && !o->allow_all)
        return usage_error("refusing to listen on every interface without --allow-all-interfaces",
                           o->bind);
    return 0;
}

/* Loads the checkpoint; on failure prints why and returns -1. */
static int load_checkpoint(const char *path, ckpt_t *ck)
{
    int rc = ckpt_load(path, NULL, ck);
    if (rc == CKPT_OK)
        return 0;
    if (rc == CKPT_EIO)
        LOG_ERROR("cannot load checkpoint '%s': %s (%s)", path, ckpt_strerror(rc), strerror(errno));
    else
        LOG_ERROR("cannot load checkpoint '%s': %s", path, ckpt_strerror(rc));
    return -1;
}

/* MPI mode: binds ephemerally, joins the rendezvous, finalizes MPI.
 * Returns 0, or -1 after logging (MPI is finalized either way). */
static int mpi_rendezvous(teacher_service_t *svc, const char *bind_host, char *ep, size_t eplen)
{
    char addr[RDV_MAX_ENDPOINT];
    int rc = rdv_pick_address(bind_host, addr, sizeof addr);
    if (rc == 0)
        rc = rdv_bind_ephemeral(teacher_service_socket(svc), addr, ep, eplen);
    if (rc != 0) {
        LOG_ERROR("cannot bind on --bind-host '%s': %s", bind_host, rdv_strerror(rc));
        ep[0] = '\0';
    }
    const char *eps[RDV_N_EP] = {NULL, NULL, ep[0] ? ep : NULL};
    rdv_table_t t;
    int xrc = rdv_exchange(MPI_COMM_WORLD, RDV_ROLE_TEACHER, eps, &t);  /* joined even after a failure */
    if (xrc == 0) {
        char why[256] = "";
        int crc = rdv_check_table(&t, t.self, why, sizeof why);
        if (crc == 0) /* a loopback endpoint advertised to learners on other hosts? */
            crc = rdv_check_peers(&t, t.self, why, sizeof why);
        if (crc != 0) {
            LOG_ERROR("rendezvous table: %s (%s)", rdv_strerror(crc), why);
            xrc = crc;
        } else {
            LOG_INFO("rendezvous: %d ranks (%d learners, %d actors); serving on %s", t.n,
                     t.n_role[RDV_ROLE_LEARNER], t.n_role[RDV_ROLE_ACTOR], ep);
        }
    } else {
        LOG_ERROR("rendezvous failed: %s", rdv_strerror(xrc));
    }
    rdv_table_free(&t);
    MPI_Finalize();
    return rc == 0 && xrc == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    openblas_set_num_threads(1);
    opts_t o = {.bind = "tcp://127.0.0.1:5555", .bind_host = "auto", .peer_timeout = 10.0,
                .stats_interval = 10.0, .max_batch_states = PROTO_MAX_N, .max_round_requests = 1024,
                .seed = 1};
    int prc = parse_flags(argc, argv, &o);
    if (prc != 0)
        return prc > 0 ? 0 : 2;
    if (o.quiet)
        log_level = LOG_LEVEL_WARN;

    const int mpi_mode = getenv("OMPI_COMM_WORLD_SIZE") != NULL && !o.no_mpi;
    int rank = -1;
    if (mpi_mode) {
        if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
            fprintf(stderr, "kdqn-teacher: MPI_Init failed\n");
            return 3;
        }
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    }
    log_set_role("teacher", rank);

    /* CURVE keys first: a bad key folder is a usage error, found before anything binds */
    secure_t *curve = NULL;
    if (o.curve_keys) {
        char why[1200];
        int serr;
        curve = secure_load(o.curve_keys, SECURE_NEED_SERVER, &serr, why, sizeof why);
        if (!curve) {
            LOG_ERROR("--curve-keys: %s (%s)", why, secure_strerror(serr));
            if (mpi_mode)
                MPI_Abort(MPI_COMM_WORLD, 2);
            return 2;
        }
    }

    ckpt_t ck;
    if (load_checkpoint(o.checkpoint, &ck) != 0) {
        if (mpi_mode)
            MPI_Abort(MPI_COMM_WORLD, 2);   /* the other ranks would wait in the rendezvous */
        secure_destroy(&curve);
        return 2;
    }
    char arch[PROTO_MAX_STR + 1];
    mlp_arch_format(&ck.arch, arch, sizeof arch);

    teacher_config_t cfg;
    teacher_config_default(&cfg);
    cfg.max_round_states = (int)o.max_batch_states;
    cfg.max_round_requests = (int)o.max_round_requests;
    cfg.batching = !o.no_batching;
    cfg.peer_timeout = o.peer_timeout;
    cfg.stats_interval = o.stats_interval;
    cfg.exit_when_done = mpi_mode;
    cfg.idle_exit = mpi_mode ? o.idle_exit : 0.0;
    cfg.max_seconds = o.max_seconds;
    int err;
    teacher_service_t *svc = teacher_service_new(&ck.arch, ck.params, &cfg, &err);
    ckpt_free(&ck);
    if (!svc) {
        LOG_ERROR("cannot serve checkpoint '%s' (%s): %s", o.checkpoint, arch,
                  err == TEACHER_EINVAL ? "more inputs or actions than the protocol carries"
                                        : teacher_strerror(err));
        if (mpi_mode)
            MPI_Abort(MPI_COMM_WORLD, err == TEACHER_EINVAL ? 2 : 3);
        secure_destroy(&curve);
        return err == TEACHER_EINVAL ? 2 : 3;
    }

    if (curve) {
        /* the ZAP handler must run before the first bind, or CURVE admits every key */
        int crc = secure_server(curve, teacher_service_socket(svc));
        if (crc == 0)
            crc = secure_zap_start(curve, teacher_service_context(svc));
        if (crc != 0) {
            LOG_ERROR("CURVE setup failed: %s (%s)", secure_strerror(crc), zmq_strerror(errno));
            if (mpi_mode)
                MPI_Abort(MPI_COMM_WORLD, 3);
            teacher_service_destroy(&svc);
            secure_destroy(&curve);
            return 3;
        }
        LOG_INFO("CURVE on: %d authorized client keys in %s/authorized", secure_authorized_count(curve),
                 o.curve_keys);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    char ep[RDV_MAX_ENDPOINT > 256 ? RDV_MAX_ENDPOINT : 256];
    int status = 0;
    if (mpi_mode) {
        if (mpi_rendezvous(svc, o.bind_host, ep, sizeof ep) != 0)
            status = 3;
    } else {
        int rc = teacher_service_bind(svc, o.bind, ep, sizeof ep);
        if (rc != 0) {
            LOG_ERROR("cannot bind %s: %s", o.bind, rc == TEACHER_EBIND ? zmq_strerror(errno) : teacher_strerror(rc));
            status = 3;
        }
    }
    if (status == 0 && o.endpoint_file && write_endpoint_file(o.endpoint_file, ep) != 0) {
        LOG_ERROR("cannot write --endpoint-file '%s': %s", o.endpoint_file, strerror(errno));
        status = 3;
    }
    if (status != 0) {
        teacher_service_destroy(&svc);
        secure_destroy(&curve);
        return status;
    }
    LOG_INFO("serving %s (crc32c %08x, %s) on %s", arch, (unsigned)teacher_service_model_crc(svc),
             o.no_batching ? "no batching" : "batched", ep);
    int done = teacher_service_run(svc, &stop_signal);
    teacher_stats_t st;
    teacher_service_stats(svc, &st);
    if (done < 0) {
        LOG_ERROR("serving failed: %s (%s)", teacher_strerror(done), strerror(errno));
        status = 3;
    } else {
        if (done == TEACHER_DONE_LOST || (done == TEACHER_DONE_MAX_SECONDS && st.peers_open > 0))
            status = 3;
        LOG_INFO("stopping: %s", teacher_done_name(done));
    }
    log_emit(LOG_LEVEL_INFO,
             "final counters: requests=%llu states=%llu rejected=%llu info=%llu clients_seen=%llu "
             "hellos=%llu goodbyes=%llu lost=%llu dropped_replies=%llu forwards=%llu",
             (unsigned long long)st.requests, (unsigned long long)st.states,
             (unsigned long long)st.rejected, (unsigned long long)st.info_requests,
             (unsigned long long)st.clients_seen, (unsigned long long)st.hellos,
             (unsigned long long)st.goodbyes, (unsigned long long)st.peers_lost,
             (unsigned long long)st.replies_dropped, (unsigned long long)st.forwards);
    if (curve)
        log_emit(LOG_LEVEL_INFO, "CURVE: %llu connections admitted, %llu refused (key not authorized), "
                 "%llu failed handshakes", (unsigned long long)secure_zap_accepted(curve),
                 (unsigned long long)secure_zap_refused(curve), (unsigned long long)secure_handshakes_failed(curve));
    teacher_service_destroy(&svc);
    secure_destroy(&curve);   /* after the ROUTER is closed: see secure.h */
    return status;
}
