#include "flags.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void value_str(const flag_t *f, char *buf, size_t len)
{
    switch (f->type) {
    case FLAG_BOOL: snprintf(buf, len, "%s", *(int *)f->ptr ? "true" : "false"); break;
    case FLAG_INT: snprintf(buf, len, "%d", *(int *)f->ptr); break;
    case FLAG_I64: snprintf(buf, len, "%lld", (long long)*(int64_t *)f->ptr); break;
    case FLAG_U64: snprintf(buf, len, "%llu", (unsigned long long)*(uint64_t *)f->ptr); break;
    case FLAG_FLOAT: snprintf(buf, len, "%g", (double)*(float *)f->ptr); break;
    case FLAG_DOUBLE: snprintf(buf, len, "%g", *(double *)f->ptr); break;
    case FLAG_STR: snprintf(buf, len, "%s", *(const char **)f->ptr ? *(const char **)f->ptr : ""); break;
    }
}

void flags_usage(const flag_t *flags, int n, const char *prog, const char *summary)
{
    printf("usage: %s [flags]\n%s\n\nflags (default in brackets):\n", prog, summary);
    for (int i = 0; i < n; i++) {
        char v[256], name[64];
        value_str(&flags[i], v, sizeof v);
        snprintf(name, sizeof name, "--%s%s", flags[i].name, flags[i].type == FLAG_BOOL ? "" : " X");
        printf("  %-26s %s [%s]\n", name, flags[i].help, v);
    }
    printf("  %-26s %s\n  %-26s %s\n", "--help", "this text", "--version", "print the version");
}

static int set_value(const flag_t *f, const char *s, const char *prog)
{
    char *end = NULL;
    errno = 0;
    double d = 0;
    switch (f->type) {
    case FLAG_STR:
        *(const char **)f->ptr = s;
        return 0;
    case FLAG_BOOL:
        if (!strcmp(s, "1") || !strcmp(s, "true")) *(int *)f->ptr = 1;
        else if (!strcmp(s, "0") || !strcmp(s, "false")) *(int *)f->ptr = 0;
        else goto bad;
        return 0;
    case FLAG_INT: case FLAG_I64: case FLAG_U64: {
        if (!*s) goto bad;
        long long v = strtoll(s, &end, 10);
        if (errno || *end) goto bad;
        d = (double)v;
        if (f->min <= f->max && (d < f->min || d > f->max)) goto range;
        if (f->type == FLAG_INT) {
            if (v < -2147483647LL || v > 2147483647LL) goto range;
            *(int *)f->ptr = (int)v;
        } else if (f->type == FLAG_I64) {
            *(int64_t *)f->ptr = v;
        } else {
            if (v < 0) goto range;
            *(uint64_t *)f->ptr = (uint64_t)v;
        }
        return 0;
    }
    case FLAG_FLOAT: case FLAG_DOUBLE:
        if (!*s) goto bad;
        d = strtod(s, &end);
        if (errno || *end || !isfinite(d)) goto bad;
        if (f->min <= f->max && (d < f->min || d > f->max)) goto range;
        if (f->type == FLAG_FLOAT) *(float *)f->ptr = (float)d;
        else *(double *)f->ptr = d;
        return 0;
    }
bad:
    fprintf(stderr, "%s: --%s: '%s' is not a valid value (try --help)\n", prog, f->name, s);
    return -1;
range:
    fprintf(stderr, "%s: --%s: %s is outside [%g, %g]\n", prog, f->name, s, f->min, f->max);
    return -1;
}

int flags_parse(const flag_t *flags, int n, int argc, char **argv, const char *prog, const char *summary,
                const char *version)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            flags_usage(flags, n, prog, summary);
            return 1;
        }
        if (!strcmp(a, "--version")) {
            printf("%s %s\n", prog, version);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", prog, a);
            return -1;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const flag_t *f = NULL;
        for (int k = 0; k < n; k++)
            if (strlen(flags[k].name) == nlen && !strncmp(flags[k].name, name, nlen))
                f = &flags[k];
        if (!f) {
            fprintf(stderr, "%s: unknown flag '--%.*s' (try --help)\n", prog, (int)nlen, name);
            return -1;
        }
        const char *val;
        if (eq) {
            val = eq + 1;
        } else if (f->type == FLAG_BOOL) {
            val = "1";
        } else {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: --%s needs a value (try --help)\n", prog, f->name);
                return -1;
            }
            val = argv[++i];
        }
        if (set_value(f, val, prog) != 0)
            return -1;
    }
    return 0;
}

size_t flags_dump(const flag_t *flags, int n, char *buf, size_t len)
{
    size_t off = 0;
    if (len)
        buf[0] = '\0';
    for (int i = 0; i < n && off < len; i++) {
        char v[256];
        value_str(&flags[i], v, sizeof v);
        int w = snprintf(buf + off, len - off, "%s=%s\n", flags[i].name, v);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    return off < len ? off : len - 1;
}
