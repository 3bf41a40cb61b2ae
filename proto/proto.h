/* proto.h — kdqn's wire messages: msgpack maps, versioned, strictly validated.
 *
 * PROTOCOL.md beside this file is the specification; this header is the C
 * binding. Every message is one ZeroMQ frame holding one msgpack map whose
 * keys are short strings; "v" (protocol version) and "t" (message type
 * string) are in every message. Numeric arrays travel as little-endian
 * float32 / int32 in msgpack `bin` fields (structure of arrays).
 *
 * Encoding. Encoders write one whole message into a caller-owned proto_buf_t,
 * replacing its contents; the buffer grows (realloc) only when too small, so
 * a reused buffer allocates nothing in steady state. An encoder refuses
 * (PROTO_EINVAL) to produce a message its decoder would reject.
 *
 * Decoding. Decoders take the received bytes and fill a caller-owned struct.
 * They never allocate, never abort and check every field: msgpack types,
 * version, message type, required keys, duplicate keys, trailing bytes,
 * shapes against n and dims, exact byte lengths, hard limits, finite floats.
 * Every declared length or count is checked against the bytes actually left
 * in the frame before it is used. Unknown keys are skipped (forward
 * compatibility) but must themselves be well-formed msgpack.
 *
 * Views. Array fields of a decoded message (`const void *` below) point INTO
 * the frame: the caller copies them out (proto_copy_f32 / proto_copy_i32)
 * before freeing the zmq_msg_t. They are NOT aligned: never cast them to
 * float * and dereference. Strings are copied into the fixed char arrays of
 * the struct (NUL-terminated, no embedded NUL).
 *
 * Errors. Every function returns 0 (or a positive message type for
 * proto_peek_type) or a negative PROTO_E* code; proto_strerror names it. On
 * a decode error the output struct's contents are unspecified. */
#ifndef KDQN_PROTO_H
#define KDQN_PROTO_H
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1

/* Hard limits. A message exceeding any of them is rejected (PROTO_ERANGE,
 * or PROTO_ETOOBIG for the frame size). */
#define PROTO_MAX_FRAME     (64u << 20)   /* bytes in one frame */
#define PROTO_MAX_N         65536u        /* transitions / states per message */
#define PROTO_MAX_OBS_DIM   1024u
#define PROTO_MAX_ACTIONS   256u
#define PROTO_MAX_EPISODES  65536u        /* finished episodes per batch */
#define PROTO_MAX_PARAMS    (16u << 20)   /* floats in one weights message */
#define PROTO_MAX_STR       255u          /* bytes in any string field (host, arch, reason, text) */
#define PROTO_MAX_KEYS      64u           /* entries in a message's top-level map */
#define PROTO_MAX_DEPTH     8             /* nesting allowed inside skipped unknown values */

/* Message types; the wire carries the string in brackets as "t". */
typedef enum {
    PROTO_T_HELLO = 1,     /* ["hello"]     actor→learner (PUSH), learner→teacher (DEALER) */
    PROTO_T_HEARTBEAT,     /* ["heartbeat"] same directions as hello */
    PROTO_T_GOODBYE,       /* ["goodbye"]   same directions as hello */
    PROTO_T_BATCH,         /* ["batch"]     actor→learner: transitions */
    PROTO_T_WEIGHTS,       /* ["weights"]   learner→actors (PUB) */
    PROTO_T_STOP,          /* ["stop"]      learner→actors (PUB) */
    PROTO_T_QUERY,         /* ["query"]     learner→teacher: soft-target request */
    PROTO_T_REPLY,         /* ["reply"]     teacher→learner: Q and softmax(Q/T) */
    PROTO_T_INFO_REQ,      /* ["info_req"]  learner→teacher */
    PROTO_T_INFO,          /* ["info"]      teacher→learner */
    PROTO_T_ERROR,         /* ["error"]     teacher→learner: a request was rejected */
    PROTO_T_COUNT_         /* one past the last type */
} proto_type_t;

