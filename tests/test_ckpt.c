/* test_ckpt.c — checkpoint format: round trips, atomic save, hostile files.
 *
 *   test_ckpt unit    round trips, save failures, allocation-failure injection
 *   test_ckpt fault   every truncation, every bit flip, hand-crafted bad headers
 *
 * The build links this test with -Wl,--wrap=malloc,calloc,realloc,free so it can
 * count what ckpt.c allocates (nothing may leak on an error path, nothing may be
 * sized from a declared count) and make the n-th allocation fail.
 * Exits non-zero and says what failed. */
#include "check.h"
#include "ckpt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>



/* ---- allocation accounting (GNU ld --wrap) ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long live_allocs;          /* allocations not yet freed */
static size_t largest_request;    /* largest single request since reset */
static long fail_after = -1;      /* >= 0: that many more allocations succeed, then all fail */

static int should_fail(size_t n)
{
    if (n > largest_request)
        largest_request = n;
    if (fail_after == 0)
        return 1;
    if (fail_after > 0)
        fail_after--;
    return 0;
}

void *__wrap_malloc(size_t n)
{
    if (should_fail(n))
        return NULL;
    void *p = __real_malloc(n);
    if (p)
        live_allocs++;
    return p;
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (should_fail(n * m))
        return NULL;
    void *p = __real_calloc(n, m);
    if (p)
        live_allocs++;
    return p;
}

void *__wrap_realloc(void *q, size_t n)
{
    if (should_fail(n))
        return NULL;
    void *p = __real_realloc(q, n);
    if (p && !q)
        live_allocs++;
    return p;
}

void __wrap_free(void *p)
{
    if (p)
        live_allocs--;
    __real_free(p);
}

/* ---- helpers ---- */

static char tmpdir[64];

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmpdir, name);
}

