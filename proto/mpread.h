/* mpread.h — a small bounded msgpack reader for untrusted bytes.
 *
 * A cursor over [p, end). mpr_next reads one value's header (and, for
 * str/bin/ext, takes a view of the body); every length or count is checked
 * against the bytes left BEFORE it is used, and nothing is ever allocated, so
 * a 5-byte header declaring 4 G elements costs nothing but an error code
 * (msgpack-c's own unpacker reserves memory from declared counts; see
 * msgpack-c issue #1013). Errors are PROTO_E* codes from proto.h. */
#ifndef KDQN_MPREAD_H
#define KDQN_MPREAD_H
#include <stddef.h>
#include <stdint.h>

typedef enum {
    MPR_NIL, MPR_BOOL, MPR_UINT, MPR_NEGINT, MPR_F32, MPR_F64,
    MPR_STR, MPR_BIN, MPR_EXT, MPR_ARRAY, MPR_MAP
} mpr_kind_t;

typedef struct {
    const uint8_t *p, *end;
} mpr_t;

typedef struct {
    mpr_kind_t kind;
    uint64_t u;            /* MPR_UINT (every integer >= 0, whatever its format), MPR_BOOL */
    int64_t i;             /* MPR_NEGINT (every integer < 0) */
    double f;              /* MPR_F32 / MPR_F64 */
    const uint8_t *ptr;    /* MPR_STR / MPR_BIN / MPR_EXT body view (len bytes) */
    uint32_t len;          /* body bytes, or element count for MPR_ARRAY / entry count for MPR_MAP */
} mpr_val_t;

static inline void mpr_init(mpr_t *r, const uint8_t *p, size_t len) { r->p = p; r->end = p + len; }
static inline size_t mpr_left(const mpr_t *r) { return (size_t)(r->end - r->p); }

/* Reads one header. For arrays and maps only the header is consumed (the
 * elements follow); a count that cannot fit in the bytes left (each element
 * takes >= 1 byte, each map entry >= 2) is PROTO_ECOUNT. Returns 0,
 * PROTO_ETRUNC, PROTO_ECOUNT or PROTO_EMSGPACK (byte 0xc1). */
int mpr_next(mpr_t *r, mpr_val_t *v);
/* Skips one complete value, recursing into arrays and maps at most depth
 * levels (PROTO_EMSGPACK beyond). Work is bounded by the bytes left. */
int mpr_skip(mpr_t *r, int depth);

#endif
