/* test_rendezvous.c — the rendezvous: helpers alone, and a real MPMD job.
 *
 *   test_rdv --unit
 *       endpoint parsing, address choice, assignments, the loopback check (no MPI)
 *   mpirun ... -np 1 test_rdv --role teacher : -np 1 test_rdv --role learner : -np 2 test_rdv --role actor
 *       every rank binds, exchanges, calls MPI_Finalize, then proves over ZeroMQ
 *       alone that it learned every endpoint it needs:
 *         actor   PUSHes a hello to its learner, waits for "stop" on SUB, PUSHes goodbye
 *         learner counts hellos from its actors, publishes "stop" until every one
 *                 said goodbye, and asks its teacher for info (DEALER)
 *         teacher answers one info request per learner (ROUTER)
 * Exits 0 on success, 1 with a message on failure or after a 20 s timeout. */
#include "check.h"
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "proto.h"
#include "rendezvous.h"


static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* ---- unit ------------------------------------------------------------------ */

static int unit(void) {
    char host[64], addr[64];
    int port = 0;
    CHECK(rdv_parse_endpoint("tcp://127.0.0.1:5555", 0, host, sizeof host, &port) == 0 && !strcmp(host, "127.0.0.1")
          && port == 5555, "parse ipv4 endpoint");
    CHECK(rdv_parse_endpoint("tcp://kh1.example-net:1", 0, host, sizeof host, &port) == 0 && port == 1, "parse host name");
    CHECK(rdv_parse_endpoint("tcp://[::1]:65535", 0, host, sizeof host, &port) == 0 && !strcmp(host, "[::1]"), "parse ipv6");
    CHECK(rdv_parse_endpoint("tcp://10.0.0.1:*", 1, NULL, 0, &port) == 0 && port == 0, "wildcard allowed");
    static const char *const bad[] = {
        "tcp://10.0.0.1:*", "udp://1.2.3.4:5", "tcp://:5", "tcp://host", "tcp://host:", "tcp://host:0",
        "tcp://host:65536", "tcp://host:123456", "tcp://ho st:5", "tcp://host:5x", "tcp://[::1:5", "", "tcp://h;rm:5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(rdv_parse_endpoint(bad[i], 0, NULL, 0, NULL) == RDV_EENDPOINT, "reject \"%s\"", bad[i]);
    CHECK(rdv_parse_endpoint(NULL, 0, NULL, 0, NULL) == RDV_EENDPOINT, "reject NULL");
    CHECK(rdv_parse_endpoint("tcp://abcdefgh:5", 0, host, 4, NULL) == RDV_ETOOLONG, "host buffer too small");

    CHECK(rdv_endpoint_is_loopback("tcp://127.0.0.1:5") && rdv_endpoint_is_loopback("tcp://127.3.2.1:5")
          && rdv_endpoint_is_loopback("tcp://localhost:5") && rdv_endpoint_is_loopback("tcp://[::1]:5"), "loopback");
    CHECK(!rdv_endpoint_is_loopback("tcp://10.77.0.1:5") && !rdv_endpoint_is_loopback("tcp://128.0.0.1:5")
          && !rdv_endpoint_is_loopback("garbage"), "not loopback");

    CHECK(rdv_pick_address(NULL, addr, sizeof addr) == 0 && !strcmp(addr, "127.0.0.1"), "NULL -> loopback");
    CHECK(rdv_pick_address("auto", addr, sizeof addr) == 0 && !strcmp(addr, "127.0.0.1"), "auto -> loopback");
    CHECK(rdv_pick_address("10.77.0.3", addr, sizeof addr) == 0 && !strcmp(addr, "10.77.0.3"), "literal");
    CHECK(rdv_pick_address("0.0.0.0", addr, sizeof addr) == RDV_EINVAL, "0.0.0.0 refused");
    CHECK(rdv_pick_address("lo", addr, sizeof addr) == 0 && !strcmp(addr, "127.0.0.1"), "interface lo");
    CHECK(rdv_pick_address("localhost", addr, sizeof addr) == 0 && !strncmp(addr, "127.", 4), "host name localhost");
    CHECK(rdv_pick_address("no-such-host.invalid", addr, sizeof addr) == RDV_ERESOLVE, "unresolvable");
    CHECK(rdv_pick_address("auto", addr, 4) == RDV_ETOOLONG, "output too small");

    CHECK(rdv_learner_of_actor(5, 2) == 1 && rdv_learner_of_actor(0, 3) == 0 && rdv_learner_of_actor(1, 0) == -1,
          "actor -> learner");
    CHECK(rdv_teacher_of_learner(3, 1) == 0 && rdv_teacher_of_learner(0, 0) == -1, "learner -> teacher");
    int total = 0;
    for (int l = 0; l < 3; l++) {
        int c = 0;
        for (int a = 0; a < 7; a++) c += rdv_learner_of_actor(a, 3) == l;
        CHECK(rdv_actors_of_learner(l, 7, 3) == c, "actors of learner %d", l);
        total += c;
    }
    CHECK(total == 7, "every actor assigned once");
    CHECK(rdv_role_parse("actor") == RDV_ROLE_ACTOR && rdv_role_parse("teacher") == RDV_ROLE_TEACHER
          && rdv_role_parse("boss") == RDV_EINVAL && rdv_role_parse(NULL) == RDV_EINVAL, "role names");

    /* The loopback check on a hand-made table: teacher on h1, learner on h1, actor on h2. */
    rdv_entry_t e[3];
    memset(e, 0, sizeof e);
    e[0] = (rdv_entry_t){ .rank = 0, .role = RDV_ROLE_TEACHER, .index = 0 };
    strcpy(e[0].host, "h1");
    strcpy(e[0].ep[RDV_EP_TEACHER], "tcp://127.0.0.1:4000");
    e[1] = (rdv_entry_t){ .rank = 1, .role = RDV_ROLE_LEARNER, .index = 0 };
    strcpy(e[1].host, "h1");
    strcpy(e[1].ep[RDV_EP_EXPERIENCE], "tcp://127.0.0.1:4001");
    strcpy(e[1].ep[RDV_EP_WEIGHTS], "tcp://127.0.0.1:4002");
    e[2] = (rdv_entry_t){ .rank = 2, .role = RDV_ROLE_ACTOR, .index = 0 };
    strcpy(e[2].host, "h2");
    rdv_table_t t = { .n = 3, .self = 2, .n_role = { 1, 1, 1 }, .entries = e };
    char why[256];
    CHECK(rdv_check_table(&t, 1, why, sizeof why) == 0, "learner and teacher share a host: %s", why);
    CHECK(rdv_check_table(&t, 2, why, sizeof why) == RDV_ELOOPBACK && strstr(why, "loopback"),
          "loopback to another host flagged");
    strcpy(e[2].host, "h1");
    CHECK(rdv_check_table(&t, 2, why, sizeof why) == 0, "same host is fine");
    strcpy(e[1].ep[RDV_EP_WEIGHTS], "");
    CHECK(rdv_check_table(&t, 2, why, sizeof why) == RDV_EMISMATCH, "missing endpoint flagged");
    t.n_role[RDV_ROLE_LEARNER] = 0;
    CHECK(rdv_check_table(&t, 2, why, sizeof why) == RDV_EMISMATCH, "no learner flagged");
    CHECK(rdv_check_table(&t, 7, why, sizeof why) == RDV_EINVAL, "rank out of range");

    /* Ephemeral bind reads back the real port. */
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_PULL);
    char ep[RDV_MAX_ENDPOINT];
    CHECK(rdv_bind_ephemeral(s, "127.0.0.1", ep, sizeof ep) == 0, "bind ephemeral");
    CHECK(rdv_parse_endpoint(ep, 0, NULL, 0, &port) == 0 && port > 0, "bound endpoint %s", ep);
    CHECK(rdv_bind_ephemeral(s, "192.0.2.99", ep, sizeof ep) == RDV_EZMQ, "bind to a foreign address fails");
    zmq_close(s);
    zmq_ctx_term(ctx);
    for (int c = RDV_EINVAL; c >= RDV_EMISMATCH; c--)
        CHECK(strcmp(rdv_strerror(c), rdv_strerror(0)) != 0, "strerror %d", c);
    printf("test_rdv --unit: %d failures\n", failures);
    return failures ? 1 : 0;
}

