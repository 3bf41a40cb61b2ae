/* proto.c — encoders (msgpack-c's packer into a proto_buf_t) and strict
 * decoders (the bounded reader in mpread.c). PROTOCOL.md is the spec. */
#include "proto.h"

#include <math.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "mlp.h"
#include "mpread.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "proto.c assumes a little-endian host (arrays are memcpy'd to and from the wire)"
#endif

const char *proto_strerror(int err) {
    switch (err) {
    case PROTO_OK: return "ok";
    case PROTO_EEMPTY: return "empty frame";
    case PROTO_ETOOBIG: return "frame larger than the protocol limit";
    case PROTO_ETRUNC: return "frame truncated inside a msgpack value";
    case PROTO_ECOUNT: return "declared length or count exceeds the bytes in the frame";
    case PROTO_ETRAILING: return "trailing bytes after the message";
    case PROTO_ENOTMAP: return "message is not a msgpack map";
    case PROTO_EMSGPACK: return "invalid or too deeply nested msgpack";
    case PROTO_EKEY: return "map key is not a string of 1..64 bytes";
    case PROTO_EDUPKEY: return "duplicate key";
    case PROTO_EMISSING: return "required key missing";
    case PROTO_ETYPE: return "field has the wrong msgpack type";
    case PROTO_EVERSION: return "unsupported protocol version";
    case PROTO_EMSGTYPE: return "unknown message type";
    case PROTO_EWRONGMSG: return "message is of another type";
    case PROTO_ERANGE: return "value out of range";
    case PROTO_ESHAPE: return "array byte length inconsistent with its shape";
    case PROTO_ENONFINITE: return "NaN or infinity in a float field";
    case PROTO_ESTRING: return "string too long or contains NUL";
    case PROTO_EARCH: return "bad architecture string or parameter count";
    case PROTO_ECRC: return "weights checksum mismatch";
    case PROTO_ENOMEM: return "out of memory";
    case PROTO_EINVAL: return "invalid message passed to encoder";
    default: return "unknown proto error";
    }
}

static const char *const type_names[PROTO_T_COUNT_] = {
    [PROTO_T_HELLO] = "hello",   [PROTO_T_HEARTBEAT] = "heartbeat", [PROTO_T_GOODBYE] = "goodbye",
    [PROTO_T_BATCH] = "batch",   [PROTO_T_WEIGHTS] = "weights",     [PROTO_T_STOP] = "stop",
    [PROTO_T_QUERY] = "query",   [PROTO_T_REPLY] = "reply",         [PROTO_T_INFO_REQ] = "info_req",
    [PROTO_T_INFO] = "info",     [PROTO_T_ERROR] = "error",
};

const char *proto_type_name(int type) {
    return type > 0 && type < PROTO_T_COUNT_ ? type_names[type] : "?";
}

/* ---- buffer --------------------------------------------------------------- */

void proto_buf_init(proto_buf_t *b) { b->data = NULL; b->len = b->cap = 0; }

int proto_buf_reserve(proto_buf_t *b, size_t want) {
    if (want <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < want) {
        if (cap > SIZE_MAX / 2) { cap = want; break; }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) return PROTO_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

void proto_buf_free(proto_buf_t *b) {
    if (!b) return;
    free(b->data);
    proto_buf_init(b);
}

/* msgpack-c write callback: appends to the proto_buf_t. */
static int buf_write(void *data, const char *src, size_t len) {
    proto_buf_t *b = data;
    if (len > b->cap - b->len && proto_buf_reserve(b, b->len + len)) return -1;
    memcpy(b->data + b->len, src, len);
    b->len += len;
    return 0;
}

/* ---- copying views -------------------------------------------------------- */

void proto_copy_f32(float *dst, const void *src, size_t n) { if (n) memcpy(dst, src, n * 4); }
void proto_copy_i32(int32_t *dst, const void *src, size_t n) { if (n) memcpy(dst, src, n * 4); }
float proto_f32_at(const void *src, size_t i) { float f; memcpy(&f, (const uint8_t *)src + 4 * i, 4); return f; }
int32_t proto_i32_at(const void *src, size_t i) { int32_t x; memcpy(&x, (const uint8_t *)src + 4 * i, 4); return x; }

/* ---- array checks (shared by encoders and decoders) ----------------------- */

/* 1 if all n little-endian float32 at p are finite. Branch-free so it vectorises. */
static int f32_finite(const void *p, size_t n) {
    const uint8_t *q = p;
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t x;
        memcpy(&x, q + 4 * i, 4);
        bad |= (uint32_t)((x & 0x7f800000u) == 0x7f800000u);
    }
    return !bad;
}

