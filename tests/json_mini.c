/* json_mini.c — see json_mini.h. */
#include "json_mini.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end, *start;
    char *err;
    size_t errlen;
    int failed;
} json_parser_t;

static void jp_fail(json_parser_t *jp, const char *fmt, ...)
{
    if (jp->failed)
        return;
    jp->failed = 1;
    if (!jp->err || !jp->errlen)
        return;
    int off = snprintf(jp->err, jp->errlen, "offset %zu: ", (size_t)(jp->p - jp->start));
    if (off < 0 || (size_t)off >= jp->errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(jp->err + off, jp->errlen - (size_t)off, fmt, ap);
    va_end(ap);
}

static void jp_skip_ws(json_parser_t *jp)
{
    while (jp->p < jp->end &&
           (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static int jp_literal(json_parser_t *jp, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(jp->end - jp->p) >= n && memcmp(jp->p, lit, n) == 0) {
        jp->p += n;
        return 1;
    }
    return 0;
}

static void value_clear(json_value_t *v)
{
    if (v->type == JSON_STRING) {
        free(v->string);
    } else if (v->type == JSON_ARRAY || v->type == JSON_OBJECT) {
        for (size_t i = 0; i < v->count; i++) {
            value_clear(&v->items[i]);
            if (v->keys)
                free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
    }
    memset(v, 0, sizeof *v);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t utf8_encode(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static int jp_hex4(json_parser_t *jp, unsigned *cp)
{
    if (jp->end - jp->p < 4) {
        jp_fail(jp, "truncated \\u escape");
        return -1;
    }
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(jp->p[k]);
        if (h < 0) {
            jp_fail(jp, "bad hex digit in \\u escape");
            return -1;
        }
        v = v * 16 + (unsigned)h;
    }
    jp->p += 4;
    *cp = v;
    return 0;
}

/* Parses a string starting at the opening quote; returns an owned copy or NULL. */
static char *jp_string(json_parser_t *jp)
{
    jp->p++; /* opening quote */
    /* The decoded string is never longer than its escaped form. */
    const char *q = jp->p;
    while (q < jp->end && *q != '"') {
        if (*q == '\\' && q + 1 < jp->end)
            q++;
        q++;
    }
    if (q >= jp->end) {
        jp_fail(jp, "unterminated string");
        return NULL;
    }
    char *out = malloc((size_t)(q - jp->p) + 1);
    if (!out) {
        jp_fail(jp, "out of memory");
        return NULL;
    }
    size_t n = 0;
    while (*jp->p != '"') {
        unsigned char c = (unsigned char)*jp->p;
        if (c < 0x20) {
            jp_fail(jp, "control character in string");
            goto err;
        }
        if (c != '\\') {
            out[n++] = (char)c;
            jp->p++;
            continue;
        }
        jp->p++;
        char e = *jp->p++;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (jp_hex4(jp, &cp) < 0)
                goto err;
            if (cp >= 0xD800 && cp < 0xDC00 && jp->end - jp->p >= 6 && jp->p[0] == '\\' &&
                jp->p[1] == 'u') {
                const char *save = jp->p;
                unsigned lo;
                jp->p += 2;
                if (jp_hex4(jp, &lo) < 0)
                    goto err;
                if (lo >= 0xDC00 && lo < 0xE000)
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                else
                    jp->p = save; /* lone surrogate: keep as is */
            }
            /* \uXXXX is 6 bytes and encodes to at most 4, a surrogate pair is 12 -> 4. */
            n += utf8_encode(cp, out + n);
            break;
        }
        default:
            jp->p--;
            jp_fail(jp, "bad escape '\\%c'", e);
            goto err;
        }
    }
    jp->p++; /* closing quote */
    out[n] = '\0';
    return out;
err:
    free(out);
    return NULL;
}

static int jp_number(json_parser_t *jp, double *out)
{
    const char *s = jp->p;
    const char *q = s;
    if (q < jp->end && *q == '-')
        q++;
    if (jp->end - q >= 8 && memcmp(q, "Infinity", 8) == 0) {
        jp->p = q + 8;
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (q >= jp->end || *q < '0' || *q > '9') {
        jp_fail(jp, "bad number");
        return -1;
    }
    if (*q == '0')
        q++;
    else
        while (q < jp->end && *q >= '0' && *q <= '9')
            q++;
    if (q < jp->end && *q == '.') {
        q++;
        if (q >= jp->end || *q < '0' || *q > '9') {
            jp_fail(jp, "bad fraction");
            return -1;
        }
        while (q < jp->end && *q >= '0' && *q <= '9')
            q++;
    }
    if (q < jp->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < jp->end && (*q == '+' || *q == '-'))
            q++;
        if (q >= jp->end || *q < '0' || *q > '9') {
            jp_fail(jp, "bad exponent");
            return -1;
        }
        while (q < jp->end && *q >= '0' && *q <= '9')
            q++;
    }
    /* Copy out: the input need not be NUL-terminated. */
    char buf[512];
    size_t n = (size_t)(q - s);
    if (n >= sizeof buf) {
        jp_fail(jp, "number too long");
        return -1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    *out = strtod(buf, NULL);
    jp->p = q;
    return 0;
}

static int jp_value(json_parser_t *jp, json_value_t *v, int depth);

static int jp_push(json_parser_t *jp, json_value_t *v, size_t *cap, int with_keys)
{
    if (v->count < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    json_value_t *items = realloc(v->items, ncap * sizeof *items);
    if (!items) {
        jp_fail(jp, "out of memory");
        return -1;
    }
    v->items = items;
    if (with_keys) {
        char **keys = realloc(v->keys, ncap * sizeof *keys);
        if (!keys) {
            jp_fail(jp, "out of memory");
            return -1;
        }
        v->keys = keys;
    }
    *cap = ncap;
    return 0;
}

static int jp_container(json_parser_t *jp, json_value_t *v, int depth, int is_object)
{
    const char close = is_object ? '}' : ']';
    size_t cap = 0;
    v->type = is_object ? JSON_OBJECT : JSON_ARRAY;
    jp->p++;
    jp_skip_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return 0;
    }
    for (;;) {
        if (jp_push(jp, v, &cap, is_object) < 0)
            return -1;
        json_value_t *item = &v->items[v->count];
        memset(item, 0, sizeof *item);
        if (is_object) {
            jp_skip_ws(jp);
            if (jp->p >= jp->end || *jp->p != '"') {
                jp_fail(jp, "expected a string key");
                return -1;
            }
            char *key = jp_string(jp);
            if (!key)
                return -1;
            v->keys[v->count] = key;
            jp_skip_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':') {
                v->count++; /* so the key is freed */
                jp_fail(jp, "expected ':'");
                return -1;
            }
            jp->p++;
        }
        int rc = jp_value(jp, item, depth + 1);
        v->count++; /* count it even on failure: value_clear frees what was built */
        if (rc < 0)
            return -1;
        jp_skip_ws(jp);
        if (jp->p < jp->end && *jp->p == ',') {
            jp->p++;
            continue;
        }
        if (jp->p < jp->end && *jp->p == close) {
            jp->p++;
            return 0;
        }
        jp_fail(jp, "expected ',' or '%c'", close);
        return -1;
    }
}

static int jp_value(json_parser_t *jp, json_value_t *v, int depth)
{
    memset(v, 0, sizeof *v);
    if (depth > JSON_MAX_DEPTH) {
        jp_fail(jp, "nesting deeper than %d", JSON_MAX_DEPTH);
        return -1;
    }
    jp_skip_ws(jp);
    if (jp->p >= jp->end) {
        jp_fail(jp, "unexpected end of input");
        return -1;
    }
    switch (*jp->p) {
    case '{': return jp_container(jp, v, depth, 1);
    case '[': return jp_container(jp, v, depth, 0);
    case '"':
        v->type = JSON_STRING;
        v->string = jp_string(jp);
        if (!v->string) {
            v->type = JSON_NULL;
            return -1;
        }
        return 0;
    default: break;
    }
    if (jp_literal(jp, "null")) {
        v->type = JSON_NULL;
        return 0;
    }
    if (jp_literal(jp, "true")) {
        v->type = JSON_BOOL;
        v->boolean = 1;
        return 0;
    }
    if (jp_literal(jp, "false")) {
        v->type = JSON_BOOL;
        return 0;
    }
    if (jp_literal(jp, "NaN")) {
        v->type = JSON_NUMBER;
        v->number = NAN;
        return 0;
    }
    v->type = JSON_NUMBER;
    return jp_number(jp, &v->number);
}

json_value_t *json_parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_parser_t jp = {text, text + len, text, err, errlen, 0};
    if (err && errlen)
        err[0] = '\0';
    json_value_t *root = calloc(1, sizeof *root);
    if (!root) {
        jp_fail(&jp, "out of memory");
        return NULL;
    }
    if (jp_value(&jp, root, 0) < 0)
        goto err;
    jp_skip_ws(&jp);
    if (jp.p != jp.end) {
        jp_fail(&jp, "trailing characters after the value");
        goto err;
    }
    return root;
err:
    json_free(&root);
    return NULL;
}

json_value_t *json_parse_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s", path);
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "out of memory reading %s", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "read error on %s", path);
        free(buf);
        return NULL;
    }
    json_value_t *v = json_parse(buf, len, err, errlen);
    free(buf);
    return v;
}

void json_free(json_value_t **v)
{
    if (!v || !*v)
        return;
    value_clear(*v);
    free(*v);
    *v = NULL;
}

const json_value_t *json_get(const json_value_t *v, const char *key)
{
    if (!v || v->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->keys[i], key) == 0)
            return &v->items[i];
    return NULL;
}

const json_value_t *json_at(const json_value_t *v, size_t i)
{
    if (!v || v->type != JSON_ARRAY || i >= v->count)
        return NULL;
    return &v->items[i];
}
