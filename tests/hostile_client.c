/* hostile_client — a misbehaving (or simply unauthorized) peer for the security
 * and bad-input tests (tests/security/).
 *
 *   hostile_client probe  EP [--keys DIR] [--timeout S] [--expect reply|none]
 *       DEALER to a teacher: hello, then a valid 4-state query every 200 ms until
 *       something comes back or the timeout passes. Exit 0 when the outcome is the
 *       expected one (default: reply), 1 otherwise.
 *   hostile_client pull   EP [--keys DIR] [--flood N] [--oversize BYTES]
 *       PUSH to a learner's experience socket: every kind of bad message once,
 *       a flood of N bad messages, then one frame of BYTES (> ZMQ_MAXMSGSIZE).
 *   hostile_client router EP [--keys DIR] [--flood N] [--oversize BYTES]
 *       DEALER to a teacher: the same for queries, counting the error replies;
 *       afterwards a fresh DEALER must still get a reply to a valid query
 *       (exit 1 if it does not).
 *
 * --keys DIR makes the sockets CURVE clients with DIR/client.key and
 * DIR/server.pub. Prints `measure:` lines. Every wait is bounded. */
#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"
#include "proto.h"
#include "secure.h"

#define OBS_DIM 4
#define N_ACT 2

typedef struct {
    uint8_t *data;
    size_t len;
} frame_t;

typedef struct {
    frame_t f[64];
    const char *what[64];
    int n;
} set_t;

static void set_add(set_t *s, const char *what, const void *data, size_t len)
{
    if (s->n >= 64)
        return;
    s->f[s->n].data = malloc(len ? len : 1);
    memcpy(s->f[s->n].data, data, len);
    s->f[s->n].len = len;
    s->what[s->n] = what;
    s->n++;
}

static void set_add_sbuf(set_t *s, const char *what, msgpack_sbuffer *sb)
{
    set_add(s, what, sb->data, sb->size);
    msgpack_sbuffer_clear(sb);
}

static void pk_str(msgpack_packer *pk, const char *str)
{
    msgpack_pack_str(pk, strlen(str));
    msgpack_pack_str_body(pk, str, strlen(str));
}

static void pk_f32s(msgpack_packer *pk, size_t n, float value, size_t special_at, float special)
{
    float *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = i == special_at ? special : value;
    msgpack_pack_bin(pk, n * 4);
    msgpack_pack_bin_body(pk, v, n * 4);
    free(v);
}

