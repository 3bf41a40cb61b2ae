/* mpread.c — bounded msgpack reader (see mpread.h). Multi-byte msgpack
 * numbers are big-endian. */
#include "mpread.h"

#include <string.h>

#include "proto.h"

static uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static uint64_t be64(const uint8_t *p) { return ((uint64_t)be32(p) << 32) | be32(p + 4); }

/* Takes a body of len bytes as a view. */
static int take_body(mpr_t *r, mpr_val_t *v, uint32_t len) {
    if ((size_t)len > mpr_left(r)) return PROTO_ECOUNT;
    v->ptr = r->p;
    v->len = len;
    r->p += len;
    return 0;
}

/* Reads an n-byte big-endian length field. */
static int take_len(mpr_t *r, int nbytes, uint32_t *out) {
    if (mpr_left(r) < (size_t)nbytes) return PROTO_ETRUNC;
    *out = nbytes == 1 ? r->p[0] : nbytes == 2 ? be16(r->p) : be32(r->p);
    r->p += nbytes;
    return 0;
}

static int set_count(mpr_t *r, mpr_val_t *v, mpr_kind_t kind, uint32_t count) {
    /* The cheapest element is one byte; a map entry is a key and a value. */
    uint64_t min_bytes = kind == MPR_MAP ? 2 * (uint64_t)count : count;
    if (min_bytes > mpr_left(r)) return PROTO_ECOUNT;
    v->kind = kind;
    v->len = count;
    return 0;
}

int mpr_next(mpr_t *r, mpr_val_t *v) {
    if (r->p >= r->end) return PROTO_ETRUNC;
    uint8_t b = *r->p++;
    uint32_t n;
    int rc;
    v->ptr = NULL;
    v->len = 0;
    if (b <= 0x7f) { v->kind = MPR_UINT; v->u = b; return 0; }
    if (b >= 0xe0) { v->kind = MPR_NEGINT; v->i = (int8_t)b; return 0; }
    if (b >= 0x80 && b <= 0x8f) return set_count(r, v, MPR_MAP, b & 0x0f);
    if (b >= 0x90 && b <= 0x9f) return set_count(r, v, MPR_ARRAY, b & 0x0f);
    if (b >= 0xa0 && b <= 0xbf) { v->kind = MPR_STR; return take_body(r, v, b & 0x1f); }

    /* Fixed-size payloads after the type byte. */
    static const uint8_t fixed[0x20] = {
        [0x00] = 0, [0x02] = 0, [0x03] = 0,            /* nil, false, true */
        [0x0a] = 4, [0x0b] = 8,                        /* float32, float64 */
        [0x0c] = 1, [0x0d] = 2, [0x0e] = 4, [0x0f] = 8, /* uint8..64 */
        [0x10] = 1, [0x11] = 2, [0x12] = 4, [0x13] = 8, /* int8..64 */
        [0x14] = 2, [0x15] = 3, [0x16] = 5, [0x17] = 9, [0x18] = 17, /* fixext 1..16 (+type) */
    };
    switch (b) {
    case 0xc0: v->kind = MPR_NIL; return 0;
    case 0xc1: return PROTO_EMSGPACK;
    case 0xc2: case 0xc3: v->kind = MPR_BOOL; v->u = b & 1; return 0;
    case 0xc4: case 0xc5: case 0xc6:
        if ((rc = take_len(r, 1 << (b - 0xc4), &n))) return rc;
        v->kind = MPR_BIN;
        return take_body(r, v, n);
    case 0xc7: case 0xc8: case 0xc9:
        if ((rc = take_len(r, 1 << (b - 0xc7), &n))) return rc;
        if (mpr_left(r) < 1) return PROTO_ETRUNC;
        r->p++; /* ext type */
        v->kind = MPR_EXT;
        return take_body(r, v, n);
    case 0xd9: case 0xda: case 0xdb:
        if ((rc = take_len(r, 1 << (b - 0xd9), &n))) return rc;
        v->kind = MPR_STR;
        return take_body(r, v, n);
    case 0xdc: case 0xdd:
        if ((rc = take_len(r, b == 0xdc ? 2 : 4, &n))) return rc;
        return set_count(r, v, MPR_ARRAY, n);
    case 0xde: case 0xdf:
        if ((rc = take_len(r, b == 0xde ? 2 : 4, &n))) return rc;
        return set_count(r, v, MPR_MAP, n);
    default: break;
    }
    /* Remaining: 0xca..0xd8 (floats, ints, fixext). */
    size_t need = fixed[b - 0xc0];
    if (mpr_left(r) < need) return PROTO_ETRUNC;
    const uint8_t *p = r->p;
    r->p += need;
    switch (b) {
    case 0xca: { uint32_t x = be32(p); float f; memcpy(&f, &x, 4); v->kind = MPR_F32; v->f = f; return 0; }
    case 0xcb: { uint64_t x = be64(p); double d; memcpy(&d, &x, 8); v->kind = MPR_F64; v->f = d; return 0; }
    case 0xcc: v->kind = MPR_UINT; v->u = p[0]; return 0;
    case 0xcd: v->kind = MPR_UINT; v->u = be16(p); return 0;
    case 0xce: v->kind = MPR_UINT; v->u = be32(p); return 0;
    case 0xcf: v->kind = MPR_UINT; v->u = be64(p); return 0;
    default: break;
    }
    if (b >= 0xd0 && b <= 0xd3) {
        int64_t x = b == 0xd0 ? (int8_t)p[0] : b == 0xd1 ? (int16_t)be16(p)
                  : b == 0xd2 ? (int32_t)be32(p) : (int64_t)be64(p);
        if (x >= 0) { v->kind = MPR_UINT; v->u = (uint64_t)x; }
        else { v->kind = MPR_NEGINT; v->i = x; }
        return 0;
    }
    /* fixext: type byte + 1..16 data bytes. */
    v->kind = MPR_EXT;
    v->ptr = p + 1;
    v->len = (uint32_t)(need - 1);
    return 0;
}

int mpr_skip(mpr_t *r, int depth) {
    mpr_val_t v;
    int rc = mpr_next(r, &v);
    if (rc) return rc;
    if (v.kind != MPR_ARRAY && v.kind != MPR_MAP) return 0;
    if (depth <= 0) return PROTO_EMSGPACK;
    uint64_t items = v.kind == MPR_MAP ? 2 * (uint64_t)v.len : v.len;
    /* items <= bytes left (checked by mpr_next) and each skip consumes >= 1 byte. */
    for (uint64_t k = 0; k < items; k++)
        if ((rc = mpr_skip(r, depth - 1))) return rc;
    return 0;
}
