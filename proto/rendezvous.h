/* rendezvous.h — how kdqn's ranks find each other's ZeroMQ endpoints.
 *
 * Under mpirun: every rank binds the sockets its role binds on an ephemeral
 * port of a reachable address (rdv_bind_ephemeral), then calls rdv_exchange,
 * which is ONE MPI_Allgather of a fixed-size record per rank (role, pid, host
 * name, bound endpoints). Afterwards every rank holds the whole table and the
 * caller calls MPI_Finalize right away (STACK.md: after that only ZeroMQ is
 * used, so one dead rank cannot hang the job). rdv_exchange leaves no MPI
 * state behind (no communicators, datatypes or requests).
 *
 * Which role binds what:
 *   learner  binds RDV_EP_EXPERIENCE (PULL, actors PUSH to it)
 *            and   RDV_EP_WEIGHTS    (PUB, actors SUB to it)
 *   teacher  binds RDV_EP_TEACHER    (ROUTER, learners' DEALERs connect)
 *   actor    binds nothing
 * Actor i talks to learner (i mod n_learners); learner j asks teacher
 * (j mod n_teachers).
 *
 * Without MPI every role takes endpoints from flags; rdv_parse_endpoint
 * validates them.
 *
 * Errors: functions return 0 or a negative RDV_E* code (rdv_strerror). */
#ifndef KDQN_RENDEZVOUS_H
#define KDQN_RENDEZVOUS_H
#include <stddef.h>
#include <stdint.h>
#include <mpi.h>

#define RDV_MAX_HOST 64      /* host name bytes incl. NUL (longer names are truncated) */
#define RDV_MAX_ENDPOINT 96  /* "tcp://<address>:<port>" incl. NUL */

typedef enum { RDV_ROLE_TEACHER = 0, RDV_ROLE_LEARNER = 1, RDV_ROLE_ACTOR = 2, RDV_N_ROLES = 3 } rdv_role_t;

typedef enum {
    RDV_EP_EXPERIENCE = 0,   /* learner PULL */
    RDV_EP_WEIGHTS = 1,      /* learner PUB */
    RDV_EP_TEACHER = 2,      /* teacher ROUTER */
    RDV_N_EP = 3
} rdv_ep_t;

enum {
    RDV_OK = 0,
    RDV_EINVAL = -1,      /* bad argument (NULL, unknown role, output too small) */
    RDV_EMPI = -2,        /* an MPI call failed */
    RDV_ENOMEM = -3,
    RDV_EIFACE = -4,      /* no interface of that name with an IPv4 address */
    RDV_ERESOLVE = -5,    /* host name did not resolve to an IPv4 address */
    RDV_EENDPOINT = -6,   /* malformed endpoint: not tcp://host:port with port 1..65535 */
    RDV_ELOOPBACK = -7,   /* a loopback endpoint advertised to a rank on another host */
    RDV_EZMQ = -8,        /* zmq_bind or zmq_getsockopt failed (errno kept) */
    RDV_ETOOLONG = -9,    /* a host name or endpoint longer than the record holds */
    RDV_EMISMATCH = -10,  /* the table is inconsistent (e.g. a learner without endpoints) */
};
const char *rdv_strerror(int err);

/* "teacher" / "learner" / "actor"; "?" otherwise. */
const char *rdv_role_name(int role);
/* Parses a role name; returns the role (>= 0) or RDV_EINVAL. */
int rdv_role_parse(const char *name);

/* One rank's record; fixed size so MPI_Allgather moves it as bytes. */
typedef struct {
    int32_t rank;                            /* in the communicator */
    int32_t role;                            /* rdv_role_t */
    int32_t index;                           /* 0.. among ranks of the same role, by rank */
    int32_t pid;
    char host[RDV_MAX_HOST];                 /* gethostname(), NUL-terminated */
    char ep[RDV_N_EP][RDV_MAX_ENDPOINT];     /* bound endpoints, "" when not bound */
} rdv_entry_t;