static int write_file(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = len ? fwrite(b, 1, len, f) : 0;
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* Reads a whole file into a malloc'ed buffer. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int count_tmp_files(void)
{
    int n = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void remove_tmpdir(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char p[512];
    if (!d)
        return;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        path_in(p, sizeof p, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

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

static void fix_crc(uint8_t *b, size_t len)
{
    put_u32(b + len - 4, ckpt_crc32c(0, b, len - 4));
}

static int is_zeroed(const ckpt_t *ck)
{
    static const ckpt_t zero;
    return memcmp(ck, &zero, sizeof zero) == 0;
}

/* A checkpoint with every field set; optional arrays per `opt` bits
 * (1 target, 2 adam_m, 4 adam_v, 8 config). Free with free_sample. */
static ckpt_t make_sample(const char *spec, int opt, uint64_t seed)
{
    ckpt_t ck;
    rng_t r;
    memset(&ck, 0, sizeof ck);
    if (mlp_arch_parse(&ck.arch, spec) != MLP_OK)
        return ck;
    size_t P = ck.arch.n_params;
    rng_seed(&r, seed);
    float **arr[4] = {&ck.params, &ck.target_params, &ck.adam_m, &ck.adam_v};
    for (int k = 0; k < 4; k++) {
        if (k > 0 && !(opt & (1 << (k - 1))))
            continue;
        *arr[k] = malloc(P * sizeof(float));
        for (size_t i = 0; i < P; i++)
            (*arr[k])[i] = (rng_uniformf(&r) - 0.5f) * (float)(k + 1);
    }
    ck.params[0] = -0.0f;
    if (P > 2) {
        ck.params[1] = 1e-40f;     /* subnormal */
        ck.params[2] = -3.4e38f;
    }
    ck.adam_t = 123456789012345LL;
    ck.counters.env_steps = INT64_MAX;
    ck.counters.updates = -1;
    ck.counters.ingested = INT64_MIN;
    ck.counters.episodes = 77;
    ck.counters.policy_version = 0x0102030405060708LL;
    ck.counters.wall_seconds = 3.25;
    ck.counters.best_eval_mean = -INFINITY;
    ck.n_rng = 3;
    for (int i = 0; i < 3; i++)
        rng_seed(&ck.rng[i], seed + (uint64_t)i);
    if (opt & 8) {
        const char *cfg = "arch=4-16-8-2\nlr=0.001\nseed=42\n";
        ck.config = malloc(strlen(cfg) + 1);
        strcpy(ck.config, cfg);
    }
    return ck;
}

static void free_sample(ckpt_t *ck)
{
    free(ck->params);
    free(ck->target_params);
    free(ck->adam_m);
    free(ck->adam_v);
    free(ck->config);
    memset(ck, 0, sizeof *ck);
}

static int arrays_equal(const float *a, const float *b, size_t n)
{
    if (!a || !b)
        return a == b;
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* 1 if a and b hold bitwise-equal contents. */
static int ckpt_equal(const ckpt_t *a, const ckpt_t *b)
{
    size_t P = a->arch.n_params;
    if (!mlp_arch_equal(&a->arch, &b->arch) || a->arch.n_params != b->arch.n_params)
        return 0;
    if (!arrays_equal(a->params, b->params, P) || !arrays_equal(a->target_params, b->target_params, P) ||
        !arrays_equal(a->adam_m, b->adam_m, P) || !arrays_equal(a->adam_v, b->adam_v, P))
        return 0;
    if (a->adam_t != b->adam_t || memcmp(&a->counters, &b->counters, sizeof a->counters) != 0)
        return 0;
    if (a->n_rng != b->n_rng || memcmp(a->rng, b->rng, sizeof(rng_t) * (size_t)a->n_rng) != 0)
        return 0;
    if (!a->config || !b->config)
        return a->config == b->config;
    return strcmp(a->config, b->config) == 0;
}

/* ---- unit tests ---- */

static void test_crc(void)
{
    CHECK(ckpt_crc32c(0, "123456789", 9) == 0xE3069283u, "crc32c test vector: %08x",
          ckpt_crc32c(0, "123456789", 9));
    CHECK(ckpt_crc32c(0, "", 0) == 0, "crc of nothing");
    uint32_t c = ckpt_crc32c(0, "1234", 4);
    CHECK(ckpt_crc32c(c, "56789", 5) == 0xE3069283u, "incremental crc");
    uint8_t zeros[32] = {0};
    CHECK(ckpt_crc32c(0, zeros, 32) == 0x8A9136AAu, "RFC 3720 32 zero bytes: %08x",
          ckpt_crc32c(0, zeros, 32));
}

static void test_round_trip(void)
{
    char path[512];
    path_in(path, sizeof path, "rt.ckpt");
    for (int opt = 0; opt < 16; opt++) {
        ckpt_t a = make_sample("4-16-8-2", opt, 1000 + (uint64_t)opt), b;
        if (opt == 0)
            a.n_rng = 0;
        long live0 = live_allocs;
        int rc = ckpt_save(path, &a);
        CHECK(rc == CKPT_OK, "save opt %d: %s", opt, ckpt_strerror(rc));
        CHECK(live_allocs == live0, "save leaked %ld allocations", live_allocs - live0);
        rc = ckpt_load(path, &a.arch, &b);
        CHECK(rc == CKPT_OK, "load opt %d: %s", opt, ckpt_strerror(rc));
        CHECK(ckpt_equal(&a, &b), "round trip opt %d not bitwise equal", opt);
        CHECK(!(opt & 1) == !b.target_params && !(opt & 2) == !b.adam_m && !(opt & 4) == !b.adam_v &&
                  !(opt & 8) == !b.config, "optional arrays present/absent mismatch, opt %d", opt);
        size_t P = a.arch.n_params, len = 0;
        int k = 1 + !!(opt & 1) + !!(opt & 2) + !!(opt & 4);
        size_t cfg = a.config ? strlen(a.config) + 1 : 0;
        uint8_t *bytes = read_file(path, &len);
        CHECK(bytes && len == 80 + 4 * P * (size_t)k + 64 + 32 * (size_t)a.n_rng + cfg + 4,
              "file length %zu does not follow the documented formula", len);
        CHECK(bytes && !memcmp(bytes, "KDQNCKPT\x01\x00\x00\x00", 12), "magic + LE version");
        CHECK(bytes && bytes[16] == 3 && bytes[20] == 4 && bytes[24] == 16 && bytes[28] == 8 &&
                  bytes[32] == 2, "arch widths at their documented offsets");
        free(bytes);
        ckpt_free(&b);
        CHECK(is_zeroed(&b), "ckpt_free zeroes");
        CHECK(live_allocs == live0, "load+free leaked %ld allocations", live_allocs - live0);
        free_sample(&a);
    }
    CHECK(count_tmp_files() == 0, "tmp files left after saves");
    ckpt_free(NULL);
}

static void test_expect_arch(void)
{
    char path[512];
    path_in(path, sizeof path, "arch.ckpt");
    ckpt_t a = make_sample("4-16-8-2", 15, 5), b;
    mlp_arch_t other, same;
    mlp_arch_parse(&other, "4-16-16-2");
    mlp_arch_parse(&same, "4-16-8-2");
    CHECK(ckpt_save(path, &a) == CKPT_OK, "save");
    long live0 = live_allocs;
    CHECK(ckpt_load(path, &other, &b) == CKPT_EARCH, "wrong expected arch accepted");
    CHECK(is_zeroed(&b) && live_allocs == live0, "EARCH leaves *ck zeroed, nothing allocated");
    CHECK(ckpt_load(path, &same, &b) == CKPT_OK, "equal expected arch rejected");
    ckpt_free(&b);
    CHECK(ckpt_load(path, NULL, &b) == CKPT_OK, "no expected arch");
    ckpt_free(&b);
    free_sample(&a);
}

static void test_save_validation(void)
{
    char path[512];
    size_t len0, len1;
    path_in(path, sizeof path, "val.ckpt");
    ckpt_t a = make_sample("4-8-2", 15, 6);
    CHECK(ckpt_save(path, &a) == CKPT_OK, "save");
    uint8_t *before = read_file(path, &len0);
    float keep = a.params[3];
    a.params[3] = NAN;
    CHECK(ckpt_save(path, &a) == CKPT_EFORMAT, "NaN params saved");
    a.params[3] = keep;
    keep = a.adam_v[1];
    a.adam_v[1] = INFINITY;
    CHECK(ckpt_save(path, &a) == CKPT_EFORMAT, "inf adam_v saved");
    a.adam_v[1] = keep;
    a.n_rng = CKPT_MAX_RNG + 1;
    CHECK(ckpt_save(path, &a) == CKPT_EFORMAT, "n_rng > max saved");
    a.n_rng = 3;
    double keep_d = a.counters.wall_seconds;
    a.counters.wall_seconds = NAN;
    CHECK(ckpt_save(path, &a) == CKPT_EFORMAT, "NaN counter saved");
    a.counters.wall_seconds = keep_d;
    a.arch.n_params++;
    CHECK(ckpt_save(path, &a) == CKPT_EARCH, "inconsistent arch saved");
    a.arch.n_params--;
    a.arch.n_layers = 0;
    CHECK(ckpt_save(path, &a) == CKPT_EARCH, "0-layer arch saved");
    a.arch.n_layers = 2;
    char *big = malloc(CKPT_MAX_CONFIG + 10);
    memset(big, 'x', CKPT_MAX_CONFIG + 9);
    big[CKPT_MAX_CONFIG + 9] = 0;
    char *cfg = a.config;
    a.config = big;
    CHECK(ckpt_save(path, &a) == CKPT_EFORMAT, "oversized config saved");
    big[CKPT_MAX_CONFIG - 1] = 0;   /* length MAX-1 + NUL = MAX: allowed */
    CHECK(ckpt_save(path, &a) == CKPT_OK, "config of exactly CKPT_MAX_CONFIG bytes rejected");
    ckpt_t b;
    CHECK(ckpt_load(path, NULL, &b) == CKPT_OK && b.config && strlen(b.config) == CKPT_MAX_CONFIG - 1,
          "max config round trip");
    ckpt_free(&b);
    a.config = cfg;
    free(big);
    CHECK(ckpt_save(path, NULL) == CKPT_EFORMAT, "NULL ckpt");
    /* the rejected saves did not touch a valid file: re-save original and compare */
    CHECK(ckpt_save(path, &a) == CKPT_OK, "re-save");
    uint8_t *after = read_file(path, &len1);
    CHECK(before && after && len0 == len1 && !memcmp(before, after, len0), "same input, same bytes");
    free(before);
    free(after);
    CHECK(count_tmp_files() == 0, "tmp files left");
    free_sample(&a);
}

static void test_save_failures(void)
{
    char path[512], tmp[600], missing[512];
    ckpt_t old = make_sample("4-8-2", 15, 7), big = make_sample("4-64-64-2", 15, 8), b;
    path_in(path, sizeof path, "keep.ckpt");
    CHECK(ckpt_save(path, &old) == CKPT_OK, "save old");

    /* nonexistent folder */
    path_in(missing, sizeof missing, "no/such/dir/x.ckpt");
    errno = 0;
    CHECK(ckpt_save(missing, &old) == CKPT_EIO && errno == ENOENT, "save into missing folder: errno %d",
          errno);
    CHECK(count_tmp_files() == 0, "tmp files left");

    /* the tmp name is taken by a folder: open fails, old file intact */
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    CHECK(mkdir(tmp, 0755) == 0, "mkdir %s", tmp);
    CHECK(ckpt_save(path, &big) == CKPT_EIO, "save over a blocked tmp name");
    rmdir(tmp);
    CHECK(ckpt_load(path, NULL, &b) == CKPT_OK && ckpt_equal(&old, &b), "old file changed by failed save");
    ckpt_free(&b);

    /* the write itself fails half way (file size limit: EFBIG after 4 KiB) */
    struct rlimit rl, low;
    getrlimit(RLIMIT_FSIZE, &rl);
    low = rl;
    low.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &low) == 0) {
        errno = 0;
        int rc = ckpt_save(path, &big);
        int e = errno;
        setrlimit(RLIMIT_FSIZE, &rl);
        CHECK(rc == CKPT_EIO && e == EFBIG, "save past the size limit: %s, errno %d", ckpt_strerror(rc), e);
        CHECK(count_tmp_files() == 0, "tmp file left after a failed write");
        CHECK(ckpt_load(path, NULL, &b) == CKPT_OK && ckpt_equal(&old, &b), "old file lost by failed write");
        ckpt_free(&b);
    } else {
        fprintf(stderr, "note: cannot lower RLIMIT_FSIZE, mid-write failure not tested\n");
    }

    /* success replaces by rename: new inode, new content, no tmp left */
    struct stat st0, st1;
    stat(path, &st0);
    CHECK(ckpt_save(path, &big) == CKPT_OK, "save big");
    stat(path, &st1);
    CHECK(st0.st_ino != st1.st_ino, "file rewritten in place instead of renamed over");
    CHECK(ckpt_load(path, NULL, &b) == CKPT_OK && ckpt_equal(&big, &b), "new content");
    ckpt_free(&b);
    CHECK(count_tmp_files() == 0, "tmp files left after success");

    /* a relative path in the current folder works (folder fsync of ".") */
    char cwd[512];
    if (getcwd(cwd, sizeof cwd) && chdir(tmpdir) == 0) {
        CHECK(ckpt_save("rel.ckpt", &old) == CKPT_OK, "relative path save");
        CHECK(ckpt_load("rel.ckpt", NULL, &b) == CKPT_OK, "relative path load");
        ckpt_free(&b);
        CHECK(chdir(cwd) == 0, "chdir back");
    }

    /* load errors that are not about content */
    CHECK(ckpt_load(missing, NULL, &b) == CKPT_EIO && is_zeroed(&b), "missing file");
    CHECK(ckpt_load(tmpdir, NULL, &b) == CKPT_EIO && is_zeroed(&b), "folder as checkpoint");
    free_sample(&old);
    free_sample(&big);
}

/* Allocation failure at every allocation of save and load: a clean ENOMEM,
 * nothing leaked, no tmp file, the file on disk still the old one. */
static void test_alloc_failures(void)
{
    char path[512];
    ckpt_t a = make_sample("4-16-8-2", 15, 9), c = make_sample("4-16-8-2", 15, 10), b;
    path_in(path, sizeof path, "oom.ckpt");
    CHECK(ckpt_save(path, &a) == CKPT_OK, "save");
    int load_ok = 0, save_ok = 0;
    for (long k = 0; k < 20 && !load_ok; k++) {
        long live0 = live_allocs;
        fail_after = k;
        int rc = ckpt_load(path, NULL, &b);
        fail_after = -1;
        if (rc == CKPT_OK) {
            load_ok = 1;
            CHECK(ckpt_equal(&a, &b), "load after %ld allocations", k);
            ckpt_free(&b);
        } else {
            CHECK(rc == CKPT_ENOMEM && is_zeroed(&b), "load with allocation %ld failing: %s", k,
                  ckpt_strerror(rc));
        }
        CHECK(live_allocs == live0, "load leaked %ld with allocation %ld failing", live_allocs - live0, k);
    }
    for (long k = 0; k < 20 && !save_ok; k++) {
        long live0 = live_allocs;
        fail_after = k;
        int rc = ckpt_save(path, &c);
        fail_after = -1;
        if (rc == CKPT_OK) {
            save_ok = 1;
            CHECK(ckpt_load(path, NULL, &b) == CKPT_OK && ckpt_equal(&c, &b), "new file after save");
        } else {
            CHECK(rc == CKPT_ENOMEM, "save with allocation %ld failing: %s", k, ckpt_strerror(rc));
            CHECK(ckpt_load(path, NULL, &b) == CKPT_OK && ckpt_equal(&a, &b), "old file lost");
        }
        ckpt_free(&b);
        CHECK(live_allocs == live0, "save leaked %ld with allocation %ld failing", live_allocs - live0, k);
        CHECK(count_tmp_files() == 0, "tmp left");
    }
    CHECK(load_ok && save_ok, "never succeeded within 20 allocations");
    free_sample(&a);
    free_sample(&c);
}

/* ---- hostile files ---- */

/* Loads bytes written to a file; checks the error contract (ck zeroed, no leak)
 * and returns the code. */
static int load_bytes(const uint8_t *bytes, size_t len, const mlp_arch_t *expect)
{
    char path[512];
    ckpt_t b;
    path_in(path, sizeof path, "hostile.ckpt");
    if (write_file(path, bytes, len) != 0) {
        CHECK(0, "cannot write %s", path);
        return CKPT_EIO;
    }
    long live0 = live_allocs;
    memset(&b, 0xA5, sizeof b);
    int rc = ckpt_load(path, expect, &b);
    if (rc != CKPT_OK) {
        CHECK(is_zeroed(&b), "error %d did not zero *ck", rc);
        CHECK(live_allocs == live0, "error %d leaked %ld allocations", rc, live_allocs - live0);
    } else {
        ckpt_free(&b);
    }
    return rc;
}

/* The small reference checkpoint, every optional part present. */
static uint8_t *small_file(size_t *len)
{
    char path[512];
    ckpt_t a = make_sample("2-3-2", 15, 11);
    path_in(path, sizeof path, "small.ckpt");
    uint8_t *b = NULL;
    if (ckpt_save(path, &a) == CKPT_OK)
        b = read_file(path, len);
    free_sample(&a);
    return b;
}

static void test_truncation(void)
{
    size_t len;
    uint8_t *good = small_file(&len);
    if (!good) {
        CHECK(0, "small checkpoint");
        return;
    }
    CHECK(load_bytes(good, len, NULL) == CKPT_OK, "intact small checkpoint");
    for (size_t n = 0; n < len; n++) {
        int rc = load_bytes(good, n, NULL);
        CHECK(rc == CKPT_ETRUNC, "truncated to %zu of %zu bytes: %s", n, len, ckpt_strerror(rc));
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, good, len);
    longer[len] = 0;
    CHECK(load_bytes(longer, len + 1, NULL) == CKPT_EFORMAT, "trailing byte accepted");
    free(longer);
    printf("truncation: %zu lengths (0..%zu) all ETRUNC\n", len, len - 1);
    free(good);
}

static void test_bit_flips(void)
{
    size_t len;
    uint8_t *good = small_file(&len);
    int by_code[16] = {0};
    if (!good) {
        CHECK(0, "small checkpoint");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            good[i] ^= (uint8_t)(1u << bit);
            int rc = load_bytes(good, len, NULL);
            good[i] ^= (uint8_t)(1u << bit);
            CHECK(rc < 0, "bit %d of byte %zu flipped: loaded fine", bit, i);
            if (rc < 0 && rc > -16)
                by_code[-rc]++;
        }
    }
    printf("bit flips: %zu; EMAGIC %d EVERSION %d ETRUNC %d ECRC %d EARCH %d EFORMAT %d\n", len * 8,
           by_code[-CKPT_EMAGIC], by_code[-CKPT_EVERSION], by_code[-CKPT_ETRUNC], by_code[-CKPT_ECRC],
           by_code[-CKPT_EARCH], by_code[-CKPT_EFORMAT]);
    free(good);
}

static void test_crafted(void)
{
    size_t len;
    uint8_t *good = small_file(&len);
    if (!good) {
        CHECK(0, "small checkpoint");
        return;
    }
    uint8_t *b = malloc(len + 64);
    mlp_arch_t expect;
    mlp_arch_parse(&expect, "2-3-2");   /* P = 2*3+3 + 3*2+2 = 17 */

    memcpy(b, good, len);
    b[0] = 'X';
    CHECK(load_bytes(b, len, NULL) == CKPT_EMAGIC, "wrong magic");
    CHECK(load_bytes((const uint8_t *)"KDQN", 4, NULL) == CKPT_ETRUNC, "magic prefix only");
    CHECK(load_bytes((const uint8_t *)"PK\x03\x04", 4, NULL) == CKPT_EMAGIC, "short foreign file");

    memcpy(b, good, len);
    put_u32(b + 8, 2);
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EVERSION, "version 2");
    put_u32(b + 8, 0);
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EVERSION, "version 0");

    /* valid CRC, wrong content */
    memcpy(b, good, len);
    uint32_t nan_bits = 0x7fc00000u;
    put_u32(b + 80 + 4 * 5, nan_bits);
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EFORMAT, "NaN in params with a valid CRC");
    memcpy(b, good, len);
    put_u32(b + 80 + 4 * 17 * 3 + 4, 0x7f800000u);   /* +inf in adam_v */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EFORMAT, "inf in adam_v with a valid CRC");
    memcpy(b, good, len);
    put_u64(b + 80 + 4 * 17 * 4 + 48, 0x7ff8000000000000ull);   /* NaN wall_seconds */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EFORMAT, "NaN counter with a valid CRC");
    memcpy(b, good, len);
    b[len - 5] = 'x';   /* config's NUL */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EFORMAT, "config without NUL");
    memcpy(b, good, len);
    b[len - 10] = 0;   /* NUL inside config */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EFORMAT, "config with an inner NUL");
    memcpy(b, good, len);
    put_u32(b + 12, 15);   /* unknown flag bit 3 */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EFORMAT, "unknown flag");
    memcpy(b, good, len);
    put_u32(b + 20 + 4 * 5, 7);   /* width after n_layers */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EARCH, "stray width after the last layer");
    memcpy(b, good, len);
    put_u32(b + 20 + 4, 0);   /* hidden width 0 */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EARCH, "width 0");
    memcpy(b, good, len);
    put_u32(b + 16, 9);   /* 9 layers */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EARCH, "9 layers");
    memcpy(b, good, len);
    put_u32(b + 20 + 4, 2);   /* 2-2-2: 12 params, header still says 17 */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EFORMAT, "n_params disagrees with the arch");
    memcpy(b, good, len);
    put_u32(b + 64, 5);   /* n_rng 5 */
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EFORMAT, "n_rng > CKPT_MAX_RNG");
    memcpy(b, good, len);
    put_u32(b + 68, CKPT_MAX_CONFIG + 1);
    fix_crc(b, len);
    CHECK(load_bytes(b, len, NULL) == CKPT_EFORMAT, "config_len > CKPT_MAX_CONFIG");
    mlp_arch_t wrong;
    mlp_arch_parse(&wrong, "2-4-2");
    CHECK(load_bytes(good, len, &wrong) == CKPT_EARCH, "expected arch differs");
    CHECK(load_bytes(good, len, &expect) == CKPT_OK, "expected arch equal");

    /* Huge declared sizes in a tiny file whose CRC is valid: only the length
     * checks stand between these and a giant allocation. 8 layers of 4096 is a
     * well-formed arch of 134 M params (537 MB per array). */
    uint8_t h[80 + 64 + 4];
    memset(h, 0, sizeof h);
    memcpy(h, CKPT_MAGIC, 8);
    put_u32(h + 8, CKPT_VERSION);
    put_u32(h + 12, 7);
    put_u32(h + 16, 8);
    for (int l = 0; l <= 8; l++)
        put_u32(h + 20 + 4 * l, 4096);
    put_u64(h + 56, 8ull * (4096ull * 4096ull + 4096ull));
    put_u32(h + 64, 0);
    put_u32(h + 68, 0);
    put_u64(h + 72, sizeof h);   /* honest about the file, lying about the counts */
    fix_crc(h, sizeof h);
    largest_request = 0;
    CHECK(load_bytes(h, sizeof h, NULL) == CKPT_EFORMAT, "huge n_params in a small file");
    CHECK(largest_request <= sizeof h, "allocated %zu bytes for a %zu-byte file", largest_request, sizeof h);
    put_u64(h + 72, 80 + 4ull * 4 * 8ull * (4096ull * 4096ull + 4096ull) + 64 + 4);  /* consistent, absent */
    fix_crc(h, sizeof h);
    largest_request = 0;
    CHECK(load_bytes(h, sizeof h, NULL) == CKPT_ETRUNC, "file_len beyond the real size");
    CHECK(largest_request <= sizeof h, "allocated %zu bytes for a %zu-byte file", largest_request, sizeof h);
    put_u64(h + 56, UINT64_MAX);
    put_u64(h + 72, sizeof h);
    fix_crc(h, sizeof h);
    CHECK(load_bytes(h, sizeof h, NULL) == CKPT_EFORMAT, "n_params = 2^64-1 (overflow)");
    put_u64(h + 56, (UINT64_MAX / 16) + 1);   /* 4*P*4 wraps to 0 in 64 bits */
    fix_crc(h, sizeof h);
    CHECK(load_bytes(h, sizeof h, NULL) == CKPT_EFORMAT, "n_params that wraps the length sum");

    /* random garbage behind a valid magic + version */
    rng_t r;
    rng_seed(&r, 99);
    for (int t = 0; t < 2000; t++) {
        size_t n = 12 + rng_below(&r, (uint32_t)len + 40);
        for (size_t i = 12; i < n; i++)
            b[i] = (uint8_t)rng_next(&r);
        memcpy(b, good, 12);
        if (t & 1 && n >= 84) {   /* half of them with a valid CRC and honest file_len */
            put_u64(b + 72, n);
            fix_crc(b, n);
        }
        CHECK(load_bytes(b, n, NULL) < 0, "random file %d of %zu bytes accepted", t, n);
    }
    free(b);
    free(good);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    int unit = strcmp(mode, "fault") != 0, fault = strcmp(mode, "unit") != 0;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kdqn_ckpt_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    CHECK(strlen(ckpt_strerror(CKPT_ECRC)) > 0 && strlen(ckpt_strerror(-42)) > 0, "strerror");
    if (unit) {
        test_crc();
        test_round_trip();
        test_expect_arch();
        test_save_validation();
        test_save_failures();
        test_alloc_failures();
    }
    if (fault) {
        test_truncation();
        test_bit_flips();
        test_crafted();
    }
    remove_tmpdir();
    if (failures) {
        fprintf(stderr, "test_ckpt %s: %d check(s) failed\n", mode, failures);
        return 1;
    }
    printf("test_ckpt %s: all passed\n", mode);
    return 0;
}