/* 1 if all n float32 lie in [lo, hi] (NaN fails). */
static int f32_within(const void *p, size_t n, float lo, float hi) {
    const uint8_t *q = p;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        float f;
        memcpy(&f, q + 4 * i, 4);
        ok &= (f >= lo) & (f <= hi);
    }
    return ok;
}

static int i32_within(const void *p, size_t n, int32_t lo, int32_t hi) {
    const uint8_t *q = p;
    int ok = 1;
    for (size_t i = 0; i < n; i++) {
        int32_t x;
        memcpy(&x, q + 4 * i, 4);
        ok &= (x >= lo) & (x <= hi);
    }
    return ok;
}

static int str_ok(const char *s) { return s && strlen(s) <= PROTO_MAX_STR; }

/* ---- encoders ------------------------------------------------------------- */

typedef struct {
    msgpack_packer pk;
    proto_buf_t *b;
    int err;
} enc_t;

static int enc_begin(enc_t *e, proto_buf_t *b, int type, uint32_t n_fields, size_t body_bytes) {
    e->b = b;
    e->err = 0;
    b->len = 0;
    /* One reservation up front: arrays plus generous room for keys and scalars. */
    if (proto_buf_reserve(b, body_bytes + 512)) return PROTO_ENOMEM;
    msgpack_packer_init(&e->pk, b, buf_write);
    e->err |= msgpack_pack_map(&e->pk, n_fields + 2);
    e->err |= msgpack_pack_str_with_body(&e->pk, "v", 1);
    e->err |= msgpack_pack_uint32(&e->pk, PROTO_VERSION);
    e->err |= msgpack_pack_str_with_body(&e->pk, "t", 1);
    const char *name = type_names[type];
    e->err |= msgpack_pack_str_with_body(&e->pk, name, strlen(name));
    return 0;
}

static void key(enc_t *e, const char *k) { e->err |= msgpack_pack_str_with_body(&e->pk, k, strlen(k)); }
static void put_u64(enc_t *e, const char *k, uint64_t x) { key(e, k); e->err |= msgpack_pack_uint64(&e->pk, x); }
static void put_i64(enc_t *e, const char *k, int64_t x) { key(e, k); e->err |= msgpack_pack_int64(&e->pk, x); }
static void put_f32(enc_t *e, const char *k, float x) { key(e, k); e->err |= msgpack_pack_float(&e->pk, x); }
static void put_str(enc_t *e, const char *k, const char *s) {
    key(e, k);
    e->err |= msgpack_pack_str_with_body(&e->pk, s, strlen(s));
}
static void put_bin(enc_t *e, const char *k, const void *p, size_t bytes) {
    key(e, k);
    e->err |= msgpack_pack_bin_with_body(&e->pk, bytes ? p : "", bytes);
}

static int enc_end(enc_t *e) {
    if (e->err) { e->b->len = 0; return PROTO_ENOMEM; }
    return 0;
}

static int fail_inval(proto_buf_t *b) { if (b) b->len = 0; return PROTO_EINVAL; }

int proto_encode_status(proto_buf_t *b, const proto_status_t *m) {
    if (!b || !m) return fail_inval(b);
    if ((m->type != PROTO_T_HELLO && m->type != PROTO_T_HEARTBEAT && m->type != PROTO_T_GOODBYE)
        || !str_ok(m->role) || !str_ok(m->host) || m->pid < 0
        || m->obs_dim < 1 || m->obs_dim > PROTO_MAX_OBS_DIM
        || m->n_actions < 1 || m->n_actions > PROTO_MAX_ACTIONS || !(m->eps >= 0.0f && m->eps <= 1.0f))
        return fail_inval(b);
    enc_t e;
    if (enc_begin(&e, b, m->type, 10 + (m->eps > 0.0f), 2 * PROTO_MAX_STR)) return PROTO_ENOMEM;
    put_str(&e, "role", m->role);
    put_u64(&e, "id", m->id);
    put_str(&e, "host", m->host);
    put_i64(&e, "pid", m->pid);
    put_u64(&e, "obs_dim", m->obs_dim);
    put_u64(&e, "n_act", m->n_actions);
    put_u64(&e, "n_envs", m->n_envs);
    put_u64(&e, "seq", m->seq);
    put_u64(&e, "steps", m->env_steps);
    put_u64(&e, "pv", m->policy_version);
    if (m->eps > 0.0f)
        put_f32(&e, "eps", m->eps);
    return enc_end(&e);
}

