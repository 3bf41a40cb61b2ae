#include "secure.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"

#define KEY_BYTES 32
#define KEY_FILE_MAX 4096   /* a key file is ~41 bytes; anything larger is not one */

struct secure {
    char dir[512];
    int has_server, has_client;
    uint8_t server_secret[KEY_BYTES], server_public[KEY_BYTES];
    uint8_t client_secret[KEY_BYTES], client_public[KEY_BYTES];
    uint8_t (*authorized)[KEY_BYTES];   /* (n_authorized, 32) */
    int n_authorized;
    /* handshake monitors of the server sockets (secure_server), read by the ZAP thread */
    char mon_ep[SECURE_MAX_MONITORS][64];
    int n_mon;
    /* ZAP handler */
    pthread_t thread;
    int started;
    void *zctx;
    int stop;                           /* __atomic */
    uint64_t accepted, refused, failed; /* __atomic */
};

const char *secure_strerror(int err)
{
    switch (err) {
    case SECURE_OK: return "ok";
    case SECURE_EINVAL: return "invalid argument";
    case SECURE_ENOMEM: return "out of memory";
    case SECURE_EIO: return "missing or unreadable";
    case SECURE_EFORMAT: return "not one Z85 key (40 characters)";
    case SECURE_ENOCURVE: return "this libzmq was built without CURVE";
    case SECURE_EZMQ: return "ZeroMQ call failed";
    case SECURE_EEXIST: return "key file exists (use --force to replace it)";
    case SECURE_ENOKEYS: return "no authorized client keys (or too many)";
    case SECURE_EMISMATCH: return "public key does not match the secret key";
    default: return "unknown secure error";
    }
}

static int fail(int code, char *why, size_t n, const char *fmt, const char *a, const char *b)
{
    if (why && n)
        snprintf(why, n, fmt, a, b ? b : "");
    return code;
}

/* Reads the one Z85 key in path into key (32 bytes). Returns 0, SECURE_EIO or
 * SECURE_EFORMAT. is_secret: warn when group/others may read it. */
static int read_key(const char *path, int is_secret, uint8_t key[KEY_BYTES], char *why, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(SECURE_EIO, why, n, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(SECURE_EIO, why, n, "%s: %s", path, "not a regular file");
    }
    if (is_secret && (st.st_mode & 077))
        LOG_WARN("secret key %s is readable by group or others (chmod 600 it)", path);
    char buf[KEY_FILE_MAX + 1];
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            return fail(SECURE_EIO, why, n, "%s: %s", path, strerror(e));
        }
        if (r == 0 || len + (size_t)r >= sizeof buf - 1) {
            len += (size_t)r;
            break;
        }
        len += (size_t)r;
    }
    close(fd);
    if (len >= KEY_FILE_MAX)
        return fail(SECURE_EFORMAT, why, n, "%s: %s", path, "too large to be a key file");
    buf[len] = '\0';
    /* the first line that is neither blank nor a comment, trimmed, must be the key,
     * and no other such line may follow */
    const char *found = NULL;
    size_t found_len = 0;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *b = line, *e = line + strlen(line);
        while (*b == ' ' || *b == '\t' || *b == '\r')
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (e > b && *b != '#') {
            if (found)
                return fail(SECURE_EFORMAT, why, n, "%s: %s", path, "more than one key line");
            found = b;
            found_len = (size_t)(e - b);
        }
        line = nl ? nl + 1 : NULL;
    }
    if (!found || found_len != SECURE_Z85_LEN)
        return fail(SECURE_EFORMAT, why, n, "%s: %s", path, "want one Z85 key of 40 characters");
    if (memchr(found, '\0', found_len))
        return fail(SECURE_EFORMAT, why, n, "%s: %s", path, "NUL byte in key");
    char z[SECURE_Z85_LEN + 1];
    memcpy(z, found, SECURE_Z85_LEN);
    z[SECURE_Z85_LEN] = '\0';
    if (!zmq_z85_decode(key, z))
        return fail(SECURE_EFORMAT, why, n, "%s: %s", path, "not valid Z85");
    return 0;
}

static int path_join(char *out, size_t n, const char *a, const char *b)
{
    int w = snprintf(out, n, "%s/%s", a, b);
    return w > 0 && (size_t)w < n ? 0 : -1;
}