/* ---- the MPMD job ----------------------------------------------------------- */

#define DEADLINE 20.0

static int recv_frame(void *s, zmq_msg_t *m, double t_end) {
    zmq_pollitem_t it = { s, 0, ZMQ_POLLIN, 0 };
    while (now() < t_end) {
        if (zmq_poll(&it, 1, 50) > 0) return zmq_msg_recv(m, s, 0) >= 0 ? 0 : -1;
    }
    return -1;
}

static void *sock(void *ctx, int type) {
    void *s = zmq_socket(ctx, type);
    int linger = 500;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    return s;
}

static int send_buf(void *s, const proto_buf_t *b) { return zmq_send(s, b->data, b->len, 0) == (int)b->len ? 0 : -1; }

static int run_actor(void *ctx, const rdv_table_t *t, const rdv_entry_t *me) {
    int l = rdv_learner_of_actor(me->index, t->n_role[RDV_ROLE_LEARNER]);
    const rdv_entry_t *le = rdv_find(t, RDV_ROLE_LEARNER, l);
    if (!le) { fprintf(stderr, "actor %d: no learner\n", me->index); return 1; }
    void *push = sock(ctx, ZMQ_PUSH), *sub = sock(ctx, ZMQ_SUB);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    if (zmq_connect(push, le->ep[RDV_EP_EXPERIENCE]) || zmq_connect(sub, le->ep[RDV_EP_WEIGHTS])) {
        fprintf(stderr, "actor %d: connect failed: %s\n", me->index, zmq_strerror(zmq_errno()));
        return 1;
    }
    proto_buf_t b;
    proto_buf_init(&b);
    proto_status_t st = { .type = PROTO_T_HELLO, .id = (uint32_t)me->index, .pid = getpid(), .obs_dim = 4,
                          .n_actions = 2, .n_envs = 1 };
    strcpy(st.role, "actor");
    snprintf(st.host, sizeof st.host, "%s", me->host);
    proto_encode_status(&b, &st);
    send_buf(push, &b);
    /* Wait for the learner's stop on SUB. */
    double t_end = now() + DEADLINE;
    int ok = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (!ok && recv_frame(sub, &m, t_end) == 0) {
        proto_stop_t stop;
        ok = proto_decode_stop(zmq_msg_data(&m), zmq_msg_size(&m), &stop) == 0 && !strcmp(stop.reason, "test");
    }
    zmq_msg_close(&m);
    st.type = PROTO_T_GOODBYE;
    proto_encode_status(&b, &st);
    send_buf(push, &b);
    proto_buf_free(&b);
    zmq_close(push);
    zmq_close(sub);
    if (!ok) fprintf(stderr, "actor %d: no stop from learner %d\n", me->index, l);
    return ok ? 0 : 1;
}