int proto_encode_batch(proto_buf_t *b, const proto_batch_t *m) {
    if (!b || !m) return fail_inval(b);
    if (m->n < 1 || m->n > PROTO_MAX_N || m->obs_dim < 1 || m->obs_dim > PROTO_MAX_OBS_DIM
        || m->n_actions < 1 || m->n_actions > PROTO_MAX_ACTIONS || m->n_episodes > PROTO_MAX_EPISODES
        || !m->obs || !m->actions || !m->rewards || !m->next_obs || !m->discounts
        || (m->n_episodes && (!m->ep_returns || !m->ep_lengths)))
        return fail_inval(b);
    size_t no = (size_t)m->n * m->obs_dim, n = m->n, ne = m->n_episodes;
    if (!f32_finite(m->obs, no) || !f32_finite(m->next_obs, no) || !f32_finite(m->rewards, n)
        || !f32_within(m->discounts, n, 0.0f, 1.0f) || !i32_within(m->actions, n, 0, (int32_t)m->n_actions - 1)
        || !f32_finite(m->ep_returns, ne) || !i32_within(m->ep_lengths, ne, 1, INT32_MAX))
        return fail_inval(b);
    enc_t e;
    if (enc_begin(&e, b, PROTO_T_BATCH, 14, 4 * (2 * no + 3 * n + 2 * ne))) return PROTO_ENOMEM;
    put_u64(&e, "actor", m->actor_id);
    put_u64(&e, "seq", m->seq);
    put_u64(&e, "pv", m->policy_version);
    put_u64(&e, "n", m->n);
    put_u64(&e, "obs_dim", m->obs_dim);
    put_u64(&e, "n_act", m->n_actions);
    put_bin(&e, "obs", m->obs, 4 * no);
    put_bin(&e, "act", m->actions, 4 * n);
    put_bin(&e, "rew", m->rewards, 4 * n);
    put_bin(&e, "obs2", m->next_obs, 4 * no);
    put_bin(&e, "disc", m->discounts, 4 * n);
    put_u64(&e, "n_ep", m->n_episodes);
    put_bin(&e, "ep_ret", m->ep_returns, 4 * ne);
    put_bin(&e, "ep_len", m->ep_lengths, 4 * ne);
    return enc_end(&e);
}

int proto_encode_weights(proto_buf_t *b, const proto_weights_t *m) {
    if (!b || !m) return fail_inval(b);
    mlp_arch_t arch;
    if (!str_ok(m->arch) || mlp_arch_parse(&arch, m->arch) != 0 || arch.n_params != m->n_params
        || m->n_params < 1 || m->n_params > PROTO_MAX_PARAMS || !m->params
        || !f32_finite(m->params, m->n_params))
        return fail_inval(b);
    size_t bytes = 4 * (size_t)m->n_params;
    enc_t e;
    if (enc_begin(&e, b, PROTO_T_WEIGHTS, 5, bytes)) return PROTO_ENOMEM;
    put_u64(&e, "ver", m->version);
    put_str(&e, "arch", m->arch);
    put_u64(&e, "n_par", m->n_params);
    put_bin(&e, "par", m->params, bytes);
    put_u64(&e, "crc", ckpt_crc32c(0, m->params, bytes));
    return enc_end(&e);
}

int proto_encode_stop(proto_buf_t *b, const proto_stop_t *m) {
    if (!b || !m || !str_ok(m->reason)) return fail_inval(b);
    enc_t e;
    if (enc_begin(&e, b, PROTO_T_STOP, 1, PROTO_MAX_STR)) return PROTO_ENOMEM;
    put_str(&e, "reason", m->reason);
    return enc_end(&e);
}

int proto_encode_query(proto_buf_t *b, const proto_query_t *m) {
    if (!b || !m) return fail_inval(b);
    if (!isfinite(m->temperature) || !(m->temperature > 0) || m->n < 1 || m->n > PROTO_MAX_N
        || m->obs_dim < 1 || m->obs_dim > PROTO_MAX_OBS_DIM || !m->obs)
        return fail_inval(b);
    size_t no = (size_t)m->n * m->obs_dim;
    if (!f32_finite(m->obs, no)) return fail_inval(b);
    enc_t e;
    if (enc_begin(&e, b, PROTO_T_QUERY, 5, 4 * no)) return PROTO_ENOMEM;
    put_u64(&e, "id", m->req_id);
    put_f32(&e, "T", m->temperature);
    put_u64(&e, "n", m->n);
    put_u64(&e, "obs_dim", m->obs_dim);
    put_bin(&e, "obs", m->obs, 4 * no);
    return enc_end(&e);
}

