/* kdqn-export — a checkpoint's weights as NumPy files.
 *
 *   kdqn-export --checkpoint PATH [--format npz|npy] [--out OUT] [--target]
 *
 * --format npz (default): one .npz file, i.e. a zip archive (entries STORED,
 *   uncompressed, as numpy.savez writes them) holding W0.npy, b0.npy, W1.npy,
 *   b1.npy, ..., arch.npy (int32 widths) and arch.json.
 * --format npy: a folder holding the same files side by side.
 *
 * W{l}.npy is float32 of shape (in, out) — kdqn's own layout, so a forward
 * pass is  h = relu(x @ W0 + b0); ...; q = h @ W{L-1} + b{L-1}  — and
 * b{l}.npy is float32 of shape (out,). Each .npy file is format version 1.0:
 * "\x93NUMPY", 0x01 0x00, a little-endian u16 header length, then the header
 * dict padded with spaces and a final '\n' so the data starts on a 64-byte
 * boundary, then the little-endian float32 data.
 *
 * The zip is written from scratch: local file headers, the data, the central
 * directory and the end-of-central-directory record; each entry carries the
 * zip CRC-32 (polynomial 0xEDB88320, reflected, init and final XOR ~0) of its
 * bytes. Timestamps are fixed (1980-01-01 00:00) so the same checkpoint
 * always exports to the same bytes. The .npz is written to a temporary file
 * in the same folder and renamed over OUT.
 *
 * Default OUT: PATH without a trailing ".ckpt", plus ".npz" (npz) or "-npy"
 * (npy folder). Exit status: 0 ok; 2 bad flags or a missing, unreadable or
 * corrupt checkpoint; 3 cannot write the output. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ckpt.h"
#include "flags.h"
#include "mlp.h"

#ifndef KDQN_VERSION_STRING
#define KDQN_VERSION_STRING "unknown"
#endif

#define PROG "kdqn-export"
enum { EXIT_USAGE = 2, EXIT_RUNTIME = 3 };

/* ---- growable byte buffer ---- */
typedef struct {
    unsigned char *p;
    size_t len, cap;
    int failed;
} buf_t;

static void buf_put(buf_t *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) {
            b->failed = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}
static void buf_u16(buf_t *b, unsigned v)
{
    unsigned char x[2] = {(unsigned char)(v & 0xff), (unsigned char)((v >> 8) & 0xff)};
    buf_put(b, x, 2);
}
static void buf_u32(buf_t *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v & 0xff), (unsigned char)((v >> 8) & 0xff),
                          (unsigned char)((v >> 16) & 0xff), (unsigned char)((v >> 24) & 0xff)};
    buf_put(b, x, 4);
}

/* ---- zip CRC-32 (IEEE 802.3, reflected 0xEDB88320) ---- */
static uint32_t crc_table[256];
static void crc32_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}
static uint32_t crc32_zip(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* ---- .npy v1.0 ---- */
/* One exported array: its file name and its complete .npy bytes. */
typedef struct {
    char name[32];
    buf_t npy;
} entry_t;

/* descr "<f4" or "<i4"; data: n little-endian 4-byte elements (host is
 * little-endian: the proto and ckpt layers already refuse big-endian builds). */
static void npy_write(buf_t *b, const char *descr, int ndim, const int *shape, const void *data, size_t n)
{
    char hdr[256];
    int h = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < ndim; d++)
        h += snprintf(hdr + h, sizeof hdr - (size_t)h, d + 1 < ndim ? "%d, " : "%d", shape[d]);
    h += snprintf(hdr + h, sizeof hdr - (size_t)h, ndim == 1 ? ",), }" : "), }");
    /* magic(6) + version(2) + u16 length(2) + header + padding + '\n' == multiple of 64 */
    size_t total = 10 + (size_t)h + 1;
    size_t pad = (64 - total % 64) % 64;
    buf_put(b, "\x93NUMPY\x01\x00", 8);
    buf_u16(b, (unsigned)((size_t)h + pad + 1));
    buf_put(b, hdr, (size_t)h);
    for (size_t i = 0; i < pad; i++)
        buf_put(b, " ", 1);
    buf_put(b, "\n", 1);
    buf_put(b, data, n * 4);
}