static void pk_i32s(msgpack_packer *pk, size_t n, int32_t value)
{
    int32_t *v = malloc((n ? n : 1) * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = value;
    msgpack_pack_bin(pk, n * 4);
    msgpack_pack_bin_body(pk, v, n * 4);
    free(v);
}

/* A batch map with knobs for each way of being wrong. */
typedef struct {
    int v;
    const char *t;
    uint32_t n, obs_dim, n_act, obs_elems;
    float obs_special, rew, disc;
    int32_t act;
} batch_knobs_t;

static batch_knobs_t batch_ok(void)
{
    return (batch_knobs_t){.v = 1, .t = "batch", .n = 4, .obs_dim = OBS_DIM, .n_act = N_ACT,
                           .obs_elems = 4 * OBS_DIM, .obs_special = 0.0f, .rew = 1.0f, .disc = 0.99f, .act = 1};
}

static void pack_batch(msgpack_packer *pk, const batch_knobs_t *k)
{
    msgpack_pack_map(pk, 16);
    pk_str(pk, "v"); msgpack_pack_int(pk, k->v);
    pk_str(pk, "t"); pk_str(pk, k->t);
    pk_str(pk, "actor"); msgpack_pack_uint32(pk, 4242);
    pk_str(pk, "seq"); msgpack_pack_uint64(pk, 1);
    pk_str(pk, "pv"); msgpack_pack_uint64(pk, 0);
    pk_str(pk, "n"); msgpack_pack_uint32(pk, k->n);
    pk_str(pk, "obs_dim"); msgpack_pack_uint32(pk, k->obs_dim);
    pk_str(pk, "n_act"); msgpack_pack_uint32(pk, k->n_act);
    pk_str(pk, "obs"); pk_f32s(pk, k->obs_elems, 0.1f, 1, k->obs_special);
    pk_str(pk, "act"); pk_i32s(pk, k->n, k->act);
    pk_str(pk, "rew"); pk_f32s(pk, k->n, k->rew, (size_t)-1, 0);
    pk_str(pk, "obs2"); pk_f32s(pk, (size_t)k->n * k->obs_dim, 0.1f, (size_t)-1, 0);
    pk_str(pk, "disc"); pk_f32s(pk, k->n, k->disc, (size_t)-1, 0);
    pk_str(pk, "n_ep"); msgpack_pack_uint32(pk, 0);
    pk_str(pk, "ep_ret"); pk_f32s(pk, 0, 0, (size_t)-1, 0);
    pk_str(pk, "ep_len"); pk_i32s(pk, 0, 1);
}

typedef struct {
    int v;
    const char *t;
    uint32_t n, obs_dim, obs_elems;
    double temperature;
    float obs_special;
} query_knobs_t;

static query_knobs_t query_ok(void)
{
    return (query_knobs_t){.v = 1, .t = "query", .n = 4, .obs_dim = OBS_DIM, .obs_elems = 4 * OBS_DIM,
                           .temperature = 1.0, .obs_special = 0.0f};
}

static void pack_query(msgpack_packer *pk, const query_knobs_t *k, uint64_t id)
{
    msgpack_pack_map(pk, 7);
    pk_str(pk, "v"); msgpack_pack_int(pk, k->v);
    pk_str(pk, "t"); pk_str(pk, k->t);
    pk_str(pk, "id"); msgpack_pack_uint64(pk, id);
    pk_str(pk, "T"); msgpack_pack_double(pk, k->temperature);
    pk_str(pk, "n"); msgpack_pack_uint32(pk, k->n);
    pk_str(pk, "obs_dim"); msgpack_pack_uint32(pk, k->obs_dim);
    pk_str(pk, "obs"); pk_f32s(pk, k->obs_elems, 0.05f, 2, k->obs_special);
}

/* Frames every receiver must reject, whatever the socket. */
static void add_common(set_t *s, msgpack_sbuffer *sb, msgpack_packer *pk)
{
    uint8_t junk[64];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(rand() & 0xff);
    set_add(s, "garbage bytes", junk, sizeof junk);
    set_add(s, "empty frame", "", 0);
    set_add(s, "array32 declaring 4G elements", "\xdd\xff\xff\xff\xff", 5);
    set_add(s, "map32 declaring 4G entries", "\xdf\xff\xff\xff\xff", 5);
    set_add(s, "str32 declaring 4 GB", "\x81\xa1v\xdb\xff\xff\xff\xff", 8);
    set_add(s, "bin32 declaring 4 GB", "\x82\xa1v\x01\xa1t\xc6\xff\xff\xff\xff", 11);
    set_add(s, "0xc1 byte", "\x81\xa1v\xc1", 4);
    set_add(s, "not a map", "\x93\x01\x02\x03", 4);
    /* unknown type, wrong version, an unknown key nested 20 deep */
    msgpack_pack_map(pk, 2); pk_str(pk, "v"); msgpack_pack_int(pk, 1); pk_str(pk, "t"); pk_str(pk, "bogus");
    set_add_sbuf(s, "unknown message type", sb);
    msgpack_pack_map(pk, 2); pk_str(pk, "v"); msgpack_pack_int(pk, 99); pk_str(pk, "t"); pk_str(pk, "hello");
    set_add_sbuf(s, "protocol version 99", sb);
    msgpack_pack_map(pk, 3); pk_str(pk, "v"); msgpack_pack_int(pk, 1); pk_str(pk, "t"); pk_str(pk, "hello");
    pk_str(pk, "x_deep");
    for (int i = 0; i < 20; i++)
        msgpack_pack_array(pk, 1);
    msgpack_pack_nil(pk);
    set_add_sbuf(s, "unknown key nested 20 deep", sb);
    /* duplicate key */
    msgpack_pack_map(pk, 3); pk_str(pk, "v"); msgpack_pack_int(pk, 1); pk_str(pk, "v"); msgpack_pack_int(pk, 1);
    pk_str(pk, "t"); pk_str(pk, "hello");
    set_add_sbuf(s, "duplicate key", sb);
}

static void build_pull_set(set_t *s)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    add_common(s, &sb, &pk);
    batch_knobs_t k = batch_ok();
    pack_batch(&pk, &k);
    set_add(s, "truncated batch", sb.data, sb.size / 2);
    msgpack_pack_nil(&pk);   /* valid batch + one trailing byte */
    set_add_sbuf(s, "batch with trailing byte", &sb);
    struct { const char *what; batch_knobs_t k; } bad[8];
    for (int i = 0; i < 8; i++)
        bad[i].k = batch_ok();
    bad[0].what = "batch, version 2";             bad[0].k.v = 2;
    bad[1].what = "batch, obs bin too short";     bad[1].k.obs_elems = 4 * OBS_DIM - 3;
    bad[2].what = "batch, obs_dim 5 (learner 4)"; bad[2].k.obs_dim = 5; bad[2].k.obs_elems = 20;
    bad[3].what = "batch, NaN reward";            bad[3].k.rew = NAN;
    bad[4].what = "batch, +Inf observation";      bad[4].k.obs_special = INFINITY;
    bad[5].what = "batch, action 7 of 2";         bad[5].k.act = 7;
    bad[6].what = "batch, n_act 3 (learner 2)";   bad[6].k.n_act = 3;
    bad[7].what = "batch, discount 2";            bad[7].k.disc = 2.0f;
    for (int i = 0; i < 8; i++) {
        pack_batch(&pk, &bad[i].k);
        set_add_sbuf(s, bad[i].what, &sb);
    }
    /* messages of other sockets */
    query_knobs_t q = query_ok();
    pack_query(&pk, &q, 7);
    set_add_sbuf(s, "query on the experience socket", &sb);
    proto_buf_t pb;
    proto_buf_init(&pb);
    proto_stop_t stop = {.reason = "hostile"};
    if (proto_encode_stop(&pb, &stop) == 0)
        set_add(s, "stop on the experience socket", pb.data, pb.len);
    proto_status_t st = {.type = PROTO_T_HELLO, .role = "actor", .id = 4243, .host = "hostile", .pid = 1,
                         .obs_dim = 5, .n_actions = N_ACT, .n_envs = 1};
    if (proto_encode_status(&pb, &st) == 0)
        set_add(s, "hello with obs_dim 5", pb.data, pb.len);
    proto_buf_free(&pb);
    msgpack_sbuffer_destroy(&sb);
}