static int run_learner(void *ctx, void *pull, void *pub, const rdv_table_t *t, const rdv_entry_t *me) {
    int want = rdv_actors_of_learner(me->index, t->n_role[RDV_ROLE_ACTOR], t->n_role[RDV_ROLE_LEARNER]);
    int hellos = 0, byes = 0, rejects = 0, info_ok = t->n_role[RDV_ROLE_TEACHER] == 0;
    void *dealer = NULL;
    proto_buf_t b;
    proto_buf_init(&b);
    int k = rdv_teacher_of_learner(me->index, t->n_role[RDV_ROLE_TEACHER]);
    if (k >= 0) {
        dealer = sock(ctx, ZMQ_DEALER);
        zmq_connect(dealer, rdv_find(t, RDV_ROLE_TEACHER, k)->ep[RDV_EP_TEACHER]);
        proto_info_req_t rq = { .req_id = 1000 + (uint64_t)me->index };
        proto_encode_info_req(&b, &rq);
        send_buf(dealer, &b);
    }
    proto_stop_t stop;
    strcpy(stop.reason, "test");
    proto_buf_t sb;
    proto_buf_init(&sb);
    proto_encode_stop(&sb, &stop);
    double t_end = now() + DEADLINE, next_pub = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (now() < t_end && (byes < want || !info_ok)) {
        zmq_pollitem_t it[2] = { { pull, 0, ZMQ_POLLIN, 0 }, { dealer, 0, ZMQ_POLLIN, 0 } };
        zmq_poll(it, dealer ? 2 : 1, 20);
        if (it[0].revents & ZMQ_POLLIN && zmq_msg_recv(&m, pull, 0) >= 0) {
            proto_status_t st;
            int rc = proto_decode_status(zmq_msg_data(&m), zmq_msg_size(&m), &st);
            if (rc || rdv_learner_of_actor((int)st.id, t->n_role[RDV_ROLE_LEARNER]) != me->index) rejects++;
            else if (st.type == PROTO_T_HELLO) hellos++;
            else if (st.type == PROTO_T_GOODBYE) byes++;
        }
        if (dealer && it[1].revents & ZMQ_POLLIN && zmq_msg_recv(&m, dealer, 0) >= 0) {
            proto_info_t in;
            info_ok = proto_decode_info(zmq_msg_data(&m), zmq_msg_size(&m), &in) == 0
                      && in.req_id == 1000 + (uint64_t)me->index;
        }
        if (hellos == want && now() >= next_pub) { send_buf(pub, &sb); next_pub = now() + 0.02; }
    }
    zmq_msg_close(&m);
    proto_buf_free(&b);
    proto_buf_free(&sb);
    if (dealer) zmq_close(dealer);
    fprintf(stderr, "learner %d: %d/%d hellos, %d/%d goodbyes, %d rejected, teacher info %s\n", me->index, hellos,
            want, byes, want, rejects, info_ok ? "ok" : "MISSING");
    return hellos == want && byes == want && rejects == 0 && info_ok ? 0 : 1;
}

