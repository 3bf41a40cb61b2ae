/* test_secure — proto/secure.{h,c}: key generation, key folder checks, and CURVE
 * + ZAP on real loopback sockets in one process (authorized client gets through;
 * unauthorized, plain and wrong-server-key clients get nothing and are counted). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"
#include "secure.h"

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

static char root[256];

static void path(char *out, size_t n, const char *rel)
{
    snprintf(out, n, "%s/%s", root, rel);
}

static void write_text(const char *rel, const char *text)
{
    char p[512];
    path(p, sizeof p, rel);
    FILE *f = fopen(p, "w");
    if (!f) { perror(p); exit(2); }
    fputs(text, f);
    fclose(f);
}

static int load_err(const char *rel, int need)
{
    char p[512], why[1200];
    int err = 0;
    path(p, sizeof p, rel);
    secure_t *s = secure_load(p, need, &err, why, sizeof why);
    if (s) {
        secure_destroy(&s);
        return 0;
    }
    CHECK(why[0] != '\0', "no explanation for error %d", err);
    return err;
}

static void test_keygen_and_load(void)
{
    char d[512], why[1200], pub[SECURE_Z85_LEN + 1];
    path(d, sizeof d, "good");
    CHECK(secure_keygen(d, "server", 0, pub, why, sizeof why) == 0, "keygen server: %s", why);
    CHECK(strlen(pub) == SECURE_Z85_LEN, "public key length");
    CHECK(secure_keygen(d, "client", 0, NULL, why, sizeof why) == 0, "keygen client: %s", why);
    struct stat st;
    char p[600];
    snprintf(p, sizeof p, "%s/server.key", d);
    CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600, "server.key mode %o", st.st_mode & 0777);
    snprintf(p, sizeof p, "%s/authorized/client.pub", d);
    CHECK(access(p, R_OK) == 0, "authorized/client.pub written");
    snprintf(p, sizeof p, "%s/authorized/server.pub", d);
    CHECK(access(p, F_OK) != 0, "the server key must not be authorized as a client");
    CHECK(secure_keygen(d, "server", 0, NULL, why, sizeof why) == SECURE_EEXIST, "overwrite refused");
    CHECK(secure_keygen(d, "client", 1, NULL, why, sizeof why) == 0, "--force replaces: %s", why);
    CHECK(secure_keygen(d, "../x", 0, NULL, why, sizeof why) == SECURE_EINVAL, "bad name refused");
    CHECK(secure_keygen(d, ".hidden", 0, NULL, why, sizeof why) == SECURE_EINVAL, "dot name refused");
    CHECK(load_err("good", SECURE_NEED_SERVER | SECURE_NEED_CLIENT) == 0, "good folder loads");

    CHECK(load_err("nonexistent", SECURE_NEED_SERVER) == SECURE_EIO, "missing folder");
    CHECK(load_err("good", 0) == SECURE_EINVAL, "nothing needed");
    /* a folder with only client keys cannot serve; one without server.pub cannot connect */
    path(d, sizeof d, "clientonly");
    secure_keygen(d, "client", 0, NULL, why, sizeof why);
    CHECK(load_err("clientonly", SECURE_NEED_SERVER) == SECURE_EIO, "server.key missing");
    CHECK(load_err("clientonly", SECURE_NEED_CLIENT) == SECURE_EIO, "server.pub missing");
    /* malformed keys */
    path(d, sizeof d, "bad");
    secure_keygen(d, "server", 0, NULL, why, sizeof why);
    secure_keygen(d, "client", 0, NULL, why, sizeof why);
    write_text("bad/authorized/extra.pub", "tooshort\n");
    CHECK(load_err("bad", SECURE_NEED_SERVER) == SECURE_EFORMAT, "short authorized key");
    write_text("bad/authorized/extra.pub", "0123456789012345678901234567890123456789\n# comment\n");
    CHECK(load_err("bad", SECURE_NEED_SERVER) == 0, "a 40-char Z85 key with a comment line loads");
    write_text("bad/authorized/extra.pub", "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\n");
    CHECK(load_err("bad", SECURE_NEED_SERVER) == SECURE_EFORMAT, "non-Z85 characters");
    write_text("bad/authorized/extra.pub", "0123456789012345678901234567890123456789\n0123456789012345678901234567890123456789\n");
    CHECK(load_err("bad", SECURE_NEED_SERVER) == SECURE_EFORMAT, "two keys in one file");
    char p2[512];
    path(p2, sizeof p2, "bad/authorized/extra.pub");
    unlink(p2);
    path(p2, sizeof p2, "bad/authorized/client.pub");
    unlink(p2);
    CHECK(load_err("bad", SECURE_NEED_SERVER) == SECURE_ENOKEYS, "empty authorized/");
    CHECK(load_err("bad", SECURE_NEED_CLIENT) == 0, "client side does not need authorized/");
    write_text("bad/client.pub", "0123456789012345678901234567890123456789\n");
    CHECK(load_err("bad", SECURE_NEED_CLIENT) == SECURE_EMISMATCH, "client.pub disagrees with client.key");
    write_text("bad/client.key", "");
    CHECK(load_err("bad", SECURE_NEED_CLIENT) == SECURE_EFORMAT, "empty secret key file");
    path(p2, sizeof p2, "bad/client.key");
    chmod(p2, 0);
    if (geteuid() != 0)   /* root reads anything */
        CHECK(load_err("bad", SECURE_NEED_CLIENT) == SECURE_EIO, "unreadable key file");

    CHECK(secure_endpoint_is_wildcard("tcp://*:5555"), "*");
    CHECK(secure_endpoint_is_wildcard("tcp://0.0.0.0:5555"), "0.0.0.0");
    CHECK(secure_endpoint_is_wildcard("tcp://[::]:5555"), "[::]");
    CHECK(!secure_endpoint_is_wildcard("tcp://127.0.0.1:5555"), "loopback");
    CHECK(!secure_endpoint_is_wildcard("tcp://10.0.0.1:*"), "ephemeral port on one address");
}