int proto_encode_reply(proto_buf_t *b, const proto_reply_t *m) {
    if (!b || !m) return fail_inval(b);
    if (m->n < 1 || m->n > PROTO_MAX_N || m->n_actions < 1 || m->n_actions > PROTO_MAX_ACTIONS
        || !m->q || !m->probs)
        return fail_inval(b);
    size_t na = (size_t)m->n * m->n_actions;
    if (!f32_finite(m->q, na) || !f32_within(m->probs, na, 0.0f, 1.0f)) return fail_inval(b);
    enc_t e;
    if (enc_begin(&e, b, PROTO_T_REPLY, 5, 8 * na)) return PROTO_ENOMEM;
    put_u64(&e, "id", m->req_id);
    put_u64(&e, "n", m->n);
    put_u64(&e, "n_act", m->n_actions);
    put_bin(&e, "q", m->q, 4 * na);
    put_bin(&e, "p", m->probs, 4 * na);
    return enc_end(&e);
}

int proto_encode_info_req(proto_buf_t *b, const proto_info_req_t *m) {
    if (!b || !m) return fail_inval(b);
    enc_t e;
    if (enc_begin(&e, b, PROTO_T_INFO_REQ, 1, 0)) return PROTO_ENOMEM;
    put_u64(&e, "id", m->req_id);
    return enc_end(&e);
}

int proto_encode_info(proto_buf_t *b, const proto_info_t *m) {
    if (!b || !m) return fail_inval(b);
    if (!str_ok(m->arch) || m->obs_dim < 1 || m->obs_dim > PROTO_MAX_OBS_DIM
        || m->n_actions < 1 || m->n_actions > PROTO_MAX_ACTIONS)
        return fail_inval(b);
    enc_t e;
    if (enc_begin(&e, b, PROTO_T_INFO, 7, PROTO_MAX_STR)) return PROTO_ENOMEM;
    put_u64(&e, "id", m->req_id);
    put_str(&e, "arch", m->arch);
    put_u64(&e, "obs_dim", m->obs_dim);
    put_u64(&e, "n_act", m->n_actions);
    put_u64(&e, "crc", m->model_crc);
    put_u64(&e, "n_req", m->served_requests);
    put_u64(&e, "n_states", m->served_states);
    return enc_end(&e);
}

int proto_encode_error(proto_buf_t *b, const proto_error_t *m) {
    if (!b || !m || m->code >= 0) return fail_inval(b);
    /* Text is truncated rather than refused: an error reply must always go out. */
    size_t tl = strnlen(m->text, PROTO_MAX_STR);
    enc_t e;
    if (enc_begin(&e, b, PROTO_T_ERROR, 3, PROTO_MAX_STR)) return PROTO_ENOMEM;
    put_u64(&e, "id", m->req_id);
    put_i64(&e, "code", m->code);
    key(&e, "text");
    e.err |= msgpack_pack_str_with_body(&e.pk, m->text, tl);
    return enc_end(&e);
}

/* ---- decoding: one pass over the top-level map ---------------------------- */

typedef struct {
    const char *name;
    uint8_t len;
} pkey_t;
#define K(s) { s, (uint8_t)(sizeof(s) - 1) }
#define MAX_FIELDS 16

typedef struct {
    mpr_val_t val[MAX_FIELDS];   /* by index in the message's key list */
    uint32_t present;            /* bit i: key i seen */
    mpr_val_t v, t;              /* the common "v" and "t" */
    int has_v, has_t;
} scan_t;

static int type_from_str(const mpr_val_t *t) {
    for (int k = 1; k < PROTO_T_COUNT_; k++) {
        size_t l = strlen(type_names[k]);
        if (t->len == l && memcmp(t->ptr, type_names[k], l) == 0) return k;
    }
    return PROTO_EMSGTYPE;
}

/* Walks the whole map: structure, key syntax, duplicates, trailing bytes;
 * records the values of "v", "t" and keys[0..nkeys). Values of known keys
 * must be scalars, str or bin (their bodies are views). Unknown keys' values
 * are skipped. */
