/* ckpt.c — checkpoints: one binary format, atomic save, strictly validated load.
 *
 * FORMAT, version 1. Every integer is little-endian, whatever the host; floats
 * are IEEE-754 binary32 (f32) / binary64 (f64) bit patterns stored little-endian.
 * Offsets in bytes; P = n_params.
 *
 *   off  size     type      field
 *   0    8        char[8]   magic "KDQNCKPT" (no NUL)
 *   8    4        u32       format version = CKPT_VERSION (1)
 *   12   4        u32       flags: bit 0 target params present, bit 1 adam_m present,
 *                           bit 2 adam_v present; every other bit MUST be 0
 *   16   4        u32       n_layers, 1..MLP_MAX_LAYERS
 *   20   36       u32[9]    sizes[0..MLP_MAX_LAYERS]: widths sizes[0..n_layers], each
 *                           1..4096 (mlp_arch_init rules); entries after n_layers MUST be 0
 *   56   8        u64       n_params P; MUST equal the architecture's parameter count
 *   64   4        u32       n_rng, 0..CKPT_MAX_RNG
 *   68   4        u32       config_len: bytes of the config string INCLUDING its
 *                           terminating NUL, 0 = no config; <= CKPT_MAX_CONFIG
 *   72   8        u64       file_len: total size of the file in bytes, CRC included
 *   80   4P       f32[P]    params (mlp.h flat layout)
 *        4P       f32[P]    target params        (only if flags bit 0)
 *        4P       f32[P]    adam_m               (only if flags bit 1)
 *        4P       f32[P]    adam_v               (only if flags bit 2)
 *        8        i64       adam_t
 *        40       i64[5]    env_steps, updates, ingested, episodes, policy_version
 *        16       f64[2]    wall_seconds, best_eval_mean
 *        32*n_rng u64[4]    rng states s[0..3], one rng_t after another
 *        config_len u8[]    config: no NUL except its last byte, which is NUL
 *        4        u32       CRC-32C (Castagnoli, ckpt_crc32c) of every preceding byte
 *
 *   file_len == 80 + 4P·(1 + popcount(flags)) + 64 + 32·n_rng + config_len + 4.
 *
 * The 80-byte header comes first so a reader knows every length before it reads
 * or allocates anything; a reader MUST check each declared length against the
 * bytes actually present. Every f32 array MUST be finite; the two f64 counters
 * MUST NOT be NaN (±inf is allowed, e.g. best_eval_mean = -inf before any eval).
 * A new layout gets a new version number; this build reads version 1 only.
 *
 * LOAD checks, in order (first failure wins): file size <= CKPT_MAX_FILE, 1 GiB (else
 * EFORMAT); magic (EMAGIC; a file shorter than 8 bytes that is a prefix of the
 * magic is ETRUNC); version (EVERSION); whole header present (ETRUNC); file_len
 * vs the real size (larger: ETRUNC, smaller: EFORMAT); flags, n_rng, config_len
 * ranges and the file_len equation above, in overflow-safe arithmetic (EFORMAT);
 * CRC (ECRC); architecture (EARCH), n_params (EFORMAT), expected architecture
 * (EARCH); float/NaN and config checks (EFORMAT). Only then are the arrays
 * allocated, so nothing is ever sized from an unchecked count; the only earlier
 * allocation is the read buffer, sized from the real file size. */
#include "ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_HEADER_LEN 80
#define CKPT_TAIL_LEN (8 + 40 + 16)   /* adam_t + counters */
#define CKPT_MAX_FILE ((uint64_t)1 << 30)
#define CKPT_FLAG_TARGET 1u
#define CKPT_FLAG_ADAM_M 2u
#define CKPT_FLAG_ADAM_V 4u
#define CKPT_FLAGS_KNOWN 7u

const char *ckpt_strerror(int err)
{
    switch (err) {
    case CKPT_OK: return "ok";
    case CKPT_EIO: return "checkpoint I/O error";
    case CKPT_EMAGIC: return "not a kdqn checkpoint (bad magic)";
    case CKPT_EVERSION: return "unsupported checkpoint format version";
    case CKPT_ETRUNC: return "checkpoint truncated";
    case CKPT_ECRC: return "checkpoint checksum mismatch (corrupted)";
    case CKPT_EARCH: return "checkpoint architecture malformed or not the expected one";
    case CKPT_EFORMAT: return "checkpoint malformed (inconsistent sizes or non-finite values)";
    case CKPT_ENOMEM: return "out of memory";
    default: return "unknown checkpoint error";
    }
}