static int run_teacher(void *router, const rdv_table_t *t, const rdv_entry_t *me) {
    int want = 0;
    for (int l = 0; l < t->n_role[RDV_ROLE_LEARNER]; l++)
        want += rdv_teacher_of_learner(l, t->n_role[RDV_ROLE_TEACHER]) == me->index;
    int served = 0;
    proto_buf_t b;
    proto_buf_init(&b);
    double t_end = now() + DEADLINE;
    zmq_msg_t id, m;
    zmq_msg_init(&id);
    zmq_msg_init(&m);
    while (served < want && recv_frame(router, &id, t_end) == 0) {
        if (!zmq_msg_more(&id) || zmq_msg_recv(&m, router, 0) < 0) continue;
        proto_info_req_t rq;
        if (proto_decode_info_req(zmq_msg_data(&m), zmq_msg_size(&m), &rq) != 0) continue;
        proto_info_t in = { .req_id = rq.req_id, .obs_dim = 4, .n_actions = 2, .served_requests = (uint64_t)served };
        strcpy(in.arch, "4-64-2");
        proto_encode_info(&b, &in);
        zmq_msg_send(&id, router, ZMQ_SNDMORE);
        send_buf(router, &b);
        served++;
    }
    zmq_msg_close(&id);
    zmq_msg_close(&m);
    proto_buf_free(&b);
    fprintf(stderr, "teacher %d: answered %d/%d learners\n", me->index, served, want);
    return served == want ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--unit")) return unit();
    int role = argc > 2 && !strcmp(argv[1], "--role") ? rdv_role_parse(argv[2]) : -1;
    if (role < 0) {
        fprintf(stderr, "usage: test_rdv --unit | --role teacher|learner|actor\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    void *ctx = zmq_ctx_new();
    void *pull = NULL, *pub = NULL, *router = NULL;
    char addr[64], eps[RDV_N_EP][RDV_MAX_ENDPOINT] = { "", "", "" };
    const char *epp[RDV_N_EP] = { eps[0], eps[1], eps[2] };
    int rc = rdv_pick_address(getenv("KDQN_BIND_HOST"), addr, sizeof addr);
    if (!rc && role == RDV_ROLE_LEARNER) {
        pull = sock(ctx, ZMQ_PULL);
        pub = sock(ctx, ZMQ_PUB);
        rc = rdv_bind_ephemeral(pull, addr, eps[RDV_EP_EXPERIENCE], RDV_MAX_ENDPOINT);
        if (!rc) rc = rdv_bind_ephemeral(pub, addr, eps[RDV_EP_WEIGHTS], RDV_MAX_ENDPOINT);
    } else if (!rc && role == RDV_ROLE_TEACHER) {
        router = sock(ctx, ZMQ_ROUTER);
        rc = rdv_bind_ephemeral(router, addr, eps[RDV_EP_TEACHER], RDV_MAX_ENDPOINT);
    }
    if (rc) fprintf(stderr, "%s: bind: %s\n", rdv_role_name(role), rdv_strerror(rc));
    rdv_table_t t;
    /* A failed bind still joins the exchange (with empty endpoints) so nobody hangs. */
    int xrc = rdv_exchange(MPI_COMM_WORLD, (rdv_role_t)role, epp, &t);
    MPI_Finalize(); /* right after the rendezvous: ZeroMQ only from here on */
    int status = 1;
    char why[256];
    if (xrc) {
        fprintf(stderr, "%s: rendezvous: %s\n", rdv_role_name(role), rdv_strerror(xrc));
    } else if ((rc = rdv_check_table(&t, t.self, why, sizeof why)) != 0) {
        fprintf(stderr, "%s: %s: %s\n", rdv_role_name(role), rdv_strerror(rc), why);
    } else {
        const rdv_entry_t *me = rdv_self(&t);
        int ok = me && me->role == role;
        /* Every rank learned every endpoint. */
        for (int r = 0; r < t.n; r++) {
            const rdv_entry_t *e = &t.entries[r];
            if (e->role == RDV_ROLE_LEARNER)
                ok &= !rdv_parse_endpoint(e->ep[RDV_EP_EXPERIENCE], 0, NULL, 0, NULL)
                      && !rdv_parse_endpoint(e->ep[RDV_EP_WEIGHTS], 0, NULL, 0, NULL);
            if (e->role == RDV_ROLE_TEACHER) ok &= !rdv_parse_endpoint(e->ep[RDV_EP_TEACHER], 0, NULL, 0, NULL);
        }
        if (!ok) fprintf(stderr, "rank %d: incomplete table\n", t.self);
        else if (role == RDV_ROLE_ACTOR) status = run_actor(ctx, &t, me);
        else if (role == RDV_ROLE_LEARNER) status = run_learner(ctx, pull, pub, &t, me);
        else status = run_teacher(router, &t, me);
    }
    rdv_table_free(&t);
    if (pull) zmq_close(pull);
    if (pub) zmq_close(pub);
    if (router) zmq_close(router);
    zmq_ctx_term(ctx);
    return status;
}