enum {
    PROTO_OK = 0,
    PROTO_EEMPTY = -1,      /* zero-length frame */
    PROTO_ETOOBIG = -2,     /* frame longer than PROTO_MAX_FRAME */
    PROTO_ETRUNC = -3,      /* frame ends inside a msgpack header or fixed-size value */
    PROTO_ECOUNT = -4,      /* a declared length/count exceeds the bytes left in the frame */
    PROTO_ETRAILING = -5,   /* bytes after the top-level map */
    PROTO_ENOTMAP = -6,     /* top-level value is not a map */
    PROTO_EMSGPACK = -7,    /* invalid or unsupported msgpack (0xc1, ext, too deep) */
    PROTO_EKEY = -8,        /* a map key is not a string of 1..64 bytes */
    PROTO_EDUPKEY = -9,     /* the same key twice in one map */
    PROTO_EMISSING = -10,   /* a required key is absent */
    PROTO_ETYPE = -11,      /* a field has the wrong msgpack type */
    PROTO_EVERSION = -12,   /* "v" is not a version this build speaks */
    PROTO_EMSGTYPE = -13,   /* "t" names no known message type */
    PROTO_EWRONGMSG = -14,  /* a known type, but not the one this decoder reads */
    PROTO_ERANGE = -15,     /* a number or count outside its documented range */
    PROTO_ESHAPE = -16,     /* a bin field's byte length disagrees with n and dims */
    PROTO_ENONFINITE = -17, /* NaN or infinity in a float field */
    PROTO_ESTRING = -18,    /* string too long, or contains a NUL byte */
    PROTO_EARCH = -19,      /* malformed architecture string or it disagrees with n_params */
    PROTO_ECRC = -20,       /* weights checksum mismatch */
    PROTO_ENOMEM = -21,     /* encoder: buffer could not grow */
    PROTO_EINVAL = -22,     /* encoder: caller passed an invalid message or NULL */
};
const char *proto_strerror(int err);
/* "hello", "batch", ...; "?" for an invalid type. */
const char *proto_type_name(int type);

/* ---- the caller-owned encode buffer ------------------------------------ */

typedef struct {
    uint8_t *data;   /* (cap) bytes, owned; data[0..len) is the last message */
    size_t len, cap;
} proto_buf_t;

/* Zeroes *b (no allocation until the first encode). */
void proto_buf_init(proto_buf_t *b);
/* Makes cap >= want. PROTO_ENOMEM leaves *b unchanged. */
int proto_buf_reserve(proto_buf_t *b, size_t want);
/* Frees data and zeroes *b. NULL-safe. */
void proto_buf_free(proto_buf_t *b);

/* ---- messages ---------------------------------------------------------- */

/* hello / heartbeat / goodbye: who a peer is and how far it got. The same
 * fields in all three (counters are 0 in a hello). */
typedef struct {
    int type;                        /* PROTO_T_HELLO, _HEARTBEAT or _GOODBYE */
    char role[PROTO_MAX_STR + 1];    /* "actor" or "learner" (others allowed) */
    uint32_t id;                     /* actor index / learner index */
    char host[PROTO_MAX_STR + 1];    /* sender's host name */
    int64_t pid;                     /* >= 0 */
    uint32_t obs_dim;                /* 1..PROTO_MAX_OBS_DIM */
    uint32_t n_actions;              /* 1..PROTO_MAX_ACTIONS */
    uint32_t n_envs;                 /* K environment copies (0 for a learner) */
    uint64_t seq;                    /* sequence number of the last batch sent (0: none) */
    uint64_t env_steps;              /* environment steps taken so far */
    uint64_t policy_version;         /* newest weights version held */
    float eps;                       /* optional "eps": an actor's exploration rate in [0, 1];
                                        0 = not sent (learners, older actors) */
} proto_status_t;

/* A batch of n-step transitions, structure of arrays. Arrays are views (see
 * the top of this file); shapes in comments. */
typedef struct {
    uint32_t actor_id;
    uint64_t seq;                    /* per actor, consecutive, first batch is 1 */
    uint64_t policy_version;         /* weights version that chose the actions */
    uint32_t n;                      /* 1..PROTO_MAX_N transitions */
    uint32_t obs_dim;                /* 1..PROTO_MAX_OBS_DIM */
    uint32_t n_actions;              /* 1..PROTO_MAX_ACTIONS; every action < n_actions */
    const void *obs;                 /* (n, obs_dim) f32 */
    const void *actions;             /* (n) i32 */
    const void *rewards;             /* (n) f32, n-step discounted sum */
    const void *next_obs;            /* (n, obs_dim) f32 */
    const void *discounts;           /* (n) f32 in [0, 1]: gamma^k, or 0 if terminated */
    uint32_t n_episodes;             /* episodes finished in this batch, 0..PROTO_MAX_EPISODES */
    const void *ep_returns;          /* (n_episodes) f32 */
    const void *ep_lengths;          /* (n_episodes) i32, each >= 1 */
} proto_batch_t;

/* One version of the student's parameters. */
typedef struct {
    uint64_t version;
    char arch[PROTO_MAX_STR + 1];    /* "4-64-64-2"; must parse with mlp_arch_parse */
    uint32_t n_params;               /* = the architecture's n_params, <= PROTO_MAX_PARAMS */
    const void *params;              /* (n_params) f32 */
    uint32_t crc;                    /* CRC-32C of the n_params*4 param bytes; the encoder
                                        computes it (the caller's value is ignored) */
} proto_weights_t;