static void build_router_set(set_t *s)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    add_common(s, &sb, &pk);
    query_knobs_t k = query_ok();
    pack_query(&pk, &k, 11);
    set_add(s, "truncated query", sb.data, sb.size - 5);
    msgpack_pack_nil(&pk);
    set_add_sbuf(s, "query with trailing byte", &sb);
    struct { const char *what; query_knobs_t k; } bad[8];
    for (int i = 0; i < 8; i++)
        bad[i].k = query_ok();
    bad[0].what = "query, version 2";              bad[0].k.v = 2;
    bad[1].what = "query, obs bin too short";      bad[1].k.obs_elems = 13;
    bad[2].what = "query, obs_dim 5 (teacher 4)";  bad[2].k.obs_dim = 5; bad[2].k.obs_elems = 20;
    bad[3].what = "query, NaN observation";        bad[3].k.obs_special = NAN;
    bad[4].what = "query, -Inf observation";       bad[4].k.obs_special = -INFINITY;
    bad[5].what = "query, temperature 0";          bad[5].k.temperature = 0;
    bad[6].what = "query, temperature NaN";        bad[6].k.temperature = NAN;
    bad[7].what = "query, n 0";                    bad[7].k.n = 0; bad[7].k.obs_elems = 0;
    for (int i = 0; i < 8; i++) {
        pack_query(&pk, &bad[i].k, 100 + (uint64_t)i);
        set_add_sbuf(s, bad[i].what, &sb);
    }
    batch_knobs_t b = batch_ok();
    pack_batch(&pk, &b);
    set_add_sbuf(s, "batch on the teacher socket", &sb);
    msgpack_sbuffer_destroy(&sb);
}

static void *make_socket(void *ctx, int type, const secure_t *keys)
{
    void *s = zmq_socket(ctx, type);
    int linger = 0, sndtimeo = 2000;
    int64_t maxmsg = 64 << 20;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (keys && secure_client(keys, s) != 0) {
        fprintf(stderr, "hostile_client: CURVE setup failed\n");
        exit(2);
    }
    return s;
}