static int scan_map(const uint8_t *f, size_t len, const pkey_t *keys, int nkeys, scan_t *s) {
    s->present = 0;
    s->has_v = s->has_t = 0;
    if (!f || len == 0) return PROTO_EEMPTY;
    if (len > PROTO_MAX_FRAME) return PROTO_ETOOBIG;
    mpr_t r;
    mpr_init(&r, f, len);
    /* Decide map-or-not from the first byte, before any declared count is read. */
    if (!((f[0] >= 0x80 && f[0] <= 0x8f) || f[0] == 0xde || f[0] == 0xdf)) return PROTO_ENOTMAP;
    mpr_val_t m;
    int rc = mpr_next(&r, &m);
    if (rc) return rc;
    if (m.len > PROTO_MAX_KEYS) return PROTO_ERANGE;
    /* Unknown keys seen so far, for the duplicate check. */
    const uint8_t *unk_ptr[PROTO_MAX_KEYS];
    uint32_t unk_len[PROTO_MAX_KEYS];
    int n_unk = 0;
    for (uint32_t e = 0; e < m.len; e++) {
        mpr_val_t k;
        if ((rc = mpr_next(&r, &k))) return rc;
        if (k.kind != MPR_STR || k.len < 1 || k.len > 64) return PROTO_EKEY;
        mpr_val_t *slot = NULL;
        if (k.len == 1 && k.ptr[0] == 'v') {
            if (s->has_v) return PROTO_EDUPKEY;
            s->has_v = 1;
            slot = &s->v;
        } else if (k.len == 1 && k.ptr[0] == 't') {
            if (s->has_t) return PROTO_EDUPKEY;
            s->has_t = 1;
            slot = &s->t;
        } else {
            for (int i = 0; i < nkeys; i++) {
                if (keys[i].len == k.len && memcmp(keys[i].name, k.ptr, k.len) == 0) {
                    if (s->present & (1u << i)) return PROTO_EDUPKEY;
                    s->present |= 1u << i;
                    slot = &s->val[i];
                    break;
                }
            }
        }
        if (slot) {
            if ((rc = mpr_next(&r, slot))) return rc;
            if (slot->kind == MPR_ARRAY || slot->kind == MPR_MAP) return PROTO_ETYPE;
            continue;
        }
        for (int i = 0; i < n_unk; i++)
            if (unk_len[i] == k.len && memcmp(unk_ptr[i], k.ptr, k.len) == 0) return PROTO_EDUPKEY;
        unk_ptr[n_unk] = k.ptr;
        unk_len[n_unk++] = k.len;
        if ((rc = mpr_skip(&r, PROTO_MAX_DEPTH))) return rc;
    }
    if (r.p != r.end) return PROTO_ETRAILING;
    return 0;
}

/* Checks "v" and "t"; returns the message type (> 0) or an error. */
static int check_header(const scan_t *s) {
    if (!s->has_v || !s->has_t) return PROTO_EMISSING;
    if (s->v.kind != MPR_UINT && s->v.kind != MPR_NEGINT) return PROTO_ETYPE;
    if (s->v.kind != MPR_UINT || s->v.u != PROTO_VERSION) return PROTO_EVERSION;
    if (s->t.kind != MPR_STR) return PROTO_ETYPE;
    return type_from_str(&s->t);
}

/* Scans a frame that must be of type want (or, for want == 0, a status type)
 * and carry every one of keys[0..nkeys) except those in the optional bit mask.
 * Returns the type or an error. */
static int scan_msg_opt(const uint8_t *f, size_t len, const pkey_t *keys, int nkeys, uint32_t optional,
                        int want, scan_t *s) {
    int rc = scan_map(f, len, keys, nkeys, s);
    if (rc) return rc;
    int type = check_header(s);
    if (type < 0) return type;
    if (want ? type != want : (type != PROTO_T_HELLO && type != PROTO_T_HEARTBEAT && type != PROTO_T_GOODBYE))
        return PROTO_EWRONGMSG;
    if ((s->present | optional) != (nkeys == 32 ? 0xffffffffu : (1u << nkeys) - 1)) return PROTO_EMISSING;
    return type;
}
static int scan_msg(const uint8_t *f, size_t len, const pkey_t *keys, int nkeys, int want, scan_t *s) {
    return scan_msg_opt(f, len, keys, nkeys, 0, want, s);
}

int proto_peek_type(const uint8_t *frame, size_t len) {
    scan_t s;
    int rc = scan_map(frame, len, NULL, 0, &s);
    return rc ? rc : check_header(&s);
}

uint64_t proto_peek_req_id(const uint8_t *frame, size_t len) {
    static const pkey_t keys[] = { K("id") };
    scan_t s;
    s.val[0].kind = MPR_NIL;
    (void)scan_map(frame, len, keys, 1, &s);
    return (s.present & 1) && s.val[0].kind == MPR_UINT ? s.val[0].u : 0;
}