/* Reflected CRC-32C table, polynomial 0x1EDC6F41 (reversed 0x82F63B78). */
static const uint32_t crc32c_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu,
    0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
    0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu,
    0xf165b798u, 0x030e349bu, 0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
    0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
    0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
    0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
    0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu,
    0x1642ae59u, 0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
    0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu,
    0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
    0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu,
    0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
    0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
    0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu,
    0x4767748au, 0xb50cf789u, 0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
    0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu,
    0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
    0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
    0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u,
    0xe9141340u, 0x1b7f9043u, 0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
    0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
    0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
    0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u, 0x502036a5u,
    0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u,
    0x0e330a81u, 0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
    0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u,
    0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
    0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u,
    0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
    0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
    0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u,
    0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
    0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u,
    0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
    0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au, 0xc69f7b69u,
    0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

/* Incremental like zlib's crc32: start with crc = 0, feed the previous result
 * back in; ckpt_crc32c(0, "123456789", 9) == 0xE3069283. Never fails. */
uint32_t ckpt_crc32c(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = crc32c_table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* ---- little-endian helpers ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t f64_bits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static double bits_f64(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* ---- buffered writer with a running CRC ---- */

typedef struct {
    int fd;
    int failed;        /* 1 after the first write error; errno kept in err */
    int err;
    size_t used;
    uint32_t crc;
    uint8_t buf[16384];
} writer_t;

static void w_flush(writer_t *w)
{
    size_t off = 0;
    if (w->failed)
        return;
    while (off < w->used) {
        ssize_t n = write(w->fd, w->buf + off, w->used - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            w->failed = 1;
            w->err = errno;
            return;
        }
        off += (size_t)n;
    }
    w->used = 0;
}

static void w_bytes(writer_t *w, const void *data, size_t len)
{
    const uint8_t *p = data;
    w->crc = ckpt_crc32c(w->crc, data, len);
    while (len > 0 && !w->failed) {
        size_t room = sizeof w->buf - w->used;
        size_t k = len < room ? len : room;
        memcpy(w->buf + w->used, p, k);
        w->used += k;
        p += k;
        len -= k;
        if (w->used == sizeof w->buf)
            w_flush(w);
    }
}

static void w_u32(writer_t *w, uint32_t v)
{
    uint8_t b[4];
    put_u32(b, v);
    w_bytes(w, b, 4);
}

static void w_u64(writer_t *w, uint64_t v)
{
    uint8_t b[8];
    put_u64(b, v);
    w_bytes(w, b, 8);
}

static void w_f32s(writer_t *w, const float *a, size_t n)
{
    uint8_t b[4 * 256];
    while (n > 0) {
        size_t k = n < 256 ? n : 256;
        for (size_t i = 0; i < k; i++)
            put_u32(b + 4 * i, f32_bits(a[i]));
        w_bytes(w, b, 4 * k);
        a += k;
        n -= k;
    }
}

/* ---- validation shared by save and load ---- */

static int all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

static uint32_t popcount3(uint32_t flags)
{
    return (flags & 1u) + ((flags >> 1) & 1u) + ((flags >> 2) & 1u);
}

/* Total file length for these counts, or 0 if it does not fit below the cap. */
static uint64_t expected_len(uint64_t n_params, uint32_t flags, uint32_t n_rng, uint32_t config_len)
{
    uint64_t arrays = 1 + popcount3(flags);
    if (n_params > CKPT_MAX_FILE / 4 / arrays)
        return 0;
    uint64_t len = CKPT_HEADER_LEN + 4 * n_params * arrays + CKPT_TAIL_LEN +
                   32 * (uint64_t)n_rng + config_len + 4;
    return len <= CKPT_MAX_FILE ? len : 0;
}

/* ---- save ---- */

static int check_for_save(const ckpt_t *ck, size_t *config_len)
{
    mlp_arch_t a;
    if (!ck || !ck->params)
        return CKPT_EFORMAT;
    if (mlp_arch_init(&a, ck->arch.n_layers, ck->arch.sizes) != MLP_OK)
        return CKPT_EARCH;
    if (a.n_params != ck->arch.n_params)
        return CKPT_EARCH;
    if (ck->n_rng < 0 || ck->n_rng > CKPT_MAX_RNG)
        return CKPT_EFORMAT;
    *config_len = 0;
    if (ck->config) {
        size_t n = strnlen(ck->config, CKPT_MAX_CONFIG);
        if (n >= CKPT_MAX_CONFIG)
            return CKPT_EFORMAT;
        *config_len = n + 1;
    }
    size_t P = a.n_params;
    if (!all_finite(ck->params, P) || (ck->target_params && !all_finite(ck->target_params, P)) ||
        (ck->adam_m && !all_finite(ck->adam_m, P)) || (ck->adam_v && !all_finite(ck->adam_v, P)))
        return CKPT_EFORMAT;
    if (isnan(ck->counters.wall_seconds) || isnan(ck->counters.best_eval_mean))
        return CKPT_EFORMAT;
    return CKPT_OK;
}

/* The folder holding path ("." or "/" as needed), malloc'ed; NULL if no memory. */
static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t n = !slash ? 0 : slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 2);
    if (!dir)
        return NULL;
    if (n == 0)
        strcpy(dir, ".");
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

/* fsyncs a folder. Filesystems that cannot fsync a folder (EINVAL) count as
 * success. Returns 0 or -1 with errno set. */
static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e == EINVAL)
        rc = 0;
    errno = e;
    return rc;
}

