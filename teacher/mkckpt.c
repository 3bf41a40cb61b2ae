/* kdqn-teacher-mkckpt — writes a randomly initialised checkpoint (mlp_init,
 * PyTorch's nn.Linear default) of a given architecture, for tests and
 * benchmarks of the teacher service when no trained teacher is at hand.
 *
 *   kdqn-teacher-mkckpt ARCH PATH [SEED]      e.g. 4-256-256-2 /tmp/t.ckpt 7 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt.h"
#include "mlp.h"
#include "rng.h"

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4 || !strcmp(argv[1], "--help")) {
        fprintf(argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
                "usage: kdqn-teacher-mkckpt ARCH PATH [SEED]   (ARCH e.g. 4-256-256-2, SEED default 1)\n");
        return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    mlp_arch_t arch;
    if (mlp_arch_parse(&arch, argv[1]) != MLP_OK) {
        fprintf(stderr, "kdqn-teacher-mkckpt: bad architecture '%s'\n", argv[1]);
        return 2;
    }
    unsigned long long seed = argc == 4 ? strtoull(argv[3], NULL, 0) : 1;
    mlp_t *net = mlp_new(&arch, 1);
    if (!net) {
        fprintf(stderr, "kdqn-teacher-mkckpt: out of memory\n");
        return 3;
    }
    rng_t rng;
    rng_seed(&rng, seed);
    mlp_init(net, &rng);
    ckpt_t ck;
    memset(&ck, 0, sizeof ck);
    ck.arch = arch;
    ck.params = net->params;
    ck.config = "kdqn-teacher-mkckpt: random initialisation";
    int rc = ckpt_save(argv[2], &ck);
    mlp_destroy(&net);
    if (rc != CKPT_OK) {
        fprintf(stderr, "kdqn-teacher-mkckpt: cannot write '%s': %s\n", argv[2], ckpt_strerror(rc));
        return 3;
    }
    return 0;
}