typedef struct {
    char reason[PROTO_MAX_STR + 1];  /* e.g. "solved", "max_steps", "signal" */
} proto_stop_t;

/* Soft-target request: Q(s) and softmax(Q(s)/T) for n states. */
typedef struct {
    uint64_t req_id;
    float temperature;               /* finite, > 0 */
    uint32_t n;                      /* 1..PROTO_MAX_N */
    uint32_t obs_dim;                /* 1..PROTO_MAX_OBS_DIM */
    const void *obs;                 /* (n, obs_dim) f32 */
} proto_query_t;

typedef struct {
    uint64_t req_id;                 /* the query's */
    uint32_t n;                      /* 1..PROTO_MAX_N */
    uint32_t n_actions;              /* 1..PROTO_MAX_ACTIONS */
    const void *q;                   /* (n, n_actions) f32 raw Q-values */
    const void *probs;               /* (n, n_actions) f32 softmax(q / T), each in [0, 1] */
} proto_reply_t;

typedef struct {
    uint64_t req_id;
} proto_info_req_t;

typedef struct {
    uint64_t req_id;
    char arch[PROTO_MAX_STR + 1];    /* teacher network, e.g. "4-256-256-2" */
    uint32_t obs_dim;
    uint32_t n_actions;
    uint32_t model_crc;              /* CRC-32C of the teacher's parameter bytes */
    uint64_t served_requests;        /* queries answered since start */
    uint64_t served_states;          /* states evaluated since start */
} proto_info_t;

typedef struct {
    uint64_t req_id;                 /* of the rejected request; 0 if it was unreadable */
    int32_t code;                    /* a PROTO_E* code (negative) */
    char text[PROTO_MAX_STR + 1];    /* human-readable; encoder truncates longer text */
} proto_error_t;

/* ---- encoders: replace b's contents with one message --------------------
 * Return 0, PROTO_EINVAL (a field outside its documented range, non-finite
 * float, NULL array) or PROTO_ENOMEM. On error b->len is 0. */
int proto_encode_status(proto_buf_t *b, const proto_status_t *m);
int proto_encode_batch(proto_buf_t *b, const proto_batch_t *m);
int proto_encode_weights(proto_buf_t *b, const proto_weights_t *m);
int proto_encode_stop(proto_buf_t *b, const proto_stop_t *m);
int proto_encode_query(proto_buf_t *b, const proto_query_t *m);
int proto_encode_reply(proto_buf_t *b, const proto_reply_t *m);
int proto_encode_info_req(proto_buf_t *b, const proto_info_req_t *m);
int proto_encode_info(proto_buf_t *b, const proto_info_t *m);
int proto_encode_error(proto_buf_t *b, const proto_error_t *m);

/* ---- decoders ------------------------------------------------------------
 * Return 0 or a negative PROTO_E* code. Never allocate. PROTO_EWRONGMSG if
 * the frame is a valid-looking message of another type. */

/* The message type (> 0) of a frame, after checking it is a well-formed map
 * of at most PROTO_MAX_KEYS string keys with a supported "v" and a known "t".
 * Cheap: skips bin bodies without reading them. Does not validate the other
 * fields: call the matching decoder. */
int proto_peek_type(const uint8_t *frame, size_t len);

int proto_decode_status(const uint8_t *frame, size_t len, proto_status_t *m);
int proto_decode_batch(const uint8_t *frame, size_t len, proto_batch_t *m);
int proto_decode_weights(const uint8_t *frame, size_t len, proto_weights_t *m);
int proto_decode_stop(const uint8_t *frame, size_t len, proto_stop_t *m);
int proto_decode_query(const uint8_t *frame, size_t len, proto_query_t *m);
int proto_decode_reply(const uint8_t *frame, size_t len, proto_reply_t *m);
int proto_decode_info_req(const uint8_t *frame, size_t len, proto_info_req_t *m);
int proto_decode_info(const uint8_t *frame, size_t len, proto_info_t *m);
int proto_decode_error(const uint8_t *frame, size_t len, proto_error_t *m);

/* The request id of a query or info_req frame that failed to decode, for the
 * teacher's error reply: 0 if none can be read. Never fails. */
uint64_t proto_peek_req_id(const uint8_t *frame, size_t len);

/* ---- copying views out ---------------------------------------------------
 * dst (n) from a little-endian view src (n*4 bytes, any alignment). */
void proto_copy_f32(float *dst, const void *src, size_t n);
void proto_copy_i32(int32_t *dst, const void *src, size_t n);
/* Element i of a view, for code that reads a few values. */
float proto_f32_at(const void *src, size_t i);
int32_t proto_i32_at(const void *src, size_t i);

#endif