/* Field readers: ETYPE for a wrong msgpack type, ERANGE outside [lo, hi]. */
static int get_u64(const mpr_val_t *v, uint64_t lo, uint64_t hi, uint64_t *out) {
    if (v->kind == MPR_NEGINT) return PROTO_ERANGE;
    if (v->kind != MPR_UINT) return PROTO_ETYPE;
    if (v->u < lo || v->u > hi) return PROTO_ERANGE;
    *out = v->u;
    return 0;
}
static int get_u32(const mpr_val_t *v, uint32_t lo, uint32_t hi, uint32_t *out) {
    uint64_t x;
    int rc = get_u64(v, lo, hi, &x);
    if (!rc) *out = (uint32_t)x;
    return rc;
}
static int get_i64(const mpr_val_t *v, int64_t lo, int64_t hi, int64_t *out) {
    int64_t x;
    if (v->kind == MPR_UINT) {
        if (v->u > (uint64_t)INT64_MAX) return PROTO_ERANGE;
        x = (int64_t)v->u;
    } else if (v->kind == MPR_NEGINT) {
        x = v->i;
    } else {
        return PROTO_ETYPE;
    }
    if (x < lo || x > hi) return PROTO_ERANGE;
    *out = x;
    return 0;
}
/* float32 or float64 on the wire (Python packs float64); must be finite as a float. */
static int get_f32(const mpr_val_t *v, float *out) {
    if (v->kind != MPR_F32 && v->kind != MPR_F64) return PROTO_ETYPE;
    float f = (float)v->f;
    if (!isfinite(v->f) || !isfinite(f)) return PROTO_ENONFINITE;
    *out = f;
    return 0;
}
static int get_str(const mpr_val_t *v, char *out) {
    if (v->kind != MPR_STR) return PROTO_ETYPE;
    if (v->len > PROTO_MAX_STR || (v->len && memchr(v->ptr, 0, v->len))) return PROTO_ESTRING;
    memcpy(out, v->ptr, v->len);
    out[v->len] = 0;
    return 0;
}
static int get_bin(const mpr_val_t *v, size_t bytes, const void **out) {
    if (v->kind != MPR_BIN) return PROTO_ETYPE;
    if (v->len != bytes) return PROTO_ESHAPE;
    *out = v->ptr;
    return 0;
}

#define TRY(x) do { int rc_ = (x); if (rc_) return rc_; } while (0)

static const pkey_t status_keys[] = {
    K("role"), K("id"), K("host"), K("pid"), K("obs_dim"), K("n_act"), K("n_envs"), K("seq"), K("steps"), K("pv"),
    K("eps"),
};
/* "eps" is optional (learners do not explore): a frame without it decodes with eps = 0 */
enum { S_ROLE, S_ID, S_HOST, S_PID, S_OBS_DIM, S_N_ACT, S_N_ENVS, S_SEQ, S_STEPS, S_PV, S_EPS, S_N_ };

int proto_decode_status(const uint8_t *frame, size_t len, proto_status_t *m) {
    scan_t s;
    int type = scan_msg_opt(frame, len, status_keys, S_N_, 1u << S_EPS, 0, &s);
    if (type < 0) return type;
    const mpr_val_t *v = s.val;
    m->type = type;
    m->eps = 0.0f;
    if (s.present & (1u << S_EPS)) {
        TRY(get_f32(&v[S_EPS], &m->eps));
        if (m->eps < 0.0f || m->eps > 1.0f) return PROTO_ERANGE;
    }
    int64_t pid;
    TRY(get_str(&v[S_ROLE], m->role));
    TRY(get_u32(&v[S_ID], 0, UINT32_MAX, &m->id));
    TRY(get_str(&v[S_HOST], m->host));
    TRY(get_i64(&v[S_PID], 0, INT64_MAX, &pid));
    m->pid = pid;
    TRY(get_u32(&v[S_OBS_DIM], 1, PROTO_MAX_OBS_DIM, &m->obs_dim));
    TRY(get_u32(&v[S_N_ACT], 1, PROTO_MAX_ACTIONS, &m->n_actions));
    TRY(get_u32(&v[S_N_ENVS], 0, UINT32_MAX, &m->n_envs));
    TRY(get_u64(&v[S_SEQ], 0, UINT64_MAX, &m->seq));
    TRY(get_u64(&v[S_STEPS], 0, UINT64_MAX, &m->env_steps));
    TRY(get_u64(&v[S_PV], 0, UINT64_MAX, &m->policy_version));
    return 0;
}

static const pkey_t batch_keys[] = {
    K("actor"), K("seq"), K("pv"), K("n"), K("obs_dim"), K("n_act"), K("obs"), K("act"), K("rew"),
    K("obs2"), K("disc"), K("n_ep"), K("ep_ret"), K("ep_len"),
};
enum { B_ACTOR, B_SEQ, B_PV, B_N, B_OBS_DIM, B_N_ACT, B_OBS, B_ACT, B_REW, B_OBS2, B_DISC, B_N_EP,
       B_EP_RET, B_EP_LEN, B_N_ };

