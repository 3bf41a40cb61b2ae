/* test_proto.c — the wire format: round trips, golden bytes, hostile input.
 *
 *   test_proto                      run every test (exit 1 on any failure)
 *   test_proto --print-golden       print the hex of the fixture messages
 *   test_proto --write-corpus DIR   write each fixture into DIR/<decoder>/seed_* (fuzz seeds)
 *
 * Hostile variants are built by re-emitting a golden message's map entry by
 * entry with one mutation (drop / duplicate / replace a key's value / add a
 * key), so every field of every message gets the same treatment. */
#include "check.h"
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt.h"
#include "mpread.h"
#include "proto.h"


#define CHECK_RC(got, want, what) do { int g_ = (got), w_ = (want); \
    CHECK(g_ == w_, "%s: got %d (%s), want %d (%s)", (what), g_, proto_strerror(g_), w_, proto_strerror(w_)); } while (0)

/* ---- fixtures: one small message of each type, fixed contents ----------- */

static float obs[2 * 4] = { 0.5f, -0.25f, 1.0f, 2.0f, 0.0f, 0.125f, -1.0f, 3.0f };   /* (2, 4) */
static float obs2[2 * 4] = { 0.25f, 0.5f, -0.5f, 1.5f, 1.0f, 0.0f, 0.75f, -2.0f };  /* (2, 4) */
static int32_t acts[2] = { 1, 0 };
static float rews[2] = { 2.9701f, 1.0f };
static float discs[2] = { 0.970299f, 0.0f };
static float ep_ret[1] = { 23.0f };
static int32_t ep_len[1] = { 23 };
static float wparams[3] = { 0.5f, -1.5f, 0.25f };          /* arch "2-1": W (2,1), b (1) */
static float qvals[2] = { 1.0f, 2.0f };                     /* (1, 2) */
static float probs[2] = { 0.25f, 0.75f };                   /* (1, 2) */

enum { FX_HELLO, FX_HEARTBEAT, FX_GOODBYE, FX_BATCH, FX_WEIGHTS, FX_STOP, FX_QUERY, FX_REPLY,
       FX_INFO_REQ, FX_INFO, FX_ERROR, FX_N };

static const char *const fx_decoder[FX_N] = {
    "status", "status", "status", "batch", "weights", "stop", "query", "reply", "info_req", "info", "error",
};

static proto_status_t fx_status(int type) {
    proto_status_t m;
    memset(&m, 0, sizeof m);
    m.type = type;
    strcpy(m.role, "actor");
    m.id = 3;
    strcpy(m.host, "kh1");
    m.pid = 4242;
    m.obs_dim = 4;
    m.n_actions = 2;
    m.n_envs = 16;
    if (type != PROTO_T_HELLO) { m.seq = 7; m.env_steps = 100000; m.policy_version = 12; }
    return m;
}

static proto_batch_t fx_batch(void) {
    proto_batch_t m = { .actor_id = 3, .seq = 7, .policy_version = 12, .n = 2, .obs_dim = 4, .n_actions = 2,
                        .obs = obs, .actions = acts, .rewards = rews, .next_obs = obs2, .discounts = discs,
                        .n_episodes = 1, .ep_returns = ep_ret, .ep_lengths = ep_len };
    return m;
}

static proto_weights_t fx_weights(void) {
    proto_weights_t m;
    memset(&m, 0, sizeof m);
    m.version = 12;
    strcpy(m.arch, "2-1");
    m.n_params = 3;
    m.params = wparams;
    return m;
}

/* Encodes fixture i into b. */
static int encode_fixture(int i, proto_buf_t *b) {
    switch (i) {
    case FX_HELLO: { proto_status_t m = fx_status(PROTO_T_HELLO); return proto_encode_status(b, &m); }
    case FX_HEARTBEAT: { proto_status_t m = fx_status(PROTO_T_HEARTBEAT); return proto_encode_status(b, &m); }
    case FX_GOODBYE: { proto_status_t m = fx_status(PROTO_T_GOODBYE); return proto_encode_status(b, &m); }
    case FX_BATCH: { proto_batch_t m = fx_batch(); return proto_encode_batch(b, &m); }
    case FX_WEIGHTS: { proto_weights_t m = fx_weights(); return proto_encode_weights(b, &m); }
    case FX_STOP: { proto_stop_t m; strcpy(m.reason, "solved"); return proto_encode_stop(b, &m); }
    case FX_QUERY: { proto_query_t m = { .req_id = 99, .temperature = 0.5f, .n = 2, .obs_dim = 4, .obs = obs };
                     return proto_encode_query(b, &m); }
    case FX_REPLY: { proto_reply_t m = { .req_id = 99, .n = 1, .n_actions = 2, .q = qvals, .probs = probs };
                     return proto_encode_reply(b, &m); }
    case FX_INFO_REQ: { proto_info_req_t m = { .req_id = 5 }; return proto_encode_info_req(b, &m); }
    case FX_INFO: { proto_info_t m = { .req_id = 5, .obs_dim = 4, .n_actions = 2, .model_crc = 0xdeadbeef,
                                       .served_requests = 10, .served_states = 2560 };
                    strcpy(m.arch, "4-256-256-2"); return proto_encode_info(b, &m); }
    case FX_ERROR: { proto_error_t m = { .req_id = 99, .code = PROTO_ESHAPE };
                     strcpy(m.text, "bad shape"); return proto_encode_error(b, &m); }
    }
    return -1;
}

/* Runs the decoder fixture i is for, on any bytes. Returns its code. */
static int decode_as(int i, const uint8_t *f, size_t n) {
    union { proto_status_t s; proto_batch_t b; proto_weights_t w; proto_stop_t st; proto_query_t q;
            proto_reply_t r; proto_info_req_t ir; proto_info_t in; proto_error_t e; } u;
    switch (i) {
    case FX_HELLO: case FX_HEARTBEAT: case FX_GOODBYE: return proto_decode_status(f, n, &u.s);
    case FX_BATCH: return proto_decode_batch(f, n, &u.b);
    case FX_WEIGHTS: return proto_decode_weights(f, n, &u.w);
    case FX_STOP: return proto_decode_stop(f, n, &u.st);
    case FX_QUERY: return proto_decode_query(f, n, &u.q);
    case FX_REPLY: return proto_decode_reply(f, n, &u.r);
    case FX_INFO_REQ: return proto_decode_info_req(f, n, &u.ir);
    case FX_INFO: return proto_decode_info(f, n, &u.in);
    case FX_ERROR: return proto_decode_error(f, n, &u.e);
    }
    return -999;
}