/* ---- zip (STORED entries, no zip64: everything here is far below 4 GiB) ---- */
static void zip_build(buf_t *z, entry_t *e, int n)
{
    const unsigned dos_time = 0, dos_date = (0u << 9) | (1u << 5) | 1u; /* 1980-01-01 00:00:00 */
    uint32_t *offset = calloc((size_t)n, sizeof *offset), *crc = calloc((size_t)n, sizeof *crc);
    if (!offset || !crc) {
        z->failed = 1;
        free(offset);
        free(crc);
        return;
    }
    for (int i = 0; i < n; i++) {
        size_t nl = strlen(e[i].name);
        offset[i] = (uint32_t)z->len;
        crc[i] = crc32_zip(e[i].npy.p, e[i].npy.len);
        buf_u32(z, 0x04034b50u);      /* local file header signature */
        buf_u16(z, 20);               /* version needed to extract: 2.0 */
        buf_u16(z, 0);                /* general purpose flags */
        buf_u16(z, 0);                /* method: stored */
        buf_u16(z, dos_time);
        buf_u16(z, dos_date);
        buf_u32(z, crc[i]);
        buf_u32(z, (uint32_t)e[i].npy.len); /* compressed size */
        buf_u32(z, (uint32_t)e[i].npy.len); /* uncompressed size */
        buf_u16(z, (unsigned)nl);
        buf_u16(z, 0);                /* extra field length */
        buf_put(z, e[i].name, nl);
        buf_put(z, e[i].npy.p, e[i].npy.len);
    }
    uint32_t cd_start = (uint32_t)z->len;
    for (int i = 0; i < n; i++) {
        size_t nl = strlen(e[i].name);
        buf_u32(z, 0x02014b50u);      /* central directory header signature */
        buf_u16(z, (3u << 8) | 20u);  /* made by: Unix, 2.0 */
        buf_u16(z, 20);
        buf_u16(z, 0);
        buf_u16(z, 0);
        buf_u16(z, dos_time);
        buf_u16(z, dos_date);
        buf_u32(z, crc[i]);
        buf_u32(z, (uint32_t)e[i].npy.len);
        buf_u32(z, (uint32_t)e[i].npy.len);
        buf_u16(z, (unsigned)nl);
        buf_u16(z, 0);                /* extra */
        buf_u16(z, 0);                /* comment */
        buf_u16(z, 0);                /* disk number start */
        buf_u16(z, 0);                /* internal attributes */
        buf_u32(z, 0100644u << 16);   /* external attributes: regular file, rw-r--r-- */
        buf_u32(z, offset[i]);
        buf_put(z, e[i].name, nl);
    }
    uint32_t cd_size = (uint32_t)z->len - cd_start;
    buf_u32(z, 0x06054b50u);          /* end of central directory */
    buf_u16(z, 0);                    /* this disk */
    buf_u16(z, 0);                    /* disk with the central directory */
    buf_u16(z, (unsigned)n);
    buf_u16(z, (unsigned)n);
    buf_u32(z, cd_size);
    buf_u32(z, cd_start);
    buf_u16(z, 0);                    /* comment length */
    free(offset);
    free(crc);
}

/* Writes data to path through path.tmp.PID + rename. Returns 0 or -1 (errno set). */
static int write_file_atomic(const char *path, const void *data, size_t n)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 32);
    if (!tmp)
        return -1;
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(tmp);
        return -1;
    }
    int ok = fwrite(data, 1, n, f) == n;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    int saved = errno;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, path) == 0) {
        free(tmp);
        return 0;
    }
    saved = errno ? errno : saved;
    unlink(tmp);
    free(tmp);
    errno = saved;
    return -1;
}