/* Validates ck (EARCH/EFORMAT; nothing touched), writes <path>.tmp.<pid>, fsyncs
 * it, renames it over path and fsyncs the folder. Any failure before the rename
 * unlinks the tmp file and returns CKPT_EIO (errno kept) with the old file intact.
 * A failed folder fsync after the rename also returns CKPT_EIO: the new file is
 * then in place but its durability is not confirmed. */
int ckpt_save(const char *path, const ckpt_t *ck)
{
    writer_t *w = NULL;
    char *tmp = NULL, *dir = NULL;
    int fd = -1, rc, saved_errno = 0;
    size_t config_len;
    if (!path || !*path)
        return CKPT_EIO;
    rc = check_for_save(ck, &config_len);
    if (rc != CKPT_OK)
        return rc;

    const mlp_arch_t *a = &ck->arch;
    size_t P = a->n_params;
    uint32_t flags = (ck->target_params ? CKPT_FLAG_TARGET : 0) |
                     (ck->adam_m ? CKPT_FLAG_ADAM_M : 0) | (ck->adam_v ? CKPT_FLAG_ADAM_V : 0);
    uint64_t file_len = expected_len(P, flags, (uint32_t)ck->n_rng, (uint32_t)config_len);
    if (file_len == 0)
        return CKPT_EFORMAT;

    size_t tlen = strlen(path) + 32;
    rc = CKPT_ENOMEM;
    tmp = malloc(tlen);
    w = malloc(sizeof *w);
    dir = parent_dir(path);   /* now, so nothing can fail for memory after the rename */
    if (!tmp || !w || !dir)
        goto fail;
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());

    rc = CKPT_EIO;
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        saved_errno = errno;
        free(tmp);      /* not ours: never unlink what we did not create */
        tmp = NULL;
        goto fail;
    }
    memset(w, 0, offsetof(writer_t, buf));
    w->fd = fd;

    uint8_t hdr[CKPT_HEADER_LEN];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, CKPT_MAGIC, 8);
    put_u32(hdr + 8, CKPT_VERSION);
    put_u32(hdr + 12, flags);
    put_u32(hdr + 16, (uint32_t)a->n_layers);
    for (int l = 0; l <= a->n_layers; l++)
        put_u32(hdr + 20 + 4 * l, (uint32_t)a->sizes[l]);
    put_u64(hdr + 56, (uint64_t)P);
    put_u32(hdr + 64, (uint32_t)ck->n_rng);
    put_u32(hdr + 68, (uint32_t)config_len);
    put_u64(hdr + 72, file_len);
    w_bytes(w, hdr, sizeof hdr);
    w_f32s(w, ck->params, P);
    if (ck->target_params)
        w_f32s(w, ck->target_params, P);
    if (ck->adam_m)
        w_f32s(w, ck->adam_m, P);
    if (ck->adam_v)
        w_f32s(w, ck->adam_v, P);
    w_u64(w, (uint64_t)ck->adam_t);
    w_u64(w, (uint64_t)ck->counters.env_steps);
    w_u64(w, (uint64_t)ck->counters.updates);
    w_u64(w, (uint64_t)ck->counters.ingested);
    w_u64(w, (uint64_t)ck->counters.episodes);
    w_u64(w, (uint64_t)ck->counters.policy_version);
    w_u64(w, f64_bits(ck->counters.wall_seconds));
    w_u64(w, f64_bits(ck->counters.best_eval_mean));
    for (int r = 0; r < ck->n_rng; r++)
        for (int i = 0; i < 4; i++)
            w_u64(w, ck->rng[r].s[i]);
    if (config_len)
        w_bytes(w, ck->config, config_len);
    w_u32(w, w->crc);
    w_flush(w);
    if (w->failed) {
        saved_errno = w->err;
        goto fail;
    }
    if (fsync(fd) != 0) {
        saved_errno = errno;
        goto fail;
    }
    int closing = fd;
    fd = -1;
    if (close(closing) != 0) {
        saved_errno = errno;
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        saved_errno = errno;
        goto fail;
    }
    free(tmp);
    free(w);
    rc = fsync_dir(dir) == 0 ? CKPT_OK : CKPT_EIO;
    saved_errno = errno;
    free(dir);
    errno = saved_errno;
    return rc;