/* Golden bytes (hex) of the fixtures: a change of the wire format must fail here
 * and be a deliberate PROTO_VERSION decision. */
static const char *const golden[FX_N] = {
    "8ca17601a174a568656c6c6fa4726f6c65a56163746f72a2696403a4686f7374a36b6831a3706964cd1092a76f62735f64696d04a56e5f61637402a66e5f656e767310a373657100a5737465707300a2707600",
    "8ca17601a174a9686561727462656174a4726f6c65a56163746f72a2696403a4686f7374a36b6831a3706964cd1092a76f62735f64696d04a56e5f61637402a66e5f656e767310a373657107a57374657073ce000186a0a270760c",
    "8ca17601a174a7676f6f64627965a4726f6c65a56163746f72a2696403a4686f7374a36b6831a3706964cd1092a76f62735f64696d04a56e5f61637402a66e5f656e767310a373657107a57374657073ce000186a0a270760c",
    "de0010a17601a174a56261746368a56163746f7203a373657107a270760ca16e02a76f62735f64696d04a56e5f61637402a36f6273c4200000003f000080be0000803f00000040000000000000003e000080bf00004040a3616374c4080100000000000000a3726577c4081e163e400000803fa46f627332c4200000803e0000003f000000bf0000c03f0000803f000000000000403f000000c0a464697363c4088465783f00000000a46e5f657001a665705f726574c4040000b841a665705f6c656ec40417000000",
    "87a17601a174a777656967687473a37665720ca461726368a3322d31a56e5f70617203a3706172c40c0000003f0000c0bf0000803ea3637263ce2902d9ee",
    "83a17601a174a473746f70a6726561736f6ea6736f6c766564",
    "87a17601a174a57175657279a2696463a154ca3f000000a16e02a76f62735f64696d04a36f6273c4200000003f000080be0000803f00000040000000000000003e000080bf00004040",
    "87a17601a174a57265706c79a2696463a16e01a56e5f61637402a171c4080000803f00000040a170c4080000803e0000403f",
    "83a17601a174a8696e666f5f726571a2696405",
    "89a17601a174a4696e666fa2696405a461726368ab342d3235362d3235362d32a76f62735f64696d04a56e5f61637402a3637263cedeadbeefa56e5f7265710aa86e5f737461746573cd0a00",
    "85a17601a174a56572726f72a2696463a4636f6465f0a474657874a9626164207368617065",
};

/* ---- helpers --------------------------------------------------------------- */

static size_t unhex(const char *h, uint8_t *out, size_t cap) {
    size_t n = 0;
    while (*h) {
        if (*h == ' ') { h++; continue; }
        unsigned x;
        if (sscanf(h, "%2x", &x) != 1 || n >= cap) return n;
        out[n++] = (uint8_t)x;
        h += 2;
    }
    return n;
}

static void print_hex(FILE *fp, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) fprintf(fp, "%02x", p[i]);
}

/* A small msgpack writer for hand-made values. */
static int pb_write(void *d, const char *s, size_t n) {
    proto_buf_t *b = d;
    if (proto_buf_reserve(b, b->len + n)) return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}
typedef struct { proto_buf_t b; msgpack_packer pk; } raw_t;
static void raw_reset(raw_t *r) { r->b.len = 0; msgpack_packer_init(&r->pk, &r->b, pb_write); }
static void raw_bytes(raw_t *r, const void *p, size_t n) { pb_write(&r->b, p, n); }
static void raw_hex(raw_t *r, const char *h) { uint8_t tmp[256]; raw_bytes(r, tmp, unhex(h, tmp, sizeof tmp)); }

/* Mutations of a golden message. */
enum { MU_NONE, MU_DROP, MU_DUP, MU_REPLACE, MU_ADD };
typedef struct {
    int op;
    const char *key;         /* key to drop/duplicate/replace/add */
    const uint8_t *val;      /* raw msgpack value for REPLACE/ADD */
    size_t val_len;
} mut_t;

/* Entry spans of a well-formed golden map. */
typedef struct { const uint8_t *k; uint32_t klen; const uint8_t *v; size_t vlen; } entry_t;

static int entries_of(const uint8_t *f, size_t n, entry_t *e, int cap) {
    mpr_t r;
    mpr_val_t m, k;
    mpr_init(&r, f, n);
    if (mpr_next(&r, &m) || m.kind != MPR_MAP) return -1;
    for (uint32_t i = 0; i < m.len && (int)i < cap; i++) {
        if (mpr_next(&r, &k) || k.kind != MPR_STR) return -1;
        e[i].k = k.ptr;
        e[i].klen = k.len;
        e[i].v = r.p;
        if (mpr_skip(&r, 8)) return -1;
        e[i].vlen = (size_t)(r.p - e[i].v);
    }
    return (int)m.len;
}

static int key_is(const entry_t *e, const char *k) { return e->klen == strlen(k) && memcmp(e->k, k, e->klen) == 0; }

/* Writes the golden message with one mutation into out. */
static void mutate(const uint8_t *f, size_t n, const mut_t *mu, raw_t *out) {
    entry_t e[64];
    int ne = entries_of(f, n, e, 64);
    raw_reset(out);
    int count = ne + (mu->op == MU_DROP ? -1 : mu->op == MU_DUP || mu->op == MU_ADD ? 1 : 0);
    msgpack_pack_map(&out->pk, (size_t)count);
    for (int i = 0; i < ne; i++) {
        int hit = mu->key && key_is(&e[i], mu->key);
        if (hit && mu->op == MU_DROP) continue;
        msgpack_pack_str_with_body(&out->pk, e[i].k, e[i].klen);
        if (hit && mu->op == MU_REPLACE) raw_bytes(out, mu->val, mu->val_len);
        else raw_bytes(out, e[i].v, e[i].vlen);
        if (hit && mu->op == MU_DUP) {
            msgpack_pack_str_with_body(&out->pk, e[i].k, e[i].klen);
            raw_bytes(out, e[i].v, e[i].vlen);
        }
    }
    if (mu->op == MU_ADD) {
        msgpack_pack_str_with_body(&out->pk, mu->key, strlen(mu->key));
        raw_bytes(out, mu->val, mu->val_len);
    }
}

