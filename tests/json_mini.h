/* json_mini.h — a small recursive-descent JSON reader for tests (DOM, read-only).
 *
 * Accepts RFC 8259 JSON plus the non-standard number tokens Python's json module
 * writes (NaN, Infinity, -Infinity). Numbers are converted with strtod (correctly
 * rounded in glibc), so a float written by Python's repr reads back exactly.
 * Nesting is limited to JSON_MAX_DEPTH. Test-only: it allocates freely. */
#ifndef KDQN_JSON_MINI_H
#define KDQN_JSON_MINI_H
#include <stddef.h>

enum { JSON_MAX_DEPTH = 64 };

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type_t;

typedef struct json_value {
    json_type_t type;
    int boolean;               /* JSON_BOOL */
    double number;             /* JSON_NUMBER */
    char *string;              /* JSON_STRING: NUL-terminated UTF-8, owned */
    size_t count;              /* JSON_ARRAY / JSON_OBJECT: number of items */
    struct json_value *items;  /* (count,) owned */
    char **keys;               /* (count,) JSON_OBJECT only, owned */
} json_value_t;

/* Parses text[0..len). Returns an owned tree, or NULL with a message (including
 * the byte offset) in err[errlen] on malformed input or allocation failure. */
json_value_t *json_parse(const char *text, size_t len, char *err, size_t errlen);
/* Reads and parses a whole file; NULL with a message in err on failure. */
json_value_t *json_parse_file(const char *path, char *err, size_t errlen);
/* NULL-safe; sets *v to NULL. */
void json_free(json_value_t **v);

/* Member `key` of an object, or NULL when v is not an object or has no such key. */
const json_value_t *json_get(const json_value_t *v, const char *key);
/* Item i of an array, or NULL when v is not an array or i is out of range. */
const json_value_t *json_at(const json_value_t *v, size_t i);

#endif