fail:
    if (fd >= 0)
        close(fd);
    if (tmp)
        unlink(tmp);
    free(tmp);
    free(w);
    free(dir);
    if (saved_errno)
        errno = saved_errno;
    return rc;
}

/* ---- load ---- */

/* Reads at most CKPT_MAX_FILE bytes of path into *buf (malloc'ed, sized from the
 * real file size), *len = bytes read. EIO on open/read errors, EFORMAT if the
 * file is larger than the cap, ENOMEM. */
static int read_whole(const char *path, uint8_t **buf, size_t *len)
{
    struct stat st;
    uint8_t *b = NULL;
    int rc = CKPT_EIO, e = 0;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CKPT_EIO;
    if (fstat(fd, &st) != 0) {
        e = errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        e = EINVAL;
        goto fail;
    }
    if ((uint64_t)st.st_size > CKPT_MAX_FILE) {
        rc = CKPT_EFORMAT;
        goto fail;
    }
    size_t cap = (size_t)st.st_size;
    b = malloc(cap ? cap : 1);
    if (!b) {
        rc = CKPT_ENOMEM;
        goto fail;
    }
    while (got < cap) {
        ssize_t n = read(fd, b + got, cap - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            goto fail;
        }
        if (n == 0)
            break;      /* shrank since fstat: validated as the shorter file */
        got += (size_t)n;
    }
    close(fd);
    *buf = b;
    *len = got;
    return CKPT_OK;
fail:
    close(fd);
    free(b);
    if (e)
        errno = e;
    return rc;
}

/* Copies P little-endian f32 from p into a new array; EFORMAT if one is not
 * finite, ENOMEM. */
static int load_f32s(const uint8_t *p, size_t P, float **out)
{
    float *a = malloc(P ? P * sizeof(float) : 1);
    if (!a)
        return CKPT_ENOMEM;
    for (size_t i = 0; i < P; i++) {
        a[i] = bits_f32(get_u32(p + 4 * i));
        if (!isfinite(a[i])) {
            free(a);
            return CKPT_EFORMAT;
        }
    }
    *out = a;
    return CKPT_OK;
}

/* Validates the bytes of a whole checkpoint file (see the order in the header
 * comment) and fills *ck, allocating its arrays. On error *ck is left zeroed and
 * nothing it points to is allocated. */
