/* service.h — the teacher's soft-target service: one ROUTER socket, batched inference.
 *
 * A service owns a copy of the teacher's parameters, a ZeroMQ context and one
 * ROUTER socket. Each round (teacher_service_poll_once) it waits for traffic,
 * drains EVERY message already queued (ZMQ_DONTWAIT) up to a state cap,
 * concatenates the states of all valid queries into one preallocated buffer,
 * runs ONE batched forward pass over them (mlp_infer, in row chunks), and
 * answers each query with its raw Q-values and softmax(q / T) at the
 * temperature that query asked for. info_req gets an info message; hello,
 * heartbeat and goodbye update a per-identity peer table (no reply).
 *
 * Invalid input never stops the service: an undecodable frame, a message of a
 * type the teacher does not read, a query whose obs_dim differs from the model
 * or a message of more than one body frame gets an error message (request id
 * from proto_peek_req_id, a PROTO_E* code), is counted in `rejected` and is
 * logged at a rate-limited warning. Nothing is allocated from a size the peer
 * declared: the socket caps frames with ZMQ_MAXMSGSIZE (a larger frame makes
 * ZeroMQ drop it and close that connection, so no error reply is possible) and
 * the batch buffers are sized once, at creation, for PROTO_MAX_N states.
 *
 * A query that does not fit in what is left of the current round is kept
 * (one message) and opens the next round; one larger than the round cap is
 * answered in a round of its own.
 *
 * Threads: a service is used by one thread at a time. */
#ifndef KDQN_TEACHER_SERVICE_H
#define KDQN_TEACHER_SERVICE_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include "mlp.h"

typedef struct {
    int max_round_states;    /* soft cap of states per round, 1..PROTO_MAX_N (default PROTO_MAX_N) */
    int max_round_requests;  /* queries per round, >= 1 (default 1024) */
    int infer_chunk;         /* rows per mlp_infer call, >= 1 (default 512) */
    int batching;            /* 1 (default): one forward per round; 0: one forward per query
                                (the naive reference for benchmarks) */
    double peer_timeout;     /* seconds of silence after which a peer that said hello is lost;
                                <= 0 never (default 10) */
    double stats_interval;   /* seconds between progress lines in teacher_service_run; <= 0 off
                                (default 10) */
    int exit_when_done;      /* run() returns once every peer that said hello has said goodbye
                                or been lost (MPI mode) */
    double idle_exit;        /* run() returns after this many seconds without any hello; <= 0 never */
    double max_seconds;      /* run() returns after this many seconds; <= 0 never */
} teacher_config_t;

/* Fills *cfg with the defaults above. */
void teacher_config_default(teacher_config_t *cfg);

typedef struct {
    uint64_t requests;        /* queries answered */
    uint64_t states;          /* states evaluated for answered queries */
    uint64_t info_requests;   /* info_req answered */
    uint64_t rejected;        /* invalid messages (each got an error reply when it had an identity) */
    uint64_t status_msgs;     /* hello + heartbeat + goodbye received */
    uint64_t replies_dropped; /* replies ZeroMQ refused (peer gone or its queue full) */
    uint64_t rounds;          /* rounds that evaluated at least one state */
    uint64_t forwards;        /* mlp_infer calls */
    uint64_t clients_seen;    /* distinct ROUTER identities seen */
    uint64_t hellos;          /* hello messages received */
    uint64_t goodbyes;        /* goodbye messages received */
    uint64_t peers_lost;      /* peers that said hello and then fell silent past peer_timeout */
    int peers_open;           /* peers that said hello and neither said goodbye nor were lost */
} teacher_stats_t;

enum {
    TEACHER_OK = 0,
    TEACHER_EINVAL = -1,   /* bad argument: NULL, config out of range, model the protocol cannot carry */
    TEACHER_ENOMEM = -2,
    TEACHER_EZMQ = -3,     /* a ZeroMQ call failed (errno kept) */
    TEACHER_EBIND = -4,    /* the endpoint could not be bound (errno kept) */
};
const char *teacher_strerror(int err);

/* Why teacher_service_run returned (all >= 0). */
typedef enum {
    TEACHER_DONE_STOP = 0,     /* *stop_flag was set (signal) */
    TEACHER_DONE_GOODBYE,      /* exit_when_done: every peer said goodbye */
    TEACHER_DONE_LOST,         /* exit_when_done: every peer is gone, at least one was lost */
    TEACHER_DONE_IDLE,         /* idle_exit elapsed without a hello */
    TEACHER_DONE_MAX_SECONDS,  /* max_seconds elapsed */
} teacher_done_t;
const char *teacher_done_name(int done);

typedef struct teacher_service teacher_service_t;

/* A service for the network (arch, params); params (arch->n_params) are
 * copied. cfg NULL = defaults. Creates its own ZeroMQ context and an unbound
 * ROUTER socket. Returns NULL when arguments are invalid (arch with more than
 * PROTO_MAX_ACTIONS outputs or more than PROTO_MAX_OBS_DIM inputs, config out
 * of range), on allocation failure or when ZeroMQ fails; *err (if not NULL)
 * gets the TEACHER_E* code. */
teacher_service_t *teacher_service_new(const mlp_arch_t *arch, const float *params,
                                       const teacher_config_t *cfg, int *err);
/* Closes the socket and context (linger 0 for unsent replies), frees
 * everything and sets *svc to NULL. NULL-safe. */
void teacher_service_destroy(teacher_service_t **svc);

/* Binds the ROUTER socket to endpoint (e.g. "tcp://127.0.0.1:*") and writes the
 * endpoint actually bound (ZMQ_LAST_ENDPOINT) into out (n bytes) if out is not
 * NULL. The service does not judge whether the address is safe to expose: the
 * caller does. Returns 0, TEACHER_EBIND (errno from zmq) or TEACHER_EINVAL. */
int teacher_service_bind(teacher_service_t *svc, const char *endpoint, char *out, size_t n);
/* The ROUTER socket, for rdv_bind_ephemeral. Owned by the service. */
void *teacher_service_socket(teacher_service_t *svc);
/* The service's ZeroMQ context, for a ZAP handler (proto/secure.h). Owned by the
 * service and terminated by teacher_service_destroy. */
void *teacher_service_context(teacher_service_t *svc);

/* One round: waits up to timeout_ms (0 = do not wait; a query kept from the
 * last round means no wait) for traffic, drains and answers it. Returns the
 * number of messages handled (>= 0), or TEACHER_EZMQ if polling itself failed
 * (EINTR counts as 0 messages). Invalid messages are not errors. */
int teacher_service_poll_once(teacher_service_t *svc, int timeout_ms);

/* Marks peers silent for longer than peer_timeout as lost (warning per peer).
 * Called by run(); call it yourself around poll_once. */
void teacher_service_check_peers(teacher_service_t *svc);

/* Loops poll_once (timeouts of at most 100 ms) with peer checks and progress
 * lines until *stop_flag becomes non-zero or an exit condition of the config
 * holds. Returns a teacher_done_t (>= 0) or TEACHER_EZMQ. */
int teacher_service_run(teacher_service_t *svc, volatile sig_atomic_t *stop_flag);

/* Copies the counters into *out. */
void teacher_service_stats(const teacher_service_t *svc, teacher_stats_t *out);
/* CRC-32C of the parameter bytes (what info replies carry as model_crc). */
uint32_t teacher_service_model_crc(const teacher_service_t *svc);

#endif