typedef struct {
    int n;                                   /* ranks */
    int self;                                /* this rank */
    int n_role[RDV_N_ROLES];                 /* ranks per role */
    rdv_entry_t *entries;                    /* (n) by rank, owned */
} rdv_table_t;

/* Collective over comm: every rank passes its role and its bound endpoints
 * (eps[RDV_N_EP], each NULL or "" when not bound; eps itself may be NULL),
 * and gets the table of all ranks. On error *t is zeroed and nothing is
 * allocated; an error in argument checking still joins the collective (with
 * an invalid record) so the other ranks do not hang — they then get
 * RDV_EMISMATCH. */
int rdv_exchange(MPI_Comm comm, rdv_role_t role, const char *const *eps, rdv_table_t *t);
/* Frees t->entries and zeroes *t. NULL-safe. */
void rdv_table_free(rdv_table_t *t);

/* The index-th rank of a role, or NULL. */
const rdv_entry_t *rdv_find(const rdv_table_t *t, rdv_role_t role, int index);
/* This rank's entry. */
const rdv_entry_t *rdv_self(const rdv_table_t *t);

/* Round-robin assignments; return -1 when the target role has no ranks. */
int rdv_learner_of_actor(int actor_index, int n_learners);     /* actor_index % n_learners */
int rdv_teacher_of_learner(int learner_index, int n_teachers); /* learner_index % n_teachers */
/* How many of n_actors actors rdv_learner_of_actor assigns to learner_index. */
int rdv_actors_of_learner(int learner_index, int n_actors, int n_learners);

/* Chooses the address to bind, written into out (n bytes):
 *   NULL, "" or "auto"  -> "127.0.0.1" (every rank on one host; multi-host
 *                          jobs MUST pass an interface, address or host name)
 *   an interface name   -> its first IPv4 address (getifaddrs), e.g. "eth0"
 *   a literal IPv4      -> itself, e.g. "10.77.0.1"; "0.0.0.0" is refused
 *                          (not advertisable)
 *   a subnet A.B.C.D/N  -> the first local interface address inside it,
 *                          e.g. "10.77.0.0/24" (one spec for every host)
 *   a host name         -> its first IPv4 address (getaddrinfo; beware of
 *                          distributions mapping the host name to 127.0.1.1)
 * Returns 0, RDV_EIFACE, RDV_ERESOLVE, RDV_ETOOLONG or RDV_EINVAL. */
int rdv_pick_address(const char *spec, char *out, size_t n);

/* Binds sock to "tcp://<addr>:*" and writes the endpoint actually bound
 * (ZMQ_LAST_ENDPOINT, e.g. "tcp://127.0.0.1:41235") into out. Returns 0,
 * RDV_EZMQ (errno from zmq) or RDV_ETOOLONG. */
int rdv_bind_ephemeral(void *sock, const char *addr, char *out, size_t n);

/* Validates "tcp://host:port" (host: IPv4 literal, host name, or [IPv6]; port
 * 1..65535, or "*" when allow_wildcard). host/port outputs may be NULL.
 * Returns 0, RDV_EENDPOINT or RDV_ETOOLONG. */
int rdv_parse_endpoint(const char *ep, int allow_wildcard, char *host, size_t hostlen, int *port);

/* 1 if the endpoint's host is loopback (127.0.0.0/8, "localhost", [::1]). */
int rdv_endpoint_is_loopback(const char *ep);

/* Checks every endpoint the rank `rank` will connect to (its learner's, its
 * teacher's): RDV_ELOOPBACK if one is loopback while its owner runs on a
 * different host, RDV_EMISMATCH if one is missing or malformed. On error,
 * a one-line explanation goes into why (if not NULL). */
int rdv_check_table(const rdv_table_t *t, int rank, char *why, size_t whylen);

/* The reverse check, for the rank that OWNS endpoints: RDV_ELOOPBACK if its
 * endpoint is loopback while a rank that will connect to it (a learner's
 * actors, a teacher's learners) runs on another host. With it the learner
 * exits at start-up like its actors instead of waiting for them. 0 for
 * actors. */
int rdv_check_peers(const rdv_table_t *t, int rank, char *why, size_t whylen);

#endif
