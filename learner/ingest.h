/* ingest.h — the learner's experience socket: actors' batches into replay,
 * actors' liveness.
 *
 * Every frame from the PULL socket is decoded strictly (proto_decode_*); a bad
 * one is dropped, counted by reason and logged at a rate-limited warning, and
 * the learner keeps running. Batches go into replay (copied out of the frame);
 * per actor the table keeps the last sequence number (gaps and duplicates are
 * counted, duplicates dropped), the last time it was heard from, its host and
 * pid. An actor silent for longer than `actor_timeout` seconds is declared lost
 * (logged once with its id and host) and revived if it speaks again. */
#ifndef KDQN_INGEST_H
#define KDQN_INGEST_H
#include <stdint.h>
#include "proto.h"
#include "replay.h"

#define INGEST_MAX_ACTORS 1024

typedef struct {
    int known, alive, said_goodbye;
    uint32_t id;
    char host[PROTO_MAX_STR + 1];
    int64_t pid;
    uint64_t last_seq, batches, transitions, gaps, dups;
    uint64_t env_steps;
    float eps;                       /* exploration rate from its last status message */
    double last_seen;
} ingest_actor_t;

typedef struct {
    replay_t *replay;                /* borrowed */
    double actor_timeout;
    ingest_actor_t actors[INGEST_MAX_ACTORS];
    int n_known, n_alive, n_lost_total;
    uint64_t frames, batches, transitions, rejected, rejected_by[32];
    uint64_t gaps_total, dups_total;   /* batches missing / repeated in actors' sequences, all actors */
    uint64_t episodes;
    double ep_return_recent;         /* exponential moving average of finished returns */
    double ep_return_sum_window;     /* returns finished since last metrics row */
    uint64_t ep_count_window;
    /* the last accepted batch: its first replay serial and size */
    uint64_t last_serial0;
    uint32_t last_n;
    uint32_t last_cap;               /* transitions accepted per message at most */
    /* copy-out buffers sized for the cap; only an accepted batch writes them, so
     * obs (last_n, obs_dim) is the last accepted batch's until the next one
     * (the learner's teacher query reads it) */
    float *obs, *next_obs, *reward, *discount;
    int32_t *action;
} ingest_t;

/* NULL on no memory. max_batch caps the transitions accepted per message (bigger
 * batches are rejected as PROTO_ERANGE before any copying). */
ingest_t *ingest_new(replay_t *replay, uint32_t max_batch, double actor_timeout);
void ingest_destroy(ingest_t **in);
/* Handles one frame. Returns 1 if it was a batch added to replay (last_* set),
 * 0 for a status message, a negative PROTO_E* code if rejected. */
int ingest_frame(ingest_t *in, const uint8_t *data, size_t len);
/* Declares silent actors lost (logs them); returns how many were newly lost. */
int ingest_check_liveness(ingest_t *in);
/* Smallest and largest exploration rate among alive actors; 0 with none alive. */
void ingest_eps_range(const ingest_t *in, float *lo, float *hi);
/* "id@host" of each lost actor, comma-separated, into buf. */
void ingest_lost_list(const ingest_t *in, char *buf, size_t len);

#endif
