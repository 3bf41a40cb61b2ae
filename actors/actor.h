/* actor.h — one kdqn actor: K CartPole copies, a local copy of the learner's
 * weights, n-step transitions streamed to the learner in batches.
 *
 * Sockets (the actor binds nothing):
 *   PUSH -> learner's experience endpoint: hello, heartbeat, batch, goodbye
 *   SUB  <- learner's weights endpoint:    weights, learner heartbeat, stop
 *
 * One loop iteration = one vector step of all K copies: drain the SUB socket
 * without blocking (newest valid weights win), one batched forward pass over
 * the K observations, ε-greedy, cartpole_step (auto-reset), nstep_push, and a
 * batch message whenever send_batch transitions are pending. Nothing is
 * allocated inside the loop except when weights with a larger architecture
 * arrive (the parameter and scratch buffers then grow once).
 *
 * Errors: functions return 0 or a negative ACTOR_E* code (actor_strerror). */
#ifndef KDQN_ACTOR_H
#define KDQN_ACTOR_H
#include <signal.h>
#include <stdint.h>

#include "cartpole.h"

#define ACTOR_MAX_ENDPOINT 256

typedef struct {
    int n_envs;                   /* K environment copies, 1..65536 */
    cartpole_version_t version;   /* CARTPOLE_V1 (default) or CARTPOLE_V0 */
    uint64_t seed;
    uint32_t actor_id;            /* on the wire, and the env seeding stream */
    int eps_index, num_actors;    /* Ape-X: eps_i = eps^(1 + 7 i / (N - 1)); N = 1 -> eps */
    float eps;                    /* base ε in [0, 1] */
    int eps_schedule;             /* 1: linear eps_start -> eps_end over eps_steps env steps */
    float eps_start, eps_end;
    uint64_t eps_steps;           /* >= 1 */
    int n_step;                   /* 1..64 */
    float gamma;                  /* [0, 1] */
    int send_batch;               /* transitions per batch message, 1..PROTO_MAX_N */
    int send_hwm;                 /* batches queued towards the learner before sends wait
                                     (ZMQ_SNDHWM); small keeps experience fresh */
    double heartbeat_s;           /* > 0 */
    uint64_t max_env_steps;       /* 0: unlimited */
    double learner_timeout_s;     /* > 0 */
    double stats_interval_s;      /* <= 0: no progress lines */
    char learner_ep[ACTOR_MAX_ENDPOINT];  /* learner's PULL, e.g. tcp://127.0.0.1:5556 */
    char weights_ep[ACTOR_MAX_ENDPOINT];  /* learner's PUB,  e.g. tcp://127.0.0.1:5557 */
    const struct secure *curve;   /* NULL: plain TCP; else both sockets are CURVE clients with
                                     these keys (proto/secure.h; borrowed, outlives the actor) */
} actor_config_t;

/* The documented defaults (K = ACTOR_DEFAULT_ENVS, endpoints from ROLES.md). */
#define ACTOR_DEFAULT_ENVS 128  /* measured: bench-actor, see actors/README.md */
void actor_config_default(actor_config_t *cfg);
/* The ε this configuration uses after env_steps environment steps. */
float actor_epsilon(const actor_config_t *cfg, uint64_t env_steps);

enum {
    ACTOR_OK = 0,
    ACTOR_EINVAL = -1,     /* configuration out of range */
    ACTOR_ENOMEM = -2,
    ACTOR_EZMQ = -3,       /* a socket call failed (zmq_strerror(errno) was logged) */
    ACTOR_ETIMEOUT = -4,   /* the learner was silent for learner_timeout_s */
    ACTOR_EPROTO = -5,     /* a message could not be encoded */
};
const char *actor_strerror(int err);

typedef enum {
    ACTOR_STOP_NONE = 0,
    ACTOR_STOP_MESSAGE,    /* the learner published a stop */
    ACTOR_STOP_SIGNAL,     /* the caller's stop flag was set */
    ACTOR_STOP_MAX_STEPS,  /* max_env_steps reached */
} actor_stop_t;

typedef struct {
    uint64_t env_steps;        /* copies × iterations */
    uint64_t iterations;       /* vector steps */
    uint64_t seq;              /* last batch sequence number sent (0: none) */
    uint64_t transitions_sent;
    uint64_t episodes;
    uint64_t policy_version;   /* version of the weights held (0: acting at random) */
    uint64_t weights_taken;    /* weights messages installed */
    uint64_t weights_bad;      /* dropped: undecodable, bad CRC, wrong architecture */
    uint64_t weights_stale;    /* dropped: not newer than the version held */
    uint64_t msgs_bad;         /* other undecodable messages on the SUB socket */
    uint64_t send_waits;       /* times the PUSH high-water mark made a send wait */
    actor_stop_t stop;         /* why actor_run returned 0 */
    char stop_reason[256];     /* the stop message's reason, when stop == ACTOR_STOP_MESSAGE */
} actor_stats_t;

typedef struct actor actor_t;

/* Validates cfg, allocates everything the loop needs, creates the sockets
 * (options set) and connects them. zctx: a ZeroMQ context to use, or NULL for
 * one of its own. Returns NULL on any failure (the reason is logged; *err, if
 * not NULL, gets the ACTOR_E* code). */
actor_t *actor_new(const actor_config_t *cfg, void *zctx, int *err);
/* Closes the sockets (linger <= 1 s) and frees everything. NULL-safe; nulls *a. */
void actor_destroy(actor_t **a);

/* Installs weights directly, as if they had arrived with this version
 * (benchmarks and tests). params (arch n_params) are copied. Returns 0,
 * ACTOR_EINVAL (arch does not parse or does not map 4 inputs to 2 actions) or
 * ACTOR_ENOMEM. */
int actor_set_weights(actor_t *a, const char *arch, const float *params, uint64_t version);

/* Runs until a stop message, *stop != 0, or max_env_steps. Sends hello first
 * and goodbye last (also on error, best effort). Returns 0 (see stats.stop),
 * ACTOR_ETIMEOUT, ACTOR_EZMQ or ACTOR_EPROTO. */
int actor_run(actor_t *a, const volatile sig_atomic_t *stop);

const actor_stats_t *actor_stats(const actor_t *a);

#endif