int proto_decode_batch(const uint8_t *frame, size_t len, proto_batch_t *m) {
    scan_t s;
    int type = scan_msg(frame, len, batch_keys, B_N_, PROTO_T_BATCH, &s);
    if (type < 0) return type;
    const mpr_val_t *v = s.val;
    TRY(get_u32(&v[B_ACTOR], 0, UINT32_MAX, &m->actor_id));
    TRY(get_u64(&v[B_SEQ], 0, UINT64_MAX, &m->seq));
    TRY(get_u64(&v[B_PV], 0, UINT64_MAX, &m->policy_version));
    TRY(get_u32(&v[B_N], 1, PROTO_MAX_N, &m->n));
    TRY(get_u32(&v[B_OBS_DIM], 1, PROTO_MAX_OBS_DIM, &m->obs_dim));
    TRY(get_u32(&v[B_N_ACT], 1, PROTO_MAX_ACTIONS, &m->n_actions));
    TRY(get_u32(&v[B_N_EP], 0, PROTO_MAX_EPISODES, &m->n_episodes));
    size_t n = m->n, no = n * m->obs_dim, ne = m->n_episodes;
    TRY(get_bin(&v[B_OBS], 4 * no, &m->obs));
    TRY(get_bin(&v[B_ACT], 4 * n, &m->actions));
    TRY(get_bin(&v[B_REW], 4 * n, &m->rewards));
    TRY(get_bin(&v[B_OBS2], 4 * no, &m->next_obs));
    TRY(get_bin(&v[B_DISC], 4 * n, &m->discounts));
    TRY(get_bin(&v[B_EP_RET], 4 * ne, &m->ep_returns));
    TRY(get_bin(&v[B_EP_LEN], 4 * ne, &m->ep_lengths));
    if (!f32_finite(m->obs, no) || !f32_finite(m->next_obs, no) || !f32_finite(m->rewards, n)
        || !f32_finite(m->discounts, n) || !f32_finite(m->ep_returns, ne))
        return PROTO_ENONFINITE;
    if (!f32_within(m->discounts, n, 0.0f, 1.0f) || !i32_within(m->actions, n, 0, (int32_t)m->n_actions - 1)
        || !i32_within(m->ep_lengths, ne, 1, INT32_MAX))
        return PROTO_ERANGE;
    return 0;
}

static const pkey_t weights_keys[] = { K("ver"), K("arch"), K("n_par"), K("par"), K("crc") };
enum { W_VER, W_ARCH, W_N_PAR, W_PAR, W_CRC, W_N_ };

int proto_decode_weights(const uint8_t *frame, size_t len, proto_weights_t *m) {
    scan_t s;
    int type = scan_msg(frame, len, weights_keys, W_N_, PROTO_T_WEIGHTS, &s);
    if (type < 0) return type;
    const mpr_val_t *v = s.val;
    TRY(get_u64(&v[W_VER], 0, UINT64_MAX, &m->version));
    TRY(get_str(&v[W_ARCH], m->arch));
    TRY(get_u32(&v[W_N_PAR], 1, PROTO_MAX_PARAMS, &m->n_params));
    TRY(get_u32(&v[W_CRC], 0, UINT32_MAX, &m->crc));
    mlp_arch_t arch;
    if (mlp_arch_parse(&arch, m->arch) != 0 || arch.n_params != m->n_params) return PROTO_EARCH;
    size_t bytes = 4 * (size_t)m->n_params;
    TRY(get_bin(&v[W_PAR], bytes, &m->params));
    if (ckpt_crc32c(0, m->params, bytes) != m->crc) return PROTO_ECRC;
    if (!f32_finite(m->params, m->n_params)) return PROTO_ENONFINITE;
    return 0;
}

static const pkey_t stop_keys[] = { K("reason") };

int proto_decode_stop(const uint8_t *frame, size_t len, proto_stop_t *m) {
    scan_t s;
    int type = scan_msg(frame, len, stop_keys, 1, PROTO_T_STOP, &s);
    if (type < 0) return type;
    return get_str(&s.val[0], m->reason);
}

static const pkey_t query_keys[] = { K("id"), K("T"), K("n"), K("obs_dim"), K("obs") };
enum { Q_ID, Q_T, Q_N, Q_OBS_DIM, Q_OBS, Q_N_ };