/* Replaces key's value in fixture i by the msgpack in v, decodes, checks rc. */
static void expect_replace(int i, const char *key, raw_t *v, int want, const char *what) {
    uint8_t g[4096];
    size_t gn = unhex(golden[i], g, sizeof g);
    raw_t out = { 0 };
    mut_t mu = { MU_REPLACE, key, v->b.data, v->b.len };
    mutate(g, gn, &mu, &out);
    char label[160];
    snprintf(label, sizeof label, "%s.%s %s", fx_decoder[i], key, what);
    CHECK_RC(decode_as(i, out.b.data, out.b.len), want, label);
    proto_buf_free(&out.b);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_golden(void) {
    proto_buf_t b;
    proto_buf_init(&b);
    for (int i = 0; i < FX_N; i++) {
        CHECK_RC(encode_fixture(i, &b), 0, "encode fixture");
        uint8_t g[4096];
        size_t gn = unhex(golden[i], g, sizeof g);
        int same = gn == b.len && memcmp(g, b.data, gn) == 0;
        CHECK(same, "golden bytes of fixture %d (%s) changed (len %zu vs %zu)", i, fx_decoder[i], b.len, gn);
        if (!same) { fprintf(stderr, "  now: "); print_hex(stderr, b.data, b.len); fputc('\n', stderr); }
        CHECK_RC(decode_as(i, g, gn), 0, "decode golden");
        int t = proto_peek_type(g, gn);
        int want_t = i + 1; /* fixture order is type order */
        CHECK(t == want_t, "peek type of fixture %d: %d want %d", i, t, want_t);
    }
    /* Spot-check the documented framing by hand: map of 12, "v"=1, "t"="hello". */
    uint8_t g[64];
    unhex(golden[FX_HELLO], g, sizeof g);
    static const uint8_t head[] = { 0x8c, 0xa1, 'v', 0x01, 0xa1, 't', 0xa5, 'h', 'e', 'l', 'l', 'o' };
    CHECK(memcmp(g, head, sizeof head) == 0, "hello starts with {v:1, t:\"hello\"");
    /* CRC-32C convention (check value of the Castagnoli polynomial). */
    CHECK(ckpt_crc32c(0, "123456789", 9) == 0xE3069283u, "crc32c check value");
    proto_buf_free(&b);
}

static void test_round_trip(void) {
    proto_buf_t b;
    proto_buf_init(&b);
    for (int type = PROTO_T_HELLO; type <= PROTO_T_GOODBYE; type++) {
        proto_status_t in = fx_status(type), out;
        memset(&out, 0x55, sizeof out);
        CHECK_RC(proto_encode_status(&b, &in), 0, "encode status");
        CHECK_RC(proto_decode_status(b.data, b.len, &out), 0, "decode status");
        CHECK(out.type == in.type && !strcmp(out.role, in.role) && out.id == in.id && !strcmp(out.host, in.host)
              && out.pid == in.pid && out.obs_dim == in.obs_dim && out.n_actions == in.n_actions
              && out.n_envs == in.n_envs && out.seq == in.seq && out.env_steps == in.env_steps
              && out.policy_version == in.policy_version, "status round trip");
    }
    {   /* the optional "eps" key: carried when set, absent (and 0) otherwise, range-checked */
        proto_status_t in = fx_status(PROTO_T_HEARTBEAT), out;
        size_t len_without;
        CHECK_RC(proto_encode_status(&b, &in), 0, "encode status without eps");
        len_without = b.len;
        CHECK(in.eps == 0.0f && proto_decode_status(b.data, b.len, &out) == 0 && out.eps == 0.0f,
              "a status without eps decodes with eps 0");
        in.eps = 0.25f;
        CHECK_RC(proto_encode_status(&b, &in), 0, "encode status with eps");
        CHECK(b.len > len_without, "eps key not written");
        memset(&out, 0x55, sizeof out);
        CHECK_RC(proto_decode_status(b.data, b.len, &out), 0, "decode status with eps");
        CHECK(out.eps == 0.25f && out.seq == in.seq, "eps round trip: %g", (double)out.eps);
        /* the float32 0.25 (ca 3e 80 00 00) patched to 1.5 (ca 3f c0 00 00) and to NaN */
        uint8_t frame[512];
        memcpy(frame, b.data, b.len);
        uint8_t *f32 = NULL;
        for (size_t i = 0; i + 5 <= b.len; i++)
            if (frame[i] == 0xca && frame[i + 1] == 0x3e && frame[i + 2] == 0x80 && !frame[i + 3] && !frame[i + 4])
                f32 = frame + i;
        CHECK(f32 != NULL, "eps float32 not found in the frame");
        if (f32) {
            f32[1] = 0x3f; f32[2] = 0xc0;
            CHECK_RC(proto_decode_status(frame, b.len, &out), PROTO_ERANGE, "eps 1.5");
            f32[1] = 0x7f; f32[2] = 0xc0;
            CHECK_RC(proto_decode_status(frame, b.len, &out), PROTO_ENONFINITE, "eps NaN");
        }
        in.eps = 1.5f;
        CHECK_RC(proto_encode_status(&b, &in), PROTO_EINVAL, "encoder refuses eps 1.5");
    }
    {   /* A bigger batch, extreme-but-valid values. */
        enum { N = 300, D = 7 };
        static float o[N * D], o2[N * D], r[N], d[N], er[5];
        static int32_t a[N], el[5];
        for (int i = 0; i < N * D; i++) { o[i] = (float)i * 0.01f - 3; o2[i] = -o[i]; }
        for (int i = 0; i < N; i++) { a[i] = i % 5; r[i] = 3.4e38f * (i & 1 ? -1 : 1); d[i] = i % 3 ? 0.99f : 0; }
        for (int i = 0; i < 5; i++) { er[i] = 500; el[i] = 500 - i; }
        proto_batch_t in = { .actor_id = UINT32_MAX, .seq = UINT64_MAX, .policy_version = 1, .n = N, .obs_dim = D,
                             .n_actions = 5, .obs = o, .actions = a, .rewards = r, .next_obs = o2,
                             .discounts = d, .n_episodes = 5, .ep_returns = er, .ep_lengths = el }, out;
        CHECK_RC(proto_encode_batch(&b, &in), 0, "encode batch");
        CHECK_RC(proto_decode_batch(b.data, b.len, &out), 0, "decode batch");
        float co[N * D], co2[N * D], cr[N], cd[N], cer[5];
        int32_t ca[N], cel[5];
        proto_copy_f32(co, out.obs, N * D);
        proto_copy_f32(co2, out.next_obs, N * D);
        proto_copy_f32(cr, out.rewards, N);
        proto_copy_f32(cd, out.discounts, N);
        proto_copy_i32(ca, out.actions, N);
        proto_copy_f32(cer, out.ep_returns, 5);
        proto_copy_i32(cel, out.ep_lengths, 5);
        CHECK(out.actor_id == in.actor_id && out.seq == in.seq && out.policy_version == 1 && out.n == N
              && out.obs_dim == D && out.n_actions == 5 && out.n_episodes == 5, "batch scalars");
        CHECK(!memcmp(co, o, sizeof o) && !memcmp(co2, o2, sizeof o2) && !memcmp(cr, r, sizeof r)
              && !memcmp(cd, d, sizeof d) && !memcmp(ca, a, sizeof a) && !memcmp(cer, er, sizeof er)
              && !memcmp(cel, el, sizeof el), "batch arrays");
        CHECK(proto_f32_at(out.obs, 8) == o[8] && proto_i32_at(out.actions, 7) == a[7], "element access");
        /* Zero episodes: empty bins. */
        in.n_episodes = 0;
        in.ep_returns = in.ep_lengths = NULL;
        CHECK_RC(proto_encode_batch(&b, &in), 0, "encode batch without episodes");
        CHECK_RC(proto_decode_batch(b.data, b.len, &out), 0, "decode batch without episodes");
        CHECK(out.n_episodes == 0, "no episodes");
    }
    {
        proto_weights_t in = fx_weights(), out;
        static float p[4 * 64 + 64 + 64 * 2 + 2];
        for (size_t i = 0; i < sizeof p / 4; i++) p[i] = sinf((float)i);
        strcpy(in.arch, "4-64-2");
        in.n_params = sizeof p / 4;
        in.params = p;
        in.version = 1ull << 40;
        CHECK_RC(proto_encode_weights(&b, &in), 0, "encode weights");
        CHECK_RC(proto_decode_weights(b.data, b.len, &out), 0, "decode weights");
        CHECK(out.version == in.version && !strcmp(out.arch, "4-64-2") && out.n_params == in.n_params
              && !memcmp(out.params, p, sizeof p) && out.crc == ckpt_crc32c(0, p, sizeof p), "weights round trip");
    }
    {
        proto_stop_t in, out;
        strcpy(in.reason, "");
        CHECK_RC(proto_encode_stop(&b, &in), 0, "encode stop");
        CHECK_RC(proto_decode_stop(b.data, b.len, &out), 0, "decode stop");
        CHECK(out.reason[0] == 0, "empty reason");
        memset(in.reason, 'x', PROTO_MAX_STR);
        in.reason[PROTO_MAX_STR] = 0;
        CHECK_RC(proto_encode_stop(&b, &in), 0, "encode stop max");
        CHECK_RC(proto_decode_stop(b.data, b.len, &out), 0, "decode stop max");
        CHECK(strlen(out.reason) == PROTO_MAX_STR, "max reason");
    }
    {
        proto_query_t in = { .req_id = UINT64_MAX, .temperature = 0.01f, .n = 2, .obs_dim = 4, .obs = obs }, out;
        CHECK_RC(proto_encode_query(&b, &in), 0, "encode query");
        CHECK_RC(proto_decode_query(b.data, b.len, &out), 0, "decode query");
        CHECK(out.req_id == UINT64_MAX && out.temperature == 0.01f && out.n == 2 && out.obs_dim == 4
              && !memcmp(out.obs, obs, sizeof obs), "query round trip");
        CHECK(proto_peek_req_id(b.data, b.len) == UINT64_MAX, "peek req id");
    }
    {
        proto_reply_t in = { .req_id = 1, .n = 1, .n_actions = 2, .q = qvals, .probs = probs }, out;
        CHECK_RC(proto_encode_reply(&b, &in), 0, "encode reply");
        CHECK_RC(proto_decode_reply(b.data, b.len, &out), 0, "decode reply");
        CHECK(out.req_id == 1 && out.n == 1 && out.n_actions == 2 && !memcmp(out.q, qvals, 8)
              && !memcmp(out.probs, probs, 8), "reply round trip");
    }
    {
        proto_info_req_t in = { 77 }, out;
        CHECK_RC(proto_encode_info_req(&b, &in), 0, "encode info_req");
        CHECK_RC(proto_decode_info_req(b.data, b.len, &out), 0, "decode info_req");
        CHECK(out.req_id == 77, "info_req round trip");
        proto_info_t i2 = { .req_id = 77, .obs_dim = 4, .n_actions = 2, .model_crc = UINT32_MAX,
                            .served_requests = UINT64_MAX, .served_states = 1 }, o2;
        strcpy(i2.arch, "4-512-512-2");
        CHECK_RC(proto_encode_info(&b, &i2), 0, "encode info");
        CHECK_RC(proto_decode_info(b.data, b.len, &o2), 0, "decode info");
        CHECK(o2.req_id == 77 && !strcmp(o2.arch, i2.arch) && o2.obs_dim == 4 && o2.n_actions == 2
              && o2.model_crc == UINT32_MAX && o2.served_requests == UINT64_MAX && o2.served_states == 1,
              "info round trip");
    }
    {
        proto_error_t in = { .req_id = 3, .code = PROTO_EVERSION }, out;
        memset(in.text, 'e', sizeof in.text); /* not NUL-terminated within MAX: encoder truncates */
        in.text[PROTO_MAX_STR] = 0;
        CHECK_RC(proto_encode_error(&b, &in), 0, "encode error");
        CHECK_RC(proto_decode_error(b.data, b.len, &out), 0, "decode error");
        CHECK(out.req_id == 3 && out.code == PROTO_EVERSION && strlen(out.text) == PROTO_MAX_STR, "error round trip");
    }
    /* Steady state: re-encoding into a big-enough buffer does not reallocate. */
    {
        proto_batch_t m = fx_batch();
        proto_encode_batch(&b, &m);
        uint8_t *before = b.data;
        size_t cap = b.cap;
        for (int k = 0; k < 100; k++) proto_encode_batch(&b, &m);
        CHECK(b.data == before && b.cap == cap, "no reallocation in steady state");
    }
    proto_buf_free(&b);
    proto_buf_free(&b); /* NULL-safe twice */
}

static void test_encoder_refuses(void) {
    proto_buf_t b;
    proto_buf_init(&b);
    proto_batch_t m = fx_batch();
    m.n = 0;
    CHECK_RC(proto_encode_batch(&b, &m), PROTO_EINVAL, "batch n=0");
    m = fx_batch();
    float bad[8];
    memcpy(bad, obs, sizeof bad);
    bad[3] = NAN;
    m.obs = bad;
    CHECK_RC(proto_encode_batch(&b, &m), PROTO_EINVAL, "batch NaN obs");
    m = fx_batch();
    m.n_actions = 1; /* action 1 out of range */
    CHECK_RC(proto_encode_batch(&b, &m), PROTO_EINVAL, "batch action >= n_actions");
    proto_weights_t w = fx_weights();
    w.n_params = 4;
    CHECK_RC(proto_encode_weights(&b, &w), PROTO_EINVAL, "weights n_params vs arch");
    strcpy(w.arch, "2-x");
    CHECK_RC(proto_encode_weights(&b, &w), PROTO_EINVAL, "weights bad arch");
    proto_query_t q = { .req_id = 1, .temperature = 0, .n = 2, .obs_dim = 4, .obs = obs };
    CHECK_RC(proto_encode_query(&b, &q), PROTO_EINVAL, "query T=0");
    proto_status_t s = fx_status(PROTO_T_BATCH);
    CHECK_RC(proto_encode_status(&b, &s), PROTO_EINVAL, "status with a non-status type");
    proto_error_t e = { .req_id = 1, .code = 0 };
    CHECK_RC(proto_encode_error(&b, &e), PROTO_EINVAL, "error code 0");
    CHECK_RC(proto_encode_stop(NULL, NULL), PROTO_EINVAL, "NULL");
    CHECK(b.len == 0, "len 0 after refusal");
    proto_buf_free(&b);
}

/* Every hostile input, for every decoder. */
static void test_hostile(void) {
    raw_t v = { 0 }, out = { 0 };
    uint8_t g[4096];
    for (int i = 0; i < FX_N; i++) {
        size_t gn = unhex(golden[i], g, sizeof g);
        char label[128];
        /* Truncated at every length. */
        for (size_t n = 0; n < gn; n++) {
            int rc = decode_as(i, g, n);
            snprintf(label, sizeof label, "%s truncated to %zu", fx_decoder[i], n);
            CHECK(n == 0 ? rc == PROTO_EEMPTY : (rc == PROTO_ETRUNC || rc == PROTO_ECOUNT),
                  "%s: got %d (%s)", label, rc, proto_strerror(rc));
            int pt = proto_peek_type(g, n);
            CHECK(pt < 0, "peek of truncated %s: %d", label, pt);
        }
        /* Trailing bytes. */
        uint8_t t[4100];
        memcpy(t, g, gn);
        t[gn] = 0xc0;
        CHECK_RC(decode_as(i, t, gn + 1), PROTO_ETRAILING, "trailing byte");
        CHECK_RC(proto_peek_type(t, gn + 1), PROTO_ETRAILING, "peek trailing byte");
        /* Each key: missing, duplicated, wrong msgpack types. */
        entry_t e[64];
        int ne = entries_of(g, gn, e, 64);
        CHECK(ne > 2, "fixture %d has entries", i);
        for (int k = 0; k < ne; k++) {
            char key[70];
            memcpy(key, e[k].k, e[k].klen);
            key[e[k].klen] = 0;
            mut_t drop = { MU_DROP, key, NULL, 0 }, dup = { MU_DUP, key, NULL, 0 };
            mutate(g, gn, &drop, &out);
            snprintf(label, sizeof label, "%s without %s", fx_decoder[i], key);
            CHECK_RC(decode_as(i, out.b.data, out.b.len), PROTO_EMISSING, label);
            mutate(g, gn, &dup, &out);
            snprintf(label, sizeof label, "%s with %s twice", fx_decoder[i], key);
            CHECK_RC(decode_as(i, out.b.data, out.b.len), PROTO_EDUPKEY, label);
            /* Wrong types: nil, an array, a map and a type unlike the right one. */
            raw_reset(&v); msgpack_pack_nil(&v.pk);
            expect_replace(i, key, &v, PROTO_ETYPE, "= nil");
            raw_reset(&v); msgpack_pack_array(&v.pk, 1); msgpack_pack_uint8(&v.pk, 1);
            expect_replace(i, key, &v, PROTO_ETYPE, "= [1]");
            raw_reset(&v); msgpack_pack_map(&v.pk, 0);
            expect_replace(i, key, &v, PROTO_ETYPE, "= {}");
            raw_reset(&v); msgpack_pack_true(&v.pk);
            expect_replace(i, key, &v, PROTO_ETYPE, "= true");
            mpr_t r;
            mpr_val_t val;
            mpr_init(&r, e[k].v, e[k].vlen);
            mpr_next(&r, &val);
            raw_reset(&v);
            if (val.kind == MPR_STR || val.kind == MPR_BIN) msgpack_pack_float(&v.pk, 1.0f);
            else msgpack_pack_bin_with_body(&v.pk, "abcd", 4);
            int want = PROTO_ETYPE;
            if (!strcmp(key, "v")) want = PROTO_ETYPE;
            expect_replace(i, key, &v, want, "= other type");
            /* A declared length far beyond the frame, as this key's value. */
            raw_reset(&v); raw_hex(&v, "c6 ff ff ff ff 00");
            expect_replace(i, key, &v, PROTO_ECOUNT, "= bin32 declaring 4 GB");
            raw_reset(&v); raw_hex(&v, "dd ff 00 00 00");
            expect_replace(i, key, &v, PROTO_ECOUNT, "= array32 declaring 4 G elements");
            raw_reset(&v); raw_hex(&v, "db ff ff ff ff");
            expect_replace(i, key, &v, PROTO_ECOUNT, "= str32 declaring 4 GB");
        }
        /* Version, type. */
        raw_reset(&v); msgpack_pack_uint8(&v.pk, 2);
        expect_replace(i, "v", &v, PROTO_EVERSION, "= 2");
        raw_reset(&v); msgpack_pack_uint8(&v.pk, 0);
        expect_replace(i, "v", &v, PROTO_EVERSION, "= 0");
        raw_reset(&v); msgpack_pack_int8(&v.pk, -1);
        expect_replace(i, "v", &v, PROTO_EVERSION, "= -1");
        raw_reset(&v); msgpack_pack_str_with_body(&v.pk, "nope", 4);
        expect_replace(i, "t", &v, PROTO_EMSGTYPE, "= \"nope\"");
        raw_reset(&v);
        const char *other = i == FX_STOP ? "batch" : "stop";
        msgpack_pack_str_with_body(&v.pk, other, strlen(other));
        expect_replace(i, "t", &v, PROTO_EWRONGMSG, "= another type");
        /* Unknown keys are skipped, even nested ones; too deep is rejected. */
        raw_reset(&v); raw_hex(&v, "92 a1 78 81 a1 79 c4 02 00 01");
        mut_t add = { MU_ADD, "x_future", v.b.data, v.b.len };
        mutate(g, gn, &add, &out);
        CHECK_RC(decode_as(i, out.b.data, out.b.len), 0, "unknown key ignored");
        raw_reset(&v);
        for (int d = 0; d < PROTO_MAX_DEPTH + 2; d++) msgpack_pack_array(&v.pk, 1);
        msgpack_pack_nil(&v.pk);
        add.val = v.b.data; add.val_len = v.b.len;
        mutate(g, gn, &add, &out);
        CHECK_RC(decode_as(i, out.b.data, out.b.len), PROTO_EMSGPACK, "unknown key nested too deep");
        raw_reset(&v); raw_hex(&v, "c1");
        add.val = v.b.data; add.val_len = v.b.len;
        mutate(g, gn, &add, &out);
        CHECK_RC(decode_as(i, out.b.data, out.b.len), PROTO_EMSGPACK, "byte 0xc1");
        raw_reset(&v); raw_hex(&v, "dd 00 00 ff ff");
        add.val = v.b.data; add.val_len = v.b.len;
        mutate(g, gn, &add, &out);
        CHECK_RC(decode_as(i, out.b.data, out.b.len), PROTO_ECOUNT, "unknown key: array of 65535 in a small frame");
        /* Two unknown keys with one name. */
        raw_reset(&v); msgpack_pack_nil(&v.pk);
        add.key = "zz"; add.val = v.b.data; add.val_len = v.b.len;
        mutate(g, gn, &add, &out);
        {
            raw_t twice = { 0 };
            mut_t dup = { MU_DUP, "zz", NULL, 0 };
            mutate(out.b.data, out.b.len, &dup, &twice);
            CHECK_RC(decode_as(i, twice.b.data, twice.b.len), PROTO_EDUPKEY, "unknown key twice");
            proto_buf_free(&twice.b);
        }
        /* A non-string key and an over-long key. */
        raw_reset(&out);
        msgpack_pack_map(&out.pk, 1);
        msgpack_pack_uint8(&out.pk, 1);
        msgpack_pack_nil(&out.pk);
        CHECK_RC(decode_as(i, out.b.data, out.b.len), PROTO_EKEY, "integer key");
        raw_reset(&out);
        msgpack_pack_map(&out.pk, 1);
        msgpack_pack_str_with_body(&out.pk, "", 0);
        msgpack_pack_nil(&out.pk);
        CHECK_RC(decode_as(i, out.b.data, out.b.len), PROTO_EKEY, "empty key");
        /* Too many keys. */
        raw_reset(&out);
        msgpack_pack_map(&out.pk, PROTO_MAX_KEYS + 1);
        for (unsigned k = 0; k <= PROTO_MAX_KEYS; k++) {
            char kk[8];
            snprintf(kk, sizeof kk, "k%u", k);
            msgpack_pack_str_with_body(&out.pk, kk, strlen(kk));
            msgpack_pack_nil(&out.pk);
        }
        CHECK_RC(decode_as(i, out.b.data, out.b.len), PROTO_ERANGE, "65 keys");
        /* Whole-frame garbage. */
        static const struct { const char *hex; int want; const char *what; } frames[] = {
            { "dd ff 00 00 00", PROTO_ENOTMAP, "array32 header (msgpack-c #1013)" },
            { "df ff ff ff ff", PROTO_ECOUNT, "map32 declaring 4 G entries" },
            { "de ff ff", PROTO_ECOUNT, "map16 declaring 65535 entries" },
            { "c6 ff ff ff ff", PROTO_ENOTMAP, "bin32 declaring 4 GB" },
            { "01", PROTO_ENOTMAP, "an integer" },
            { "a5 68 65 6c 6c 6f", PROTO_ENOTMAP, "a string" },
            { "80", PROTO_EMISSING, "empty map" },
            { "df", PROTO_ETRUNC, "map32 without its count" },
            { "81 a1 76", PROTO_ETRUNC, "map ends after a key" },
            { "82 a1 76 01 a1 74", PROTO_ETRUNC, "map ends after the last key" },
            { "c1", PROTO_ENOTMAP, "0xc1" },
        };
        for (size_t f = 0; f < sizeof frames / sizeof frames[0]; f++) {
            raw_reset(&out);
            raw_hex(&out, frames[f].hex);
            snprintf(label, sizeof label, "%s: %s", fx_decoder[i], frames[f].what);
            CHECK_RC(decode_as(i, out.b.data, out.b.len), frames[f].want, label);
        }
        CHECK_RC(decode_as(i, NULL, 0), PROTO_EEMPTY, "NULL frame");
    }
    /* A frame over the size limit is refused before it is read. */
    {
        size_t big = (size_t)PROTO_MAX_FRAME + 1;
        uint8_t *f = calloc(big, 1);
        if (f) {
            f[0] = 0x80;
            CHECK_RC(proto_decode_batch(f, big, &(proto_batch_t){ 0 }), PROTO_ETOOBIG, "65 MiB frame");
            CHECK_RC(proto_peek_type(f, big), PROTO_ETOOBIG, "peek 65 MiB frame");
            free(f);
        }
    }

    /* Field-specific: shapes, ranges, non-finite floats, strings, arch, crc. */
    float nanv[8], infv[8];
    memcpy(nanv, obs, sizeof nanv);
    memcpy(infv, obs, sizeof infv);
    nanv[5] = NAN;
    infv[0] = -INFINITY;
#define REPL(fx, key, packexpr, want, what) do { raw_reset(&v); packexpr; expect_replace(fx, key, &v, want, what); } while (0)
    /* batch */
    REPL(FX_BATCH, "n", msgpack_pack_uint8(&v.pk, 3), PROTO_ESHAPE, "n larger than the arrays");
    REPL(FX_BATCH, "n", msgpack_pack_uint8(&v.pk, 1), PROTO_ESHAPE, "n smaller than the arrays");
    REPL(FX_BATCH, "n", msgpack_pack_uint8(&v.pk, 0), PROTO_ERANGE, "n = 0");
    REPL(FX_BATCH, "n", msgpack_pack_uint32(&v.pk, PROTO_MAX_N + 1), PROTO_ERANGE, "n over the limit");
    REPL(FX_BATCH, "n", msgpack_pack_int8(&v.pk, -2), PROTO_ERANGE, "n negative");
    REPL(FX_BATCH, "n", msgpack_pack_uint64(&v.pk, UINT64_MAX), PROTO_ERANGE, "n = 2^64-1");
    REPL(FX_BATCH, "obs_dim", msgpack_pack_uint8(&v.pk, 2), PROTO_ESHAPE, "obs_dim disagrees");
    REPL(FX_BATCH, "obs_dim", msgpack_pack_uint16(&v.pk, 1025), PROTO_ERANGE, "obs_dim over the limit");
    REPL(FX_BATCH, "n_act", msgpack_pack_uint16(&v.pk, 257), PROTO_ERANGE, "n_act over the limit");
    REPL(FX_BATCH, "n_act", msgpack_pack_uint8(&v.pk, 1), PROTO_ERANGE, "an action >= n_act");
    REPL(FX_BATCH, "n_ep", msgpack_pack_uint8(&v.pk, 2), PROTO_ESHAPE, "n_ep disagrees");
    REPL(FX_BATCH, "n_ep", msgpack_pack_uint32(&v.pk, PROTO_MAX_EPISODES + 1), PROTO_ERANGE, "n_ep over the limit");
    REPL(FX_BATCH, "obs", msgpack_pack_bin_with_body(&v.pk, obs, 31), PROTO_ESHAPE, "obs one byte short");
    REPL(FX_BATCH, "obs", msgpack_pack_bin_with_body(&v.pk, nanv, 32), PROTO_ENONFINITE, "NaN in obs");
    REPL(FX_BATCH, "obs2", msgpack_pack_bin_with_body(&v.pk, infv, 32), PROTO_ENONFINITE, "-inf in next obs");
    REPL(FX_BATCH, "rew", msgpack_pack_bin_with_body(&v.pk, nanv + 4, 8), PROTO_ENONFINITE, "NaN reward");
    REPL(FX_BATCH, "disc", msgpack_pack_bin_with_body(&v.pk, infv, 8), PROTO_ENONFINITE, "inf discount");
    { float d[2] = { 1.5f, 0 }; REPL(FX_BATCH, "disc", msgpack_pack_bin_with_body(&v.pk, d, 8), PROTO_ERANGE, "discount > 1"); }
    { float d[2] = { -0.1f, 0 }; REPL(FX_BATCH, "disc", msgpack_pack_bin_with_body(&v.pk, d, 8), PROTO_ERANGE, "discount < 0"); }
    { int32_t a[2] = { -1, 0 }; REPL(FX_BATCH, "act", msgpack_pack_bin_with_body(&v.pk, a, 8), PROTO_ERANGE, "action -1"); }
    { float r = NAN; REPL(FX_BATCH, "ep_ret", msgpack_pack_bin_with_body(&v.pk, &r, 4), PROTO_ENONFINITE, "NaN return"); }
    { int32_t l = 0; REPL(FX_BATCH, "ep_len", msgpack_pack_bin_with_body(&v.pk, &l, 4), PROTO_ERANGE, "episode length 0"); }
    REPL(FX_BATCH, "act", msgpack_pack_str_with_body(&v.pk, "abcdefgh", 8), PROTO_ETYPE, "actions as str");
    /* status */
    REPL(FX_HELLO, "pid", msgpack_pack_int32(&v.pk, -5), PROTO_ERANGE, "negative pid");
    REPL(FX_HELLO, "obs_dim", msgpack_pack_uint8(&v.pk, 0), PROTO_ERANGE, "obs_dim 0");
    REPL(FX_HELLO, "id", msgpack_pack_uint64(&v.pk, 1ull << 32), PROTO_ERANGE, "id over 32 bits");
    REPL(FX_HELLO, "host", msgpack_pack_str_with_body(&v.pk, "a\0b", 3), PROTO_ESTRING, "NUL in host");
    {
        char longs[PROTO_MAX_STR + 1];
        memset(longs, 'h', sizeof longs);
        REPL(FX_HELLO, "host", msgpack_pack_str_with_body(&v.pk, longs, sizeof longs), PROTO_ESTRING, "256-byte host");
        REPL(FX_STOP, "reason", msgpack_pack_str_with_body(&v.pk, longs, sizeof longs), PROTO_ESTRING, "256-byte reason");
    }
    REPL(FX_HELLO, "role", msgpack_pack_bin_with_body(&v.pk, "actor", 5), PROTO_ETYPE, "role as bin");
    /* weights */
    REPL(FX_WEIGHTS, "arch", msgpack_pack_str_with_body(&v.pk, "2-2", 3), PROTO_EARCH, "arch disagrees with n_par");
    REPL(FX_WEIGHTS, "arch", msgpack_pack_str_with_body(&v.pk, "two-one", 7), PROTO_EARCH, "arch unparsable");
    REPL(FX_WEIGHTS, "n_par", msgpack_pack_uint32(&v.pk, PROTO_MAX_PARAMS + 1), PROTO_ERANGE, "n_par over the limit");
    REPL(FX_WEIGHTS, "crc", msgpack_pack_uint32(&v.pk, 12345), PROTO_ECRC, "wrong crc");
    REPL(FX_WEIGHTS, "crc", msgpack_pack_uint64(&v.pk, 1ull << 33), PROTO_ERANGE, "crc over 32 bits");
    REPL(FX_WEIGHTS, "par", msgpack_pack_bin_with_body(&v.pk, wparams, 8), PROTO_ESHAPE, "params short");
    {
        float p[3] = { 0.5f, NAN, 0.25f };
        uint8_t g2[512];
        size_t gn2 = unhex(golden[FX_WEIGHTS], g2, sizeof g2);
        /* NaN params with a matching crc: the crc passes, finiteness fails. */
        raw_t a = { 0 }, c = { 0 };
        raw_reset(&a); msgpack_pack_bin_with_body(&a.pk, p, 12);
        mut_t mu = { MU_REPLACE, "par", a.b.data, a.b.len };
        mutate(g2, gn2, &mu, &out);
        raw_reset(&c); msgpack_pack_uint32(&c.pk, ckpt_crc32c(0, p, 12));
        mut_t mc = { MU_REPLACE, "crc", c.b.data, c.b.len };
        raw_t both = { 0 };
        mutate(out.b.data, out.b.len, &mc, &both);
        CHECK_RC(proto_decode_weights(both.b.data, both.b.len, &(proto_weights_t){ 0 }), PROTO_ENONFINITE,
                 "NaN params with valid crc");
        proto_buf_free(&a.b); proto_buf_free(&c.b); proto_buf_free(&both.b);
    }
    /* query / reply */
    REPL(FX_QUERY, "T", msgpack_pack_float(&v.pk, 0.0f), PROTO_ERANGE, "T = 0");
    REPL(FX_QUERY, "T", msgpack_pack_float(&v.pk, -1.0f), PROTO_ERANGE, "T < 0");
    REPL(FX_QUERY, "T", msgpack_pack_float(&v.pk, NAN), PROTO_ENONFINITE, "T NaN");
    REPL(FX_QUERY, "T", msgpack_pack_double(&v.pk, 1e300), PROTO_ENONFINITE, "T overflows float");
    REPL(FX_QUERY, "T", msgpack_pack_double(&v.pk, 0.25), 0, "T as float64 (Python) accepted");
    REPL(FX_QUERY, "T", msgpack_pack_uint8(&v.pk, 1), PROTO_ETYPE, "T as integer");
    REPL(FX_QUERY, "obs", msgpack_pack_bin_with_body(&v.pk, nanv, 32), PROTO_ENONFINITE, "NaN query obs");
    REPL(FX_QUERY, "n", msgpack_pack_uint32(&v.pk, 65536), PROTO_ESHAPE, "query n at the limit, bytes absent");
    REPL(FX_REPLY, "n_act", msgpack_pack_uint8(&v.pk, 1), PROTO_ESHAPE, "reply n_act disagrees");
    { float p[2] = { 0.5f, 1.5f }; REPL(FX_REPLY, "p", msgpack_pack_bin_with_body(&v.pk, p, 8), PROTO_ERANGE, "prob > 1"); }
    REPL(FX_REPLY, "q", msgpack_pack_bin_with_body(&v.pk, infv, 8), PROTO_ENONFINITE, "inf Q");
    /* error / info */
    REPL(FX_ERROR, "code", msgpack_pack_uint8(&v.pk, 0), PROTO_ERANGE, "error code 0");
    REPL(FX_ERROR, "code", msgpack_pack_int64(&v.pk, INT64_MIN), PROTO_ERANGE, "error code below int32");
    REPL(FX_INFO, "n_act", msgpack_pack_uint16(&v.pk, 300), PROTO_ERANGE, "info n_act over the limit");
#undef REPL
    /* peek_req_id never fails. */
    CHECK(proto_peek_req_id(NULL, 0) == 0, "peek_req_id NULL");
    {
        uint8_t q[1024];
        size_t qn = unhex(golden[FX_QUERY], q, sizeof q);
        for (size_t n = 0; n < qn; n++) (void)proto_peek_req_id(q, n);
        CHECK(proto_peek_req_id(q, qn) == 99, "peek_req_id of the golden query");
    }
    CHECK(strcmp(proto_strerror(PROTO_ECRC), proto_strerror(PROTO_ESHAPE)) != 0, "distinct strerror");
    for (int c = PROTO_EEMPTY; c >= PROTO_EINVAL; c--)
        for (int d = c - 1; d >= PROTO_EINVAL; d--)
            CHECK(strcmp(proto_strerror(c), proto_strerror(d)) != 0, "strerror %d vs %d", c, d);
    proto_buf_free(&v.b);
    proto_buf_free(&out.b);
}

static int print_golden(void) {
    proto_buf_t b;
    proto_buf_init(&b);
    for (int i = 0; i < FX_N; i++) {
        if (encode_fixture(i, &b)) return 1;
        printf("    \"");
        print_hex(stdout, b.data, b.len);
        printf("\",\n");
    }
    proto_buf_free(&b);
    return 0;
}

static int write_corpus(const char *dir) {
    proto_buf_t b;
    proto_buf_init(&b);
    mkdir(dir, 0755);
    for (int i = 0; i < FX_N; i++) {
        if (encode_fixture(i, &b)) return 1;
        const char *names[2] = { fx_decoder[i], "peek" };
        for (int k = 0; k < 2; k++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, names[k]);
            mkdir(path, 0755);
            snprintf(path, sizeof path, "%s/%s/seed_%02d", dir, names[k], i);
            FILE *fp = fopen(path, "wb");
            if (!fp || fwrite(b.data, 1, b.len, fp) != b.len) { perror(path); return 1; }
            fclose(fp);
        }
    }
    proto_buf_free(&b);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--print-golden")) return print_golden();
    if (argc > 2 && !strcmp(argv[1], "--write-corpus")) return write_corpus(argv[2]);
    test_golden();
    test_round_trip();
    test_encoder_refuses();
    test_hostile();
    printf("test_proto: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