/* Loads name.key (secret) into secret and derives public; if name.pub exists it
 * must agree. */
static int load_pair(const char *dir, const char *name, uint8_t secret[KEY_BYTES], uint8_t public[KEY_BYTES],
                     char *why, size_t n)
{
    char path[1200], file[80];
    snprintf(file, sizeof file, "%s.key", name);
    if (path_join(path, sizeof path, dir, file))
        return fail(SECURE_EINVAL, why, n, "%s: %s", dir, "path too long");
    int rc = read_key(path, 1, secret, why, n);
    if (rc)
        return rc;
    char zs[SECURE_Z85_LEN + 1], zp[SECURE_Z85_LEN + 1];
    zmq_z85_encode(zs, secret, KEY_BYTES);
    if (zmq_curve_public(zp, zs) != 0)
        return fail(SECURE_EZMQ, why, n, "%s: %s", path, "cannot derive the public key");
    zmq_z85_decode(public, zp);
    memset(zs, 0, sizeof zs);
    snprintf(file, sizeof file, "%s.pub", name);
    path_join(path, sizeof path, dir, file);
    if (access(path, F_OK) == 0) {
        uint8_t stated[KEY_BYTES];
        rc = read_key(path, 0, stated, why, n);
        if (rc)
            return rc;
        if (memcmp(stated, public, KEY_BYTES) != 0)
            return fail(SECURE_EMISMATCH, why, n, "%s: %s", path, "does not match the secret key beside it");
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int load_authorized(secure_t *s, char *why, size_t n)
{
    char adir[1024];
    if (path_join(adir, sizeof adir, s->dir, "authorized"))
        return fail(SECURE_EINVAL, why, n, "%s: %s", s->dir, "path too long");
    DIR *d = opendir(adir);
    if (!d)
        return fail(SECURE_EIO, why, n, "%s: %s", adir, strerror(errno));
    int cap = 16, rc = 0;
    s->authorized = malloc((size_t)cap * KEY_BYTES);
    if (!s->authorized) {
        closedir(d);
        return SECURE_ENOMEM;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".pub"))
            continue;
        if (s->n_authorized >= SECURE_MAX_AUTHORIZED) {
            rc = fail(SECURE_ENOKEYS, why, n, "%s: %s", adir, "more than 4096 keys");
            break;
        }
        if (s->n_authorized == cap) {
            void *p = realloc(s->authorized, (size_t)cap * 2 * KEY_BYTES);
            if (!p) {
                rc = SECURE_ENOMEM;
                break;
            }
            s->authorized = p;
            cap *= 2;
        }
        char path[1400];
        if (path_join(path, sizeof path, adir, e->d_name)) {
            rc = fail(SECURE_EINVAL, why, n, "%s: %s", adir, "path too long");
            break;
        }
        rc = read_key(path, 0, s->authorized[s->n_authorized], why, n);
        if (rc)
            break;
        s->n_authorized++;
    }
    closedir(d);
    if (rc == 0 && s->n_authorized == 0)
        rc = fail(SECURE_ENOKEYS, why, n, "%s: %s", adir, "holds no *.pub client key (run kdqn-keygen)");
    return rc;
}