/* Connects a PUSH (keys from dir, or plain when dir is NULL) and sends one frame;
 * returns 1 if the server's PULL received it within wait_ms. */
static int try_send(void *ctx, void *pull, const char *ep, const char *dir, int wait_ms)
{
    secure_t *keys = NULL;
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    int linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    if (dir) {
        char why[1200];
        keys = secure_load(dir, SECURE_NEED_CLIENT, NULL, why, sizeof why);
        CHECK(keys != NULL, "client keys %s: %s", dir, why);
        if (keys)
            CHECK(secure_client(keys, push) == 0, "secure_client");
    }
    zmq_connect(push, ep);
    zmq_send(push, "hi", 2, ZMQ_DONTWAIT);
    zmq_pollitem_t it = {pull, 0, ZMQ_POLLIN, 0};
    int got = zmq_poll(&it, 1, wait_ms) > 0;
    if (got) {
        char buf[8];
        zmq_recv(pull, buf, sizeof buf, 0);
    }
    zmq_close(push);
    secure_destroy(&keys);
    return got;
}

static void test_live(void)
{
    char good[512], intruder[512], other[512], why[1200], src[1200], dst[8];
    path(good, sizeof good, "good");
    path(intruder, sizeof intruder, "intruder");
    path(other, sizeof other, "other");
    /* intruder: knows the right server key, holds an unauthorized client key */
    secure_keygen(intruder, "client", 0, NULL, why, sizeof why);
    snprintf(src, sizeof src, "cp %s/server.pub %s/server.pub", good, intruder);
    CHECK(system(src) == 0, "copy server.pub");
    /* other: a whole different folder (another server key) */
    secure_keygen(other, "server", 0, NULL, why, sizeof why);
    secure_keygen(other, "client", 0, NULL, why, sizeof why);
    (void)dst;

    void *ctx = zmq_ctx_new();
    secure_t *srv = secure_load(good, SECURE_NEED_SERVER, NULL, why, sizeof why);
    CHECK(srv != NULL, "server keys: %s", why);
    if (!srv)
        return;
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    int linger = 0;
    zmq_setsockopt(pull, ZMQ_LINGER, &linger, sizeof linger);
    CHECK(secure_server(srv, pull) == 0, "secure_server");
    CHECK(secure_zap_start(srv, ctx) == 0, "zap start: %s", zmq_strerror(errno));
    CHECK(secure_zap_start(srv, ctx) == SECURE_EINVAL, "second start refused");
    CHECK(zmq_bind(pull, "tcp://127.0.0.1:*") == 0, "bind");
    char ep[128];
    size_t len = sizeof ep;
    zmq_getsockopt(pull, ZMQ_LAST_ENDPOINT, ep, &len);

    CHECK(try_send(ctx, pull, ep, good, 3000), "authorized client must get through");
    CHECK(secure_zap_accepted(srv) >= 1, "accepted counted");
    CHECK(!try_send(ctx, pull, ep, intruder, 1500), "unauthorized client must get nothing through");
    CHECK(secure_zap_refused(srv) >= 1, "refusal counted (%llu)", (unsigned long long)secure_zap_refused(srv));
    CHECK(!try_send(ctx, pull, ep, NULL, 1500), "plain client must get nothing through");
    CHECK(!try_send(ctx, pull, ep, other, 1500), "client with another server key must get nothing through");
    usleep(200000);
    CHECK(secure_handshakes_failed(srv) >= 2, "failed handshakes counted (%llu)",
          (unsigned long long)secure_handshakes_failed(srv));
    CHECK(try_send(ctx, pull, ep, good, 3000), "authorized client still gets through");
    printf("measure: zap accepted=%llu refused=%llu failed_handshakes=%llu\n",
           (unsigned long long)secure_zap_accepted(srv), (unsigned long long)secure_zap_refused(srv),
           (unsigned long long)secure_handshakes_failed(srv));
    zmq_close(pull);
    zmq_ctx_term(ctx);          /* the ZAP thread sees ETERM and closes its sockets */
    secure_destroy(&srv);
}

int main(void)
{
    if (!zmq_has("curve")) {
        fprintf(stderr, "FAIL: libzmq has no CURVE\n");
        return 1;
    }
    log_set_role("test_secure", -1);
    snprintf(root, sizeof root, "/tmp/test_secure.XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 2;
    }
    test_keygen_and_load();
    test_live();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", root);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("ok: secure\n");
    return 0;
}