int main(int argc, char **argv)
{
    const char *ckpt_path = NULL, *format = "npz", *out_arg = NULL;
    int use_target = 0, quiet = 0;
    const flag_t flags[] = {
        {"checkpoint", FLAG_STR, &ckpt_path, 0, -1, "checkpoint to export (required)"},
        {"format", FLAG_STR, &format, 0, -1, "npz (one zip file) or npy (a folder of .npy files)"},
        {"out", FLAG_STR, &out_arg, 0, -1,
         "output file (npz) or folder (npy); default: the checkpoint path without .ckpt, plus .npz / -npy"},
        {"target", FLAG_BOOL, &use_target, 0, -1, "export the target-network parameters instead"},
        {"quiet", FLAG_BOOL, &quiet, 0, -1, "print nothing on success"},
    };
    const int nflags = (int)(sizeof flags / sizeof flags[0]);
    const char *summary =
        "Writes a kdqn checkpoint's weights as NumPy files: W0.npy (in, out) float32, b0.npy (out,),\n"
        "W1.npy, ..., arch.npy (int32 widths) and arch.json. Exit status 2 on bad flags or a bad\n"
        "checkpoint, 3 if the output cannot be written.";
    int pr = flags_parse(flags, nflags, argc, argv, PROG, summary, KDQN_VERSION_STRING);
    if (pr > 0)
        return 0;
    if (pr < 0)
        return EXIT_USAGE;
    if (!ckpt_path || !*ckpt_path) {
        fprintf(stderr, PROG ": --checkpoint PATH is required (try --help)\n");
        return EXIT_USAGE;
    }
    int npz;
    if (!strcmp(format, "npz"))
        npz = 1;
    else if (!strcmp(format, "npy"))
        npz = 0;
    else {
        fprintf(stderr, PROG ": --format: '%s' is not npz or npy (try --help)\n", format);
        return EXIT_USAGE;
    }
    if (out_arg && !*out_arg) {
        fprintf(stderr, PROG ": --out is empty (try --help)\n");
        return EXIT_USAGE;
    }

    ckpt_t ck;
    int rc = ckpt_load(ckpt_path, NULL, &ck);
    if (rc != CKPT_OK) {
        if (rc == CKPT_EIO)
            fprintf(stderr, PROG ": cannot load checkpoint '%s': %s (%s)\n", ckpt_path, ckpt_strerror(rc),
                    strerror(errno));
        else
            fprintf(stderr, PROG ": cannot load checkpoint '%s': %s\n", ckpt_path, ckpt_strerror(rc));
        return rc == CKPT_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    int status = 0;
    char *out = NULL;
    entry_t *e = NULL;
    int n_entries = 0;
    buf_t zip = {0};
    const float *params = ck.params;
    if (use_target) {
        if (!ck.target_params) {
            fprintf(stderr, PROG ": checkpoint '%s' holds no target-network parameters (drop --target)\n",
                    ckpt_path);
            status = EXIT_USAGE;
            goto done;
        }
        params = ck.target_params;
    }

    if (out_arg) {
        out = strdup(out_arg);
    } else {
        size_t n = strlen(ckpt_path);
        out = malloc(n + 8);
        if (out) {
            memcpy(out, ckpt_path, n + 1);
            if (n > 5 && !strcmp(out + n - 5, ".ckpt"))
                out[n - 5] = '\0';
            strcat(out, npz ? ".npz" : "-npy");
        }
    }
    const mlp_arch_t *arch = &ck.arch;
    const int L = arch->n_layers;
    e = calloc((size_t)(2 * L + 2), sizeof *e);
    if (!out || !e) {
        fprintf(stderr, PROG ": out of memory\n");
        status = EXIT_RUNTIME;
        goto done;
    }

    char arch_str[128];
    mlp_arch_format(arch, arch_str, sizeof arch_str);
    for (int l = 0; l < L; l++) {
        int wshape[2] = {arch->sizes[l], arch->sizes[l + 1]}, bshape[1] = {arch->sizes[l + 1]};
        snprintf(e[n_entries].name, sizeof e[n_entries].name, "W%d.npy", l);
        npy_write(&e[n_entries++].npy, "<f4", 2, wshape, params + arch->w_off[l],
                  (size_t)wshape[0] * (size_t)wshape[1]);
        snprintf(e[n_entries].name, sizeof e[n_entries].name, "b%d.npy", l);
        npy_write(&e[n_entries++].npy, "<f4", 1, bshape, params + arch->b_off[l], (size_t)bshape[0]);
    }
    int32_t widths[MLP_MAX_LAYERS + 1];
    for (int l = 0; l <= L; l++)
        widths[l] = arch->sizes[l];
    int ashape[1] = {L + 1};
    snprintf(e[n_entries].name, sizeof e[n_entries].name, "arch.npy");
    npy_write(&e[n_entries++].npy, "<i4", 1, ashape, widths, (size_t)(L + 1));
    /* arch.json: plain bytes (np.load gives them back as raw bytes from an npz). */
    {
        buf_t *j = &e[n_entries].npy;
        snprintf(e[n_entries++].name, sizeof e[0].name, "arch.json");
        char tmp[512];
        int k = snprintf(tmp, sizeof tmp,
                         "{\"arch\": \"%s\", \"sizes\": [", arch_str);
        buf_put(j, tmp, (size_t)k);
        for (int l = 0; l <= L; l++) {
            k = snprintf(tmp, sizeof tmp, "%s%d", l ? ", " : "", arch->sizes[l]);
            buf_put(j, tmp, (size_t)k);
        }
        k = snprintf(tmp, sizeof tmp,
                     "], \"n_layers\": %d, \"n_params\": %zu, \"params\": \"%s\", \"hidden_activation\": \"relu\", "
                     "\"output_activation\": \"linear\", \"layout\": \"q = relu(x @ W0 + b0) ... @ W%d + b%d; "
                     "W_l shape (in, out)\", \"dtype\": \"float32\", \"updates\": %lld, \"env_steps\": %lld}\n",
                     L, arch->n_params, use_target ? "target" : "online", L - 1, L - 1,
                     (long long)ck.counters.updates, (long long)ck.counters.env_steps);
        buf_put(j, tmp, (size_t)k);
    }
    for (int i = 0; i < n_entries; i++)
        if (e[i].npy.failed) {
            fprintf(stderr, PROG ": out of memory\n");
            status = EXIT_RUNTIME;
            goto done;
        }

    if (npz) {
        crc32_init();
        zip_build(&zip, e, n_entries);
        if (zip.failed) {
            fprintf(stderr, PROG ": out of memory\n");
            status = EXIT_RUNTIME;
            goto done;
        }
        if (write_file_atomic(out, zip.p, zip.len) != 0) {
            fprintf(stderr, PROG ": cannot write '%s': %s\n", out, strerror(errno));
            status = EXIT_RUNTIME;
            goto done;
        }
        if (!quiet)
            printf("%s: wrote %s (%s, %d arrays, %zu bytes)\n", PROG, out, arch_str, n_entries - 1, zip.len);
    } else {
        if (mkdir(out, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, PROG ": cannot create folder '%s': %s\n", out, strerror(errno));
            status = EXIT_RUNTIME;
            goto done;
        }
        struct stat st;
        if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, PROG ": '%s' exists and is not a folder\n", out);
            status = EXIT_RUNTIME;
            goto done;
        }
        size_t olen = strlen(out);
        for (int i = 0; i < n_entries; i++) {
            char *p = malloc(olen + sizeof e[i].name + 2);
            if (!p) {
                fprintf(stderr, PROG ": out of memory\n");
                status = EXIT_RUNTIME;
                goto done;
            }
            sprintf(p, "%s/%s", out, e[i].name);
            int w = write_file_atomic(p, e[i].npy.p, e[i].npy.len);
            if (w != 0)
                fprintf(stderr, PROG ": cannot write '%s': %s\n", p, strerror(errno));
            free(p);
            if (w != 0) {
                status = EXIT_RUNTIME;
                goto done;
            }
        }
        if (!quiet)
            printf("%s: wrote %s/ (%s, %d files)\n", PROG, out, arch_str, n_entries);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, PROG ": error writing output\n");
        status = EXIT_RUNTIME;
    }
done:
    for (int i = 0; e && i < n_entries; i++)
        free(e[i].npy.p);
    free(e);
    free(zip.p);
    free(out);
    ckpt_free(&ck);
    return status;
}