static int drain(void *sock, uint64_t *errors, uint64_t *others)
{
    int got = 0;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return got;
        }
        got++;
        int t = proto_peek_type(zmq_msg_data(&m), zmq_msg_size(&m));
        if (t == PROTO_T_ERROR)
            (*errors)++;
        else
            (*others)++;
        zmq_msg_close(&m);
    }
}

/* Sends hello + a valid query every 200 ms; returns ms until a reply, or -1. */
static double probe(void *ctx, const char *ep, const secure_t *keys, double timeout)
{
    void *s = make_socket(ctx, ZMQ_DEALER, keys);
    if (zmq_connect(s, ep) != 0) {
        fprintf(stderr, "hostile_client: connect %s: %s\n", ep, zmq_strerror(errno));
        exit(2);
    }
    proto_buf_t pb;
    proto_buf_init(&pb);
    proto_status_t st = {.type = PROTO_T_HELLO, .role = "learner", .id = 77, .host = "probe", .pid = getpid(),
                         .obs_dim = OBS_DIM, .n_actions = N_ACT};
    float obs[4 * OBS_DIM] = {0.01f, 0.02f, 0.03f, 0.04f};
    double t0 = log_now(), next = t0, result = -1;
    int said_hello = 0;
    uint64_t id = 1;
    while (log_now() - t0 < timeout) {
        if (log_now() >= next) {
            if (!said_hello && proto_encode_status(&pb, &st) == 0)
                said_hello = zmq_send(s, pb.data, pb.len, ZMQ_DONTWAIT) >= 0;
            proto_query_t q = {.req_id = id++, .temperature = 1.0f, .n = 4, .obs_dim = OBS_DIM, .obs = obs};
            if (proto_encode_query(&pb, &q) == 0)
                zmq_send(s, pb.data, pb.len, ZMQ_DONTWAIT);
            next = log_now() + 0.2;
        }
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 50) > 0) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) >= 0 &&
                proto_peek_type(zmq_msg_data(&m), zmq_msg_size(&m)) == PROTO_T_REPLY) {
                result = 1e3 * (log_now() - t0);
                zmq_msg_close(&m);
                break;
            }
            zmq_msg_close(&m);
        }
    }
    if (said_hello) {
        st.type = PROTO_T_GOODBYE;
        if (proto_encode_status(&pb, &st) == 0)
            zmq_send(s, pb.data, pb.len, ZMQ_DONTWAIT);
    }
    proto_buf_free(&pb);
    zmq_close(s);
    return result;
}

