/* secure.h — ZeroMQ CURVE for kdqn's sockets: the key folder, socket options
 * and a ZAP handler that admits only authorized client keys.
 *
 * Key folder (written by kdqn-keygen, see README.md and PROTOCOL.md section 7):
 *
 *   DIR/server.key          secret key of the binding side (learner PULL + PUB,
 *                           teacher ROUTER), mode 0600
 *   DIR/server.pub          its public key: what connecting sides must know
 *   DIR/client.key          secret key of the connecting side (actor PUSH + SUB,
 *                           learner DEALER), mode 0600
 *   DIR/client.pub          its public key
 *   DIR/authorized/NAME.pub public keys of every client a server admits
 *
 * Every file is one 32-byte key in Z85 (40 characters) followed by a newline;
 * lines starting with '#' and blank lines are ignored.
 *
 * Binding sockets are CURVE servers (secure_server) and connecting sockets are
 * CURVE clients (secure_client). A CURVE server with no ZAP handler in its
 * context admits EVERY client key, so a process that binds must call
 * secure_zap_start on the context before its first bind: the handler (a
 * thread with a REP socket on inproc://zeromq.zap.01) admits only keys found
 * in DIR/authorized at load time and logs each refusal (rate-limited) with the
 * peer's address.
 *
 * Errors: functions return 0 or a negative SECURE_E* code (secure_strerror);
 * loading also writes a one-line explanation naming the file. */
#ifndef KDQN_SECURE_H
#define KDQN_SECURE_H
#include <stddef.h>
#include <stdint.h>

#define SECURE_Z85_LEN 40              /* Z85 characters of a 32-byte key */
#define SECURE_MAX_AUTHORIZED 4096     /* client keys in DIR/authorized at most */
#define SECURE_ZAP_DOMAIN "kdqn"
#define SECURE_MAX_MONITORS 4          /* server sockets whose failed handshakes are logged */

enum {
    SECURE_OK = 0,
    SECURE_EINVAL = -1,     /* bad argument (NULL, bad role name) */
    SECURE_ENOMEM = -2,
    SECURE_EIO = -3,        /* a key file or folder missing or unreadable (errno kept) */
    SECURE_EFORMAT = -4,    /* a key file that does not hold one Z85 key */
    SECURE_ENOCURVE = -5,   /* this libzmq has no CURVE (zmq_has("curve") == 0) */
    SECURE_EZMQ = -6,       /* a ZeroMQ call failed (errno kept) */
    SECURE_EEXIST = -7,     /* keygen: a key file exists and force was not given */
    SECURE_ENOKEYS = -8,    /* DIR/authorized holds no key, or more than SECURE_MAX_AUTHORIZED */
    SECURE_EMISMATCH = -9,  /* a .pub file disagrees with its .key file */
};
const char *secure_strerror(int err);

/* What a process needs from the folder (bit flags). */
enum {
    SECURE_NEED_SERVER = 1,   /* server.key + authorized/: it binds */
    SECURE_NEED_CLIENT = 2,   /* client.key + server.pub: it connects */
};

typedef struct secure secure_t;

/* Loads and checks the keys `need` asks for from dir. Returns NULL on any
 * error: *err (if not NULL) gets the SECURE_E* code and why (if not NULL) a
 * one-line explanation naming the file. A secret key file readable by group
 * or others is loaded with a warning. */
secure_t *secure_load(const char *dir, int need, int *err, char *why, size_t whylen);
/* Stops the ZAP handler (if started) and frees everything; wipes the secret
 * keys. NULL-safe; nulls *s. Call it after the sockets of the handler's context
 * are closed (or the context terminated): without the handler a CURVE server
 * would admit anyone. */
void secure_destroy(secure_t **s);

/* Makes sock a CURVE server with server.key (ZMQ_CURVE_SERVER, secret key, ZAP
 * domain). Call before zmq_bind, and before secure_zap_start for the first
 * SECURE_MAX_MONITORS sockets to have their failed handshakes (plain clients,
 * clients holding another server key: cases ZAP never sees) logged by the ZAP
 * thread through a socket monitor. Returns 0, SECURE_EINVAL (no server key
 * loaded) or SECURE_EZMQ. */
int secure_server(secure_t *s, void *sock);
/* Makes sock a CURVE client of server.pub with client.key. Call before
 * zmq_connect. Returns 0, SECURE_EINVAL (no client key loaded) or SECURE_EZMQ. */
int secure_client(const secure_t *s, void *sock);

/* Starts the ZAP handler thread on zctx (the context of the server sockets) (once per secure_t; the context must
 * have no other ZAP handler). Returns when the handler is bound: 0,
 * SECURE_EINVAL (already started, or no authorized keys loaded), SECURE_EZMQ
 * (e.g. the inproc address is taken) or SECURE_ENOMEM. */
int secure_zap_start(secure_t *s, void *zctx);

/* ZAP decisions so far (thread-safe reads). */
uint64_t secure_zap_accepted(const secure_t *s);
uint64_t secure_zap_refused(const secure_t *s);
/* Handshakes of monitored server sockets that failed before ZAP (thread-safe). */
uint64_t secure_handshakes_failed(const secure_t *s);
/* Number of authorized client keys loaded. */
int secure_authorized_count(const secure_t *s);

/* ---- key generation (kdqn-keygen) ----------------------------------------
 * Writes DIR/NAME.key (mode 0600) and DIR/NAME.pub with a fresh key pair;
 * unless NAME is "server", also DIR/authorized/NAME.pub. Creates DIR (0700)
 * and DIR/authorized (0755) when missing. Without force it refuses, before
 * writing anything, if any of those files exists (SECURE_EEXIST); with force
 * it replaces them (each by rename of a temporary file). NAME: 1..64 of
 * [A-Za-z0-9_.-], not starting with '.'. The public key's Z85 goes into
 * pub_z85 (41 bytes) if not NULL. Returns 0 or SECURE_E*; why as above. */
int secure_keygen(const char *dir, const char *name, int force, char *pub_z85, char *why, size_t whylen);

/* 1 if a bind endpoint listens on every interface: host *, 0.0.0.0, [::], ::
 * (tcp:// only; anything else 0). */
int secure_endpoint_is_wildcard(const char *ep);

#endif