static int parse(const uint8_t *b, size_t len, const mlp_arch_t *expect, ckpt_t *ck)
{
    ckpt_t c;
    int rc;
    memset(&c, 0, sizeof c);

    if (len < 8)
        return memcmp(b, CKPT_MAGIC, len) == 0 ? CKPT_ETRUNC : CKPT_EMAGIC;
    if (memcmp(b, CKPT_MAGIC, 8) != 0)
        return CKPT_EMAGIC;
    if (len < 12)
        return CKPT_ETRUNC;
    if (get_u32(b + 8) != CKPT_VERSION)
        return CKPT_EVERSION;
    if (len < CKPT_HEADER_LEN)
        return CKPT_ETRUNC;
    uint32_t flags = get_u32(b + 12);
    uint32_t n_layers = get_u32(b + 16);
    uint64_t n_params = get_u64(b + 56);
    uint32_t n_rng = get_u32(b + 64);
    uint32_t config_len = get_u32(b + 68);
    uint64_t file_len = get_u64(b + 72);
    if (file_len > len)
        return CKPT_ETRUNC;
    if (file_len < len)
        return CKPT_EFORMAT;
    if ((flags & ~CKPT_FLAGS_KNOWN) || n_rng > CKPT_MAX_RNG || config_len > CKPT_MAX_CONFIG)
        return CKPT_EFORMAT;
    uint64_t want = expected_len(n_params, flags, n_rng, config_len);
    if (want == 0 || want != file_len)
        return CKPT_EFORMAT;
    if (ckpt_crc32c(0, b, len - 4) != get_u32(b + len - 4))
        return CKPT_ECRC;

    /* From here every count is consistent with bytes actually present. */
    int sizes[MLP_MAX_LAYERS + 1] = {0};
    if (n_layers < 1 || n_layers > MLP_MAX_LAYERS)
        return CKPT_EARCH;
    for (uint32_t l = 0; l <= MLP_MAX_LAYERS; l++) {
        uint32_t s = get_u32(b + 20 + 4 * l);
        if (l > n_layers ? s != 0 : s > 4096)
            return CKPT_EARCH;
        sizes[l] = (int)s;
    }
    if (mlp_arch_init(&c.arch, (int)n_layers, sizes) != MLP_OK)
        return CKPT_EARCH;
    if (c.arch.n_params != n_params)
        return CKPT_EFORMAT;
    if (expect && !mlp_arch_equal(expect, &c.arch))
        return CKPT_EARCH;

    size_t P = (size_t)n_params;
    const uint8_t *p = b + CKPT_HEADER_LEN;
    rc = load_f32s(p, P, &c.params);
    if (rc)
        goto fail;
    p += 4 * P;
    if (flags & CKPT_FLAG_TARGET) {
        rc = load_f32s(p, P, &c.target_params);
        if (rc)
            goto fail;
        p += 4 * P;
    }
    if (flags & CKPT_FLAG_ADAM_M) {
        rc = load_f32s(p, P, &c.adam_m);
        if (rc)
            goto fail;
        p += 4 * P;
    }
    if (flags & CKPT_FLAG_ADAM_V) {
        rc = load_f32s(p, P, &c.adam_v);
        if (rc)
            goto fail;
        p += 4 * P;
    }
    c.adam_t = (int64_t)get_u64(p);
    c.counters.env_steps = (int64_t)get_u64(p + 8);
    c.counters.updates = (int64_t)get_u64(p + 16);
    c.counters.ingested = (int64_t)get_u64(p + 24);
    c.counters.episodes = (int64_t)get_u64(p + 32);
    c.counters.policy_version = (int64_t)get_u64(p + 40);
    c.counters.wall_seconds = bits_f64(get_u64(p + 48));
    c.counters.best_eval_mean = bits_f64(get_u64(p + 56));
    p += CKPT_TAIL_LEN;
    rc = CKPT_EFORMAT;
    if (isnan(c.counters.wall_seconds) || isnan(c.counters.best_eval_mean))
        goto fail;
    c.n_rng = (int)n_rng;
    for (uint32_t r = 0; r < n_rng; r++)
        for (int i = 0; i < 4; i++, p += 8)
            c.rng[r].s[i] = get_u64(p);
    if (config_len > 0) {
        if (p[config_len - 1] != 0 || memchr(p, 0, config_len - 1) != NULL)
            goto fail;
        rc = CKPT_ENOMEM;
        c.config = malloc(config_len);
        if (!c.config)
            goto fail;
        memcpy(c.config, p, config_len);
    }
    *ck = c;
    return CKPT_OK;
fail:
    ckpt_free(&c);
    return rc;
}

/* See ckpt.h. Errors: EIO (open/read; errno kept), and every code of the
 * validation order in the header comment. On error *ck is zeroed and nothing is
 * left allocated. */
int ckpt_load(const char *path, const mlp_arch_t *expect, ckpt_t *ck)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    if (!ck)
        return CKPT_EFORMAT;
    memset(ck, 0, sizeof *ck);
    if (!path)
        return CKPT_EIO;
    rc = read_whole(path, &buf, &len);
    if (rc != CKPT_OK)
        return rc;
    rc = parse(buf, len, expect, ck);
    free(buf);
    return rc;
}

/* Frees the arrays and zeroes *ck. NULL-safe, idempotent. */
void ckpt_free(ckpt_t *ck)
{
    if (!ck)
        return;
    free(ck->params);
    free(ck->target_params);
    free(ck->adam_m);
    free(ck->adam_v);
    free(ck->config);
    memset(ck, 0, sizeof *ck);
}