static int attack(void *ctx, const char *ep, const secure_t *keys, int router, long flood, size_t oversize)
{
    set_t set = {0};
    if (router)
        build_router_set(&set);
    else
        build_pull_set(&set);
    void *s = make_socket(ctx, router ? ZMQ_DEALER : ZMQ_PUSH, keys);
    /* a small queue: sends wait for the peer (bounded by ZMQ_SNDTIMEO) instead of
     * piling up messages the oversized frame's disconnect would then discard */
    int hwm = 100;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_connect(s, ep) != 0) {
        fprintf(stderr, "hostile_client: connect %s: %s\n", ep, zmq_strerror(errno));
        return 2;
    }
    uint64_t errors = 0, others = 0, sent = 0, send_failed = 0;
    usleep(300000);   /* let the connection come up: PUSH/DEALER queue until then anyway */
    for (int i = 0; i < set.n; i++) {
        if (zmq_send(s, set.f[i].data, set.f[i].len, 0) >= 0)
            sent++;
        else
            send_failed++;
        if (router)
            drain(s, &errors, &others);
    }
    /* a two-frame message */
    if (zmq_send(s, "\x80", 1, ZMQ_SNDMORE) >= 0 && zmq_send(s, "\x80", 1, 0) >= 0)
        sent++;
    printf("measure: %s kinds of bad message sent=%d (+1 multi-part)\n", router ? "teacher" : "learner", set.n);
    double t0 = log_now();
    for (long i = 0; i < flood; i++) {
        const frame_t *f = &set.f[i % set.n];
        if (zmq_send(s, f->data, f->len, 0) >= 0)
            sent++;
        else
            send_failed++;
        if (router && (i & 63) == 0)
            drain(s, &errors, &others);
        if (log_now() - t0 > 60)   /* bounded even against a stalled peer */
            break;
    }
    double flood_s = log_now() - t0;
    printf("measure: flood of %ld messages sent in %.2f s (%.0f msg/s), %llu sends timed out\n", flood, flood_s,
           flood / (flood_s > 0 ? flood_s : 1e-9), (unsigned long long)send_failed);
    if (router) {
        double until = log_now() + 3.0;
        while (log_now() < until) {
            zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
            if (zmq_poll(&it, 1, 200) > 0)
                drain(s, &errors, &others);
            else if (errors + others >= sent)
                break;
        }
        printf("measure: teacher error replies received=%llu other=%llu (of %llu sent)\n",
               (unsigned long long)errors, (unsigned long long)others, (unsigned long long)sent);
    }
    /* the oversized frame goes on a connection of its own: the peer drops that
     * connection, and with it anything still queued on it */
    if (oversize > 0) {
        void *big_sock = make_socket(ctx, router ? ZMQ_DEALER : ZMQ_PUSH, keys);
        uint8_t *big = calloc(1, oversize);
        if (big && zmq_connect(big_sock, ep) == 0) {
            big[0] = 0x80;
            int rc = zmq_send(big_sock, big, oversize, 0);
            usleep(500000);
            printf("measure: oversized frame of %zu bytes %s\n", oversize, rc >= 0 ? "sent" : "not sent");
        }
        free(big);
        zmq_close(big_sock);
    }
    /* what is still queued on the flood connection is delivered before it closes */
    int linger = 5000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    for (int i = 0; i < set.n; i++)
        free(set.f[i].data);
    int status = 0;
    if (router) {
        if (errors == 0) {
            fprintf(stderr, "FAIL: the teacher answered no bad request with an error\n");
            status = 1;
        }
        double ms = probe(ctx, ep, keys, 5.0);
        printf("measure: after the attack a valid query got a reply in %.1f ms\n", ms);
        if (ms < 0) {
            fprintf(stderr, "FAIL: no reply to a valid query after the attack\n");
            status = 1;
        }
    }
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: hostile_client probe|pull|router EP [--keys DIR] [--timeout S] "
                        "[--expect reply|none] [--flood N] [--oversize BYTES]\n");
        return 2;
    }
    const char *mode = argv[1], *ep = argv[2], *keys_dir = NULL, *expect = "reply";
    double timeout = 3.0;
    long flood = 20000;
    size_t oversize = (64u << 20) + 1024;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--keys")) keys_dir = argv[i + 1];
        else if (!strcmp(argv[i], "--timeout")) timeout = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--expect")) expect = argv[i + 1];
        else if (!strcmp(argv[i], "--flood")) flood = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--oversize")) oversize = (size_t)atol(argv[i + 1]);
        else {
            fprintf(stderr, "hostile_client: unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    log_set_role("hostile", -1);
    srand((unsigned)time(NULL));
    secure_t *keys = NULL;
    if (keys_dir) {
        char why[1200];
        int err;
        keys = secure_load(keys_dir, SECURE_NEED_CLIENT, &err, why, sizeof why);
        if (!keys) {
            fprintf(stderr, "hostile_client: --keys: %s\n", why);
            return 2;
        }
    }
    void *ctx = zmq_ctx_new();
    int status;
    if (!strcmp(mode, "probe")) {
        double ms = probe(ctx, ep, keys, timeout);
        int want_reply = strcmp(expect, "none") != 0;
        if (ms >= 0)
            printf("measure: probe %s%s got a reply after %.1f ms\n", keys_dir ? "with keys " : "(plain)",
                   keys_dir ? keys_dir : "", ms);
        else
            printf("measure: probe %s%s got no reply within %.1f s\n", keys_dir ? "with keys " : "(plain)",
                   keys_dir ? keys_dir : "", timeout);
        status = (ms >= 0) == want_reply ? 0 : 1;
    } else if (!strcmp(mode, "pull") || !strcmp(mode, "router")) {
        status = attack(ctx, ep, keys, mode[0] == 'r', flood, oversize);
    } else {
        fprintf(stderr, "hostile_client: unknown mode %s\n", mode);
        status = 2;
    }
    zmq_ctx_term(ctx);
    secure_destroy(&keys);
    return status;
}