secure_t *secure_load(const char *dir, int need, int *err, char *why, size_t whylen)
{
    int rc = SECURE_EINVAL;
    secure_t *s = NULL;
    if (why && whylen)
        why[0] = '\0';
    if (!dir || !*dir || !(need & (SECURE_NEED_SERVER | SECURE_NEED_CLIENT))) {
        fail(rc, why, whylen, "%s%s", "no key folder given", NULL);
        goto out;
    }
    if (!zmq_has("curve")) {
        rc = fail(SECURE_ENOCURVE, why, whylen, "%s%s", secure_strerror(SECURE_ENOCURVE), NULL);
        goto out;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = fail(SECURE_EIO, why, whylen, "%s: %s", dir, errno ? strerror(errno) : "not a folder");
        if (stat(dir, &st) == 0)
            fail(rc, why, whylen, "%s: %s", dir, "not a folder");
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (!s) {
        rc = SECURE_ENOMEM;
        goto out;
    }
    if (strlen(dir) >= sizeof s->dir) {
        rc = fail(SECURE_EINVAL, why, whylen, "%s: %s", dir, "path too long");
        goto out;
    }
    strcpy(s->dir, dir);
    if (need & SECURE_NEED_SERVER) {
        rc = load_pair(dir, "server", s->server_secret, s->server_public, why, whylen);
        if (rc == 0)
            rc = load_authorized(s, why, whylen);
        if (rc)
            goto out;
        s->has_server = 1;
    }
    if (need & SECURE_NEED_CLIENT) {
        rc = load_pair(dir, "client", s->client_secret, s->client_public, why, whylen);
        if (rc)
            goto out;
        char path[1024];
        path_join(path, sizeof path, dir, "server.pub");
        rc = read_key(path, 0, s->server_public, why, whylen);
        if (rc)
            goto out;
        s->has_client = 1;
    }
    rc = 0;
out:
    if (err)
        *err = rc;
    if (rc) {
        secure_destroy(&s);
        return NULL;
    }
    return s;
}

void secure_destroy(secure_t **sp)
{
    if (!sp || !*sp)
        return;
    secure_t *s = *sp;
    if (s->started) {
        __atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
        pthread_join(s->thread, NULL);
    }
    free(s->authorized);
    /* volatile pointer: keeps the compiler from dropping the wipe of memory about to be freed */
    volatile uint8_t *p = (volatile uint8_t *)s;
    for (size_t i = 0; i < sizeof *s; i++)
        p[i] = 0;
    free(s);
    *sp = NULL;
}

int secure_server(secure_t *s, void *sock)
{
    if (!s || !s->has_server || !sock)
        return SECURE_EINVAL;
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->server_secret, KEY_BYTES) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, SECURE_ZAP_DOMAIN, strlen(SECURE_ZAP_DOMAIN)) != 0)
        return SECURE_EZMQ;
    /* Handshakes that fail before ZAP is asked (a plain client, a client holding another
     * server key) are only visible as monitor events: the ZAP thread logs them. */
    secure_t *m = s;
    if (!m->started && m->n_mon < SECURE_MAX_MONITORS) {
        char ep[64];
        snprintf(ep, sizeof ep, "inproc://kdqn-secure-%p-%d", (void *)m, m->n_mon);
        if (zmq_socket_monitor(sock, ep, ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == 0)
            strcpy(m->mon_ep[m->n_mon++], ep);
    }
    return 0;
}

int secure_client(const secure_t *s, void *sock)
{
    if (!s || !s->has_client || !sock)
        return SECURE_EINVAL;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, s->server_public, KEY_BYTES) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, s->client_public, KEY_BYTES) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, s->client_secret, KEY_BYTES) != 0)
        return SECURE_EZMQ;
    return 0;
}

/* ---- ZAP handler (RFC 27) ------------------------------------------------- */

#define ZAP_FRAMES 7   /* version, request id, domain, address, identity, mechanism, key */

static int is_authorized(const secure_t *s, const uint8_t *key)
{
    for (int i = 0; i < s->n_authorized; i++)
        if (memcmp(s->authorized[i], key, KEY_BYTES) == 0)
            return 1;
    return 0;
}