int proto_decode_query(const uint8_t *frame, size_t len, proto_query_t *m) {
    scan_t s;
    int type = scan_msg(frame, len, query_keys, Q_N_, PROTO_T_QUERY, &s);
    if (type < 0) return type;
    const mpr_val_t *v = s.val;
    TRY(get_u64(&v[Q_ID], 0, UINT64_MAX, &m->req_id));
    TRY(get_f32(&v[Q_T], &m->temperature));
    if (!(m->temperature > 0)) return PROTO_ERANGE;
    TRY(get_u32(&v[Q_N], 1, PROTO_MAX_N, &m->n));
    TRY(get_u32(&v[Q_OBS_DIM], 1, PROTO_MAX_OBS_DIM, &m->obs_dim));
    size_t no = (size_t)m->n * m->obs_dim;
    TRY(get_bin(&v[Q_OBS], 4 * no, &m->obs));
    if (!f32_finite(m->obs, no)) return PROTO_ENONFINITE;
    return 0;
}

static const pkey_t reply_keys[] = { K("id"), K("n"), K("n_act"), K("q"), K("p") };
enum { R_ID, R_N, R_N_ACT, R_Q, R_P, R_N_ };

int proto_decode_reply(const uint8_t *frame, size_t len, proto_reply_t *m) {
    scan_t s;
    int type = scan_msg(frame, len, reply_keys, R_N_, PROTO_T_REPLY, &s);
    if (type < 0) return type;
    const mpr_val_t *v = s.val;
    TRY(get_u64(&v[R_ID], 0, UINT64_MAX, &m->req_id));
    TRY(get_u32(&v[R_N], 1, PROTO_MAX_N, &m->n));
    TRY(get_u32(&v[R_N_ACT], 1, PROTO_MAX_ACTIONS, &m->n_actions));
    size_t na = (size_t)m->n * m->n_actions;
    TRY(get_bin(&v[R_Q], 4 * na, &m->q));
    TRY(get_bin(&v[R_P], 4 * na, &m->probs));
    if (!f32_finite(m->q, na) || !f32_finite(m->probs, na)) return PROTO_ENONFINITE;
    if (!f32_within(m->probs, na, 0.0f, 1.0f)) return PROTO_ERANGE;
    return 0;
}

static const pkey_t info_req_keys[] = { K("id") };

int proto_decode_info_req(const uint8_t *frame, size_t len, proto_info_req_t *m) {
    scan_t s;
    int type = scan_msg(frame, len, info_req_keys, 1, PROTO_T_INFO_REQ, &s);
    if (type < 0) return type;
    return get_u64(&s.val[0], 0, UINT64_MAX, &m->req_id);
}

static const pkey_t info_keys[] = {
    K("id"), K("arch"), K("obs_dim"), K("n_act"), K("crc"), K("n_req"), K("n_states"),
};
enum { I_ID, I_ARCH, I_OBS_DIM, I_N_ACT, I_CRC, I_N_REQ, I_N_STATES, I_N_ };

int proto_decode_info(const uint8_t *frame, size_t len, proto_info_t *m) {
    scan_t s;
    int type = scan_msg(frame, len, info_keys, I_N_, PROTO_T_INFO, &s);
    if (type < 0) return type;
    const mpr_val_t *v = s.val;
    TRY(get_u64(&v[I_ID], 0, UINT64_MAX, &m->req_id));
    TRY(get_str(&v[I_ARCH], m->arch));
    TRY(get_u32(&v[I_OBS_DIM], 1, PROTO_MAX_OBS_DIM, &m->obs_dim));
    TRY(get_u32(&v[I_N_ACT], 1, PROTO_MAX_ACTIONS, &m->n_actions));
    TRY(get_u32(&v[I_CRC], 0, UINT32_MAX, &m->model_crc));
    TRY(get_u64(&v[I_N_REQ], 0, UINT64_MAX, &m->served_requests));
    TRY(get_u64(&v[I_N_STATES], 0, UINT64_MAX, &m->served_states));
    return 0;
}

static const pkey_t error_keys[] = { K("id"), K("code"), K("text") };
enum { E_ID, E_CODE, E_TEXT, E_N_ };

int proto_decode_error(const uint8_t *frame, size_t len, proto_error_t *m) {
    scan_t s;
    int type = scan_msg(frame, len, error_keys, E_N_, PROTO_T_ERROR, &s);
    if (type < 0) return type;
    const mpr_val_t *v = s.val;
    int64_t code;
    TRY(get_u64(&v[E_ID], 0, UINT64_MAX, &m->req_id));
    TRY(get_i64(&v[E_CODE], INT32_MIN, -1, &code));
    m->code = (int32_t)code;
    return get_str(&v[E_TEXT], m->text);
}
