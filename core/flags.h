/* flags.h — a table-driven command-line parser: `--name value` or `--name=value`,
 * booleans as bare `--name`. --help prints every flag with its default. */
#ifndef KDQN_FLAGS_H
#define KDQN_FLAGS_H
#include <stddef.h>
#include <stdint.h>

typedef enum { FLAG_BOOL, FLAG_INT, FLAG_I64, FLAG_FLOAT, FLAG_DOUBLE, FLAG_STR, FLAG_U64 } flag_type_t;

typedef struct {
    const char *name;     /* without the leading "--" */
    flag_type_t type;
    void *ptr;            /* int*, int64_t*, float*, double*, const char**, uint64_t* */
    double min, max;      /* numeric range, inclusive (ignored when min > max) */
    const char *help;
} flag_t;

/* Parses argv against the table. Returns 0; 1 if --help or --version was
 * printed (the caller exits 0); -1 on an error, after printing one line naming
 * the flag and the problem (the caller exits 2). */
int flags_parse(const flag_t *flags, int n, int argc, char **argv, const char *prog, const char *summary,
                const char *version);
/* Prints the usage with every flag's current value as its default. */
void flags_usage(const flag_t *flags, int n, const char *prog, const char *summary);
/* Writes "name=value\n" for every flag into buf (the configuration a run used). */
size_t flags_dump(const flag_t *flags, int n, char *buf, size_t len);

#endif