static void zap_reply(void *rep, const zmq_msg_t *req_id, const char *code, const char *text)
{
    zmq_send(rep, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(rep, zmq_msg_data((zmq_msg_t *)req_id), zmq_msg_size((zmq_msg_t *)req_id), ZMQ_SNDMORE);
    zmq_send(rep, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(rep, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(rep, "", 0, ZMQ_SNDMORE);   /* user id */
    zmq_send(rep, "", 0, 0);             /* metadata */
}

/* Copies a frame into a NUL-terminated printable string (for logs). */
static void frame_str(const zmq_msg_t *m, char *out, size_t n)
{
    size_t len = zmq_msg_size((zmq_msg_t *)m);
    const unsigned char *d = zmq_msg_data((zmq_msg_t *)m);
    if (len > n - 1)
        len = n - 1;
    for (size_t i = 0; i < len; i++)
        out[i] = d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '?';
    out[len] = '\0';
}

/* Receives one request (all its frames) and answers it. Returns -1 on ETERM. */
static int zap_serve_one(secure_t *s, void *rep)
{
    zmq_msg_t f[ZAP_FRAMES];
    int nf = 0, more = 1;
    for (int i = 0; i < ZAP_FRAMES; i++)
        zmq_msg_init(&f[i]);
    while (more) {
        zmq_msg_t tmp, *m = nf < ZAP_FRAMES ? &f[nf] : &tmp;
        if (m == &tmp)
            zmq_msg_init(&tmp);
        if (zmq_msg_recv(m, rep, 0) < 0) {
            int e = errno;
            if (m == &tmp)
                zmq_msg_close(&tmp);
            for (int i = 0; i < ZAP_FRAMES; i++)
                zmq_msg_close(&f[i]);
            return e == ETERM ? -1 : 0;
        }
        more = zmq_msg_more(m);
        if (m == &tmp)
            zmq_msg_close(&tmp);
        nf++;
    }
    char addr[64] = "?", mech[16] = "?";
    if (nf >= 4)
        frame_str(&f[3], addr, sizeof addr);
    if (nf >= 6)
        frame_str(&f[5], mech, sizeof mech);
    const int well_formed = nf >= 2 && zmq_msg_size(&f[0]) == 3 && memcmp(zmq_msg_data(&f[0]), "1.0", 3) == 0;
    if (!well_formed) {
        /* not answerable per RFC 27 without a request id; a reply keeps REP in step */
        if (nf >= 2)
            zap_reply(rep, &f[1], "500", "bad ZAP request");
        else
            zmq_send(rep, "", 0, 0);
    } else if (nf == ZAP_FRAMES && strcmp(mech, "CURVE") == 0 && zmq_msg_size(&f[6]) == KEY_BYTES &&
               is_authorized(s, zmq_msg_data(&f[6]))) {
        __atomic_add_fetch(&s->accepted, 1, __ATOMIC_RELAXED);
        char z[SECURE_Z85_LEN + 1];
        zmq_z85_encode(z, zmq_msg_data(&f[6]), KEY_BYTES);
        LOG_INFO("CURVE: admitted client %s (key %.8s...)", addr, z);
        zap_reply(rep, &f[1], "200", "OK");
    } else {
        __atomic_add_fetch(&s->refused, 1, __ATOMIC_RELAXED);
        char z[SECURE_Z85_LEN + 1] = "-";
        if (nf == ZAP_FRAMES && zmq_msg_size(&f[6]) == KEY_BYTES)
            zmq_z85_encode(z, zmq_msg_data(&f[6]), KEY_BYTES);
        LOG_WARN_RL(5.0, "CURVE: refused client %s (mechanism %s, key %.8s...): not in %s/authorized "
                    "(%llu refusals so far)", addr, mech, z, s->dir,
                    (unsigned long long)__atomic_load_n(&s->refused, __ATOMIC_RELAXED));
        zap_reply(rep, &f[1], "400", "client key not authorized");
    }
    for (int i = 0; i < ZAP_FRAMES; i++)
        zmq_msg_close(&f[i]);
    return 0;
}

/* One monitor event (frame 1: u16 event, u32 value; frame 2: endpoint). */
static void monitor_event(secure_t *s, void *pair)
{
    zmq_msg_t ev, ep;
    zmq_msg_init(&ev);
    zmq_msg_init(&ep);
    if (zmq_msg_recv(&ev, pair, 0) < 0 || !zmq_msg_more(&ev) || zmq_msg_recv(&ep, pair, 0) < 0 ||
        zmq_msg_size(&ev) != 6) {
        zmq_msg_close(&ev);
        zmq_msg_close(&ep);
        return;
    }
    const uint8_t *d = zmq_msg_data(&ev);
    uint16_t event;
    uint32_t value;
    memcpy(&event, d, 2);
    memcpy(&value, d + 2, 4);
    char where[128];
    frame_str(&ep, where, sizeof where);
    zmq_msg_close(&ev);
    zmq_msg_close(&ep);
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return;   /* a ZAP refusal: already logged with the peer's address */
    __atomic_add_fetch(&s->failed, 1, __ATOMIC_RELAXED);
    const char *why = value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ? "client does not use CURVE"
                      : value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC   ? "client holds another server key"
                                                                         : "protocol error";
    LOG_WARN_RL(5.0, "CURVE: refused a connection on %s: handshake failed, %s (0x%x; %llu so far)", where, why,
                (unsigned)value, (unsigned long long)__atomic_load_n(&s->failed, __ATOMIC_RELAXED));
}

/* The sockets are created and bound in the caller's thread so that errors are
 * reported synchronously; ZeroMQ allows handing a socket to another thread
 * across a full memory barrier (pthread_create is one). */
typedef struct {
    secure_t *s;
    void *socks[1 + SECURE_MAX_MONITORS];   /* REP, then one PAIR per monitor */
    int n;
} zap_arg_t;

static void *zap_loop(void *arg)
{
    zap_arg_t a = *(zap_arg_t *)arg;
    free(arg);
    secure_t *s = a.s;
    zmq_pollitem_t it[1 + SECURE_MAX_MONITORS];
    while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
        for (int i = 0; i < a.n; i++)
            it[i] = (zmq_pollitem_t){a.socks[i], 0, ZMQ_POLLIN, 0};
        int rc = zmq_poll(it, a.n, 100);
        if (rc < 0) {
            if (errno == ETERM)
                break;
            continue;   /* EINTR */
        }
        if ((it[0].revents & ZMQ_POLLIN) && zap_serve_one(s, a.socks[0]) < 0)
            break;
        for (int i = 1; i < a.n; i++)
            if (it[i].revents & ZMQ_POLLIN)
                monitor_event(s, a.socks[i]);
    }
    for (int i = 0; i < a.n; i++)
        zmq_close(a.socks[i]);
    return NULL;
}

int secure_zap_start(secure_t *s, void *zctx)
{
    if (!s || !zctx || s->started || !s->has_server || s->n_authorized == 0)
        return SECURE_EINVAL;
    zap_arg_t *a = calloc(1, sizeof *a);
    if (!a)
        return SECURE_ENOMEM;
    a->s = s;
    int linger = 0, rc = SECURE_EZMQ;
    a->socks[0] = zmq_socket(zctx, ZMQ_REP);
    if (!a->socks[0])
        goto err;
    a->n = 1;
    zmq_setsockopt(a->socks[0], ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(a->socks[0], "inproc://zeromq.zap.01") != 0)
        goto err;
    for (int i = 0; i < s->n_mon; i++) {
        void *pair = zmq_socket(zctx, ZMQ_PAIR);
        if (!pair)
            goto err;
        a->socks[a->n++] = pair;
        zmq_setsockopt(pair, ZMQ_LINGER, &linger, sizeof linger);
        if (zmq_connect(pair, s->mon_ep[i]) != 0)
            goto err;
    }
    s->zctx = zctx;
    __atomic_store_n(&s->stop, 0, __ATOMIC_RELEASE);
    if (pthread_create(&s->thread, NULL, zap_loop, a) != 0) {
        rc = SECURE_ENOMEM;
        goto err;
    }
    s->started = 1;
    return 0;
err:;
    int e = errno;
    for (int i = 0; i < a->n; i++)
        zmq_close(a->socks[i]);
    free(a);
    errno = e;
    return rc;
}

uint64_t secure_zap_accepted(const secure_t *s) { return s ? __atomic_load_n(&s->accepted, __ATOMIC_RELAXED) : 0; }
uint64_t secure_zap_refused(const secure_t *s) { return s ? __atomic_load_n(&s->refused, __ATOMIC_RELAXED) : 0; }
uint64_t secure_handshakes_failed(const secure_t *s) { return s ? __atomic_load_n(&s->failed, __ATOMIC_RELAXED) : 0; }
int secure_authorized_count(const secure_t *s) { return s ? s->n_authorized : 0; }

/* ---- key generation ------------------------------------------------------- */

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > 64 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

/* Writes text to path with mode, atomically: a temporary file opened O_EXCL,
 * fsync, rename. Without force, an existing path is refused (checked again at
 * rename time by link(), which fails if the target exists). */
static int write_file(const char *path, const char *text, mode_t mode, int force, char *why, size_t n)
{
    char tmp[1300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return fail(SECURE_EIO, why, n, "%s: %s", tmp, strerror(errno));
    size_t len = strlen(text);
    int ok = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int e = errno;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        unlink(tmp);
        return fail(SECURE_EIO, why, n, "%s: %s", tmp, strerror(e));
    }
    int rc = force ? rename(tmp, path) : link(tmp, path);
    e = errno;
    if (!force || rc != 0)
        unlink(tmp);   /* link() left two names; a failed rename left the temporary */
    if (rc != 0) {
        if (!force && e == EEXIST)
            return fail(SECURE_EEXIST, why, n, "%s: %s", path, secure_strerror(SECURE_EEXIST));
        return fail(SECURE_EIO, why, n, "%s: %s", path, strerror(e));
    }
    return 0;
}

static int ensure_dir(const char *path, mode_t mode, char *why, size_t n)
{
    if (mkdir(path, mode) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            return 0;
        return fail(SECURE_EIO, why, n, "%s: %s", path, "exists and is not a folder");
    }
    return fail(SECURE_EIO, why, n, "%s: %s", path, strerror(errno));
}

int secure_keygen(const char *dir, const char *name, int force, char *pub_z85, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (!dir || !*dir || !name || !name_ok(name))
        return fail(SECURE_EINVAL, why, whylen, "%s: %s", name ? name : "(null)",
                    "a key name is 1..64 of A-Z a-z 0-9 _ . - and does not start with '.'");
    if (!zmq_has("curve"))
        return fail(SECURE_ENOCURVE, why, whylen, "%s%s", secure_strerror(SECURE_ENOCURVE), NULL);
    char adir[1024], kpath[1200], ppath[1200], apath[1200], file[80];
    if (path_join(adir, sizeof adir, dir, "authorized"))
        return fail(SECURE_EINVAL, why, whylen, "%s: %s", dir, "path too long");
    snprintf(file, sizeof file, "%s.key", name);
    path_join(kpath, sizeof kpath, dir, file);
    snprintf(file, sizeof file, "%s.pub", name);
    path_join(ppath, sizeof ppath, dir, file);
    path_join(apath, sizeof apath, adir, file);
    const int authorize = strcmp(name, "server") != 0;
    if (!force) {
        const char *paths[3] = {kpath, ppath, authorize ? apath : NULL};
        for (int i = 0; i < 3; i++)
            if (paths[i] && access(paths[i], F_OK) == 0)
                return fail(SECURE_EEXIST, why, whylen, "%s: %s", paths[i], secure_strerror(SECURE_EEXIST));
    }
    int rc = ensure_dir(dir, 0700, why, whylen);
    if (rc == 0 && authorize)
        rc = ensure_dir(adir, 0755, why, whylen);
    if (rc)
        return rc;
    char zp[SECURE_Z85_LEN + 1], zs[SECURE_Z85_LEN + 1];
    if (zmq_curve_keypair(zp, zs) != 0)
        return fail(SECURE_EZMQ, why, whylen, "%s%s", "zmq_curve_keypair failed", NULL);
    char line[SECURE_Z85_LEN + 2];
    snprintf(line, sizeof line, "%s\n", zs);
    rc = write_file(kpath, line, 0600, force, why, whylen);
    memset(zs, 0, sizeof zs);
    memset(line, 0, sizeof line);
    snprintf(line, sizeof line, "%s\n", zp);
    if (rc == 0)
        rc = write_file(ppath, line, 0644, force, why, whylen);
    if (rc == 0 && authorize)
        rc = write_file(apath, line, 0644, force, why, whylen);
    if (rc == 0 && pub_z85)
        memcpy(pub_z85, zp, SECURE_Z85_LEN + 1);
    return rc;
}

int secure_endpoint_is_wildcard(const char *ep)
{
    if (!ep || strncmp(ep, "tcp://", 6) != 0)
        return 0;
    const char *host = ep + 6, *colon = strrchr(host, ':');
    size_t len = colon ? (size_t)(colon - host) : strlen(host);
    static const char *const any[] = {"*", "0.0.0.0", "[::]", "::", "[0:0:0:0:0:0:0:0]", "[::0]"};
    for (size_t i = 0; i < sizeof any / sizeof any[0]; i++)
        if (strlen(any[i]) == len && strncmp(host, any[i], len) == 0)
            return 1;
    return 0;
}
