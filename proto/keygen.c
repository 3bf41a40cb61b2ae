/* kdqn-keygen — writes the CURVE key folder that --curve-keys DIR reads
 * (proto/secure.h, PROTOCOL.md section 7).
 *
 *   kdqn-keygen DIR                 server and client key pairs, client authorized
 *   kdqn-keygen DIR --role NAME     one pair NAME.key/NAME.pub (+ authorized/NAME.pub
 *                                   unless NAME is "server")
 *
 * Exit status: 0 written, 2 usage or a key file exists without --force, 3 I/O. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "secure.h"

#ifndef KDQN_VERSION
#define KDQN_VERSION "dev"
#endif

static void usage(FILE *f)
{
    fprintf(f,
        "usage: kdqn-keygen DIR [--role NAME] [--force]\n"
        "Writes ZeroMQ CURVE keys (Z85 text) for --curve-keys DIR of kdqn-learner, kdqn-actor, kdqn-teacher.\n"
        "\n"
        "  DIR            key folder (created mode 0700 if missing; required)\n"
        "  --role NAME    write only NAME.key (mode 0600) and NAME.pub; unless NAME is 'server',\n"
        "                 also authorized/NAME.pub (default: both 'server' and 'client')\n"
        "  --force        replace existing key files (default: refuse, nothing is written)\n"
        "  --help         this text\n"
        "  --version      print the version\n"
        "\n"
        "Binding sides (learner, teacher) read server.key and authorized/*.pub; connecting sides\n"
        "(actors, the learner's teacher client) read client.key and server.pub.\n"
        "Exit status: 0 written, 2 usage or existing keys without --force, 3 I/O error.\n");
}

static int usage_error(const char *msg, const char *detail)
{
    fprintf(stderr, "kdqn-keygen: %s%s%s\ntry 'kdqn-keygen --help'\n", msg, detail ? ": " : "", detail ? detail : "");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, 0, 'r'},
        {"force", no_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0},
    };
    const char *role = NULL;
    int force = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        const char *flag = argv[optind - 1];
        switch (c) {
        case 'r': role = optarg; break;
        case 'f': force = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("kdqn-keygen %s\n", KDQN_VERSION); return 0;
        case ':': return usage_error("missing value after", flag);
        default: return usage_error("unknown flag", flag);
        }
    }
    if (optind >= argc)
        return usage_error("the key folder DIR is required", NULL);
    if (optind + 1 < argc)
        return usage_error("unexpected argument", argv[optind + 1]);
    const char *dir = argv[optind];
    if (!dir[0])
        return usage_error("DIR is empty", NULL);
    const char *roles[2] = {role ? role : "server", role ? NULL : "client"};
    /* without --role, check every file of both pairs first, so a refusal writes nothing */
    if (!force && !role) {
        static const char *const files[] = {"server.key", "server.pub", "client.key", "client.pub",
                                            "authorized/client.pub"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            char path[1200];
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            if (access(path, F_OK) == 0) {
                fprintf(stderr, "kdqn-keygen: %s: %s\n", path, secure_strerror(SECURE_EEXIST));
                return 2;
            }
        }
    }
    char why[1200], pub[SECURE_Z85_LEN + 1];
    for (int i = 0; i < 2 && roles[i]; i++) {
        int rc = secure_keygen(dir, roles[i], force, pub, why, sizeof why);
        if (rc != 0) {
            fprintf(stderr, "kdqn-keygen: %s\n", why[0] ? why : secure_strerror(rc));
            if (rc == SECURE_EINVAL)
                fprintf(stderr, "try 'kdqn-keygen --help'\n");
            return rc == SECURE_EINVAL || rc == SECURE_EEXIST ? 2 : 3;
        }
        if (strcmp(roles[i], "server") == 0)
            printf("wrote %s/server.key, %s/server.pub: public key %s\n", dir, dir, pub);
        else
            printf("wrote %s/%s.key, %s/%s.pub, %s/authorized/%s.pub: public key %s\n", dir, roles[i], dir,
                   roles[i], dir, roles[i], pub);
    }
    return 0;
}
