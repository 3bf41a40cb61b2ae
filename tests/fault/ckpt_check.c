/* ckpt_check PATH ARCH — does a checkpoint load fully, with the expected architecture?
 *
 * Used by tests/fault/ckpt_kill.sh after every SIGKILL of a learner that was
 * writing checkpoints. ckpt_load checks magic, version, sizes, the CRC-32C over
 * the whole file, finiteness and (here) the architecture; on top of that this
 * checks the counters are sane. Prints one line:
 *   ok env_steps=N updates=N policy_version=N wall=S
 * and exits 0; "absent" and exit 3 if there is no file; "bad <reason>" and exit 1
 * for a file that does not load (a torn or wrong checkpoint). Usage error: 2. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ckpt.h"
#include "mlp.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: ckpt_check PATH ARCH (e.g. 4-64-64-2)\n");
        return 2;
    }
    mlp_arch_t want;
    if (mlp_arch_parse(&want, argv[2]) != 0) {
        fprintf(stderr, "ckpt_check: bad architecture '%s'\n", argv[2]);
        return 2;
    }
    struct stat st;
    if (stat(argv[1], &st) != 0 && errno == ENOENT) {
        printf("absent\n");
        return 3;
    }
    ckpt_t ck;
    int rc = ckpt_load(argv[1], &want, &ck);
    if (rc != 0) {
        printf("bad %s\n", ckpt_strerror(rc));
        return 1;
    }
    const ckpt_counters_t *c = &ck.counters;
    const char *why = NULL;
    if (!ck.params)
        why = "no parameters";
    else if (!ck.target_params || !ck.adam_m || !ck.adam_v)
        why = "not a full training checkpoint (target/Adam state missing)";
    else if (c->env_steps < 0 || c->updates < 0 || c->policy_version < 0 || !(c->wall_seconds >= 0))
        why = "negative counters";
    else if (ck.adam_t != c->updates)
        why = "Adam step count differs from the update counter";
    if (why) {
        printf("bad %s\n", why);
        ckpt_free(&ck);
        return 1;
    }
    printf("ok env_steps=%lld updates=%lld policy_version=%lld wall=%.3f\n", (long long)c->env_steps,
           (long long)c->updates, (long long)c->policy_version, c->wall_seconds);
    ckpt_free(&ck);
    return 0;
}
