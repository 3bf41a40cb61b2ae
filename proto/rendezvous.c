/* rendezvous.c — endpoint exchange under MPI, address choice, endpoint checks. */
#include "rendezvous.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

const char *rdv_strerror(int err) {
    switch (err) {
    case RDV_OK: return "ok";
    case RDV_EINVAL: return "invalid argument";
    case RDV_EMPI: return "MPI call failed";
    case RDV_ENOMEM: return "out of memory";
    case RDV_EIFACE: return "no interface with an IPv4 address of that name (or in that subnet)";
    case RDV_ERESOLVE: return "neither an interface, an IPv4 address nor a resolvable host name";
    case RDV_EENDPOINT: return "malformed endpoint (want tcp://host:port)";
    case RDV_ELOOPBACK: return "loopback endpoint advertised to a rank on another host (pass --bind-host)";
    case RDV_EZMQ: return "ZeroMQ bind or getsockopt failed";
    case RDV_ETOOLONG: return "host name or endpoint too long";
    case RDV_EMISMATCH: return "rendezvous table inconsistent (missing role or endpoint)";
    default: return "unknown rendezvous error";
    }
}

static const char *const role_names[RDV_N_ROLES] = { "teacher", "learner", "actor" };

const char *rdv_role_name(int role) { return role >= 0 && role < RDV_N_ROLES ? role_names[role] : "?"; }

int rdv_role_parse(const char *name) {
    for (int r = 0; name && r < RDV_N_ROLES; r++)
        if (strcmp(name, role_names[r]) == 0) return r;
    return RDV_EINVAL;
}

/* Which endpoint slots a role must fill. */
static int role_binds(int role, int ep) {
    switch (role) {
    case RDV_ROLE_LEARNER: return ep == RDV_EP_EXPERIENCE || ep == RDV_EP_WEIGHTS;
    case RDV_ROLE_TEACHER: return ep == RDV_EP_TEACHER;
    default: return 0;
    }
}

static int bounded_str(const char *s, size_t cap) { return memchr(s, 0, cap) != NULL; }

/* Checks one received record (it came from another process: trust nothing). */
static int entry_valid(const rdv_entry_t *e) {
    if (e->role < 0 || e->role >= RDV_N_ROLES || !bounded_str(e->host, RDV_MAX_HOST)) return 0;
    for (int k = 0; k < RDV_N_EP; k++) {
        if (!bounded_str(e->ep[k], RDV_MAX_ENDPOINT)) return 0;
        if (role_binds(e->role, k) && rdv_parse_endpoint(e->ep[k], 0, NULL, 0, NULL) != 0) return 0;
    }
    return 1;
}

int rdv_exchange(MPI_Comm comm, rdv_role_t role, const char *const *eps, rdv_table_t *t) {
    if (!t) return RDV_EINVAL;
    memset(t, 0, sizeof *t);
    int rank, size;
    MPI_Errhandler old;
    if (MPI_Comm_get_errhandler(comm, &old) != MPI_SUCCESS) return RDV_EMPI;
    MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
    int rc = RDV_OK;
    rdv_entry_t mine;
    rdv_entry_t *all = NULL;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS || MPI_Comm_size(comm, &size) != MPI_SUCCESS) {
        rc = RDV_EMPI;
        goto out;
    }
    /* Build this rank's record; on a bad argument send an invalid one (role
     * -1) rather than skip the collective, so nobody hangs. */
    memset(&mine, 0, sizeof mine);
    mine.rank = rank;
    mine.role = (int32_t)role;
    mine.index = -1;
    mine.pid = (int32_t)getpid();
    if (gethostname(mine.host, RDV_MAX_HOST - 1) != 0) snprintf(mine.host, RDV_MAX_HOST, "unknown");
    mine.host[RDV_MAX_HOST - 1] = 0;
    int local_err = 0;
    if ((int)role < 0 || role >= RDV_N_ROLES) local_err = RDV_EINVAL;
    for (int k = 0; !local_err && k < RDV_N_EP; k++) {
        const char *ep = eps ? eps[k] : NULL;
        if (!ep || !*ep) {
            if (role_binds(role, k)) local_err = RDV_EINVAL;
            continue;
        }
        if (strlen(ep) >= RDV_MAX_ENDPOINT) local_err = RDV_ETOOLONG;
        else if (rdv_parse_endpoint(ep, 0, NULL, 0, NULL) != 0) local_err = RDV_EENDPOINT;
        else strcpy(mine.ep[k], ep);
    }
    if (local_err) mine.role = -1;

    all = calloc((size_t)size, sizeof *all);
    if (!all) { rc = RDV_ENOMEM; goto out; } /* cannot join without a buffer; documented */
    if (MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, comm) != MPI_SUCCESS) {
        rc = RDV_EMPI;
        goto out;
    }
    if (local_err) { rc = local_err; goto out; }
    int count[RDV_N_ROLES] = { 0 };
    for (int r = 0; r < size; r++) {
        rdv_entry_t *e = &all[r];
        if (e->rank != r || !entry_valid(e)) { rc = RDV_EMISMATCH; goto out; }
        e->index = count[e->role]++;
    }
    t->n = size;
    t->self = rank;
    memcpy(t->n_role, count, sizeof count);
    t->entries = all;
    all = NULL;
out:
    free(all);
    MPI_Comm_set_errhandler(comm, old);
    MPI_Errhandler_free(&old);
    if (rc) memset(t, 0, sizeof *t);
    return rc;
}

void rdv_table_free(rdv_table_t *t) {
    if (!t) return;
    free(t->entries);
    memset(t, 0, sizeof *t);
}

const rdv_entry_t *rdv_find(const rdv_table_t *t, rdv_role_t role, int index) {
    if (!t || !t->entries) return NULL;
    for (int r = 0; r < t->n; r++)
        if (t->entries[r].role == (int32_t)role && t->entries[r].index == index) return &t->entries[r];
    return NULL;
}

const rdv_entry_t *rdv_self(const rdv_table_t *t) {
    return t && t->entries && t->self >= 0 && t->self < t->n ? &t->entries[t->self] : NULL;
}

int rdv_learner_of_actor(int actor_index, int n_learners) {
    return n_learners > 0 && actor_index >= 0 ? actor_index % n_learners : -1;
}

int rdv_teacher_of_learner(int learner_index, int n_teachers) {
    return n_teachers > 0 && learner_index >= 0 ? learner_index % n_teachers : -1;
}

int rdv_actors_of_learner(int learner_index, int n_actors, int n_learners) {
    if (n_learners <= 0 || learner_index < 0 || learner_index >= n_learners || n_actors <= 0) return 0;
    return n_actors / n_learners + (learner_index < n_actors % n_learners);
}

static int copy_out(const char *s, char *out, size_t n) {
    if (strlen(s) >= n) return RDV_ETOOLONG;
    strcpy(out, s);
    return 0;
}

/* "A.B.C.D/N" -> the first IPv4 address of a local interface inside that
 * subnet (the same --bind-host then works on every host of a cluster). */
static int pick_in_subnet(const char *spec, char *out, size_t n) {
    char net[INET_ADDRSTRLEN];
    const char *slash = strchr(spec, '/');
    size_t nl = (size_t)(slash - spec);
    if (nl == 0 || nl >= sizeof net) return RDV_EINVAL;
    memcpy(net, spec, nl);
    net[nl] = 0;
    char *end;
    errno = 0;
    long bits = strtol(slash + 1, &end, 10);
    struct in_addr a;
    if (!slash[1] || *end || errno || bits < 1 || bits > 32 || inet_pton(AF_INET, net, &a) != 1) return RDV_EINVAL;
    const uint32_t mask = bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
    const uint32_t want = ntohl(a.s_addr) & mask;
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) != 0) return RDV_EIFACE;
    int rc = RDV_EIFACE;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(sin->sin_addr.s_addr) & mask) != want) continue;
        char buf[INET_ADDRSTRLEN];
        if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) { rc = copy_out(buf, out, n); break; }
    }
    freeifaddrs(ifs);
    return rc;
}

int rdv_pick_address(const char *spec, char *out, size_t n) {
    if (!out || n == 0) return RDV_EINVAL;
    if (!spec || !*spec || strcmp(spec, "auto") == 0) return copy_out("127.0.0.1", out, n);
    struct in_addr a;
    if (strchr(spec, '/')) /* a subnet "A.B.C.D/N": this host's address inside it */
        return pick_in_subnet(spec, out, n);
    if (inet_pton(AF_INET, spec, &a) == 1) {
        if (a.s_addr == htonl(INADDR_ANY)) return RDV_EINVAL; /* 0.0.0.0 cannot be advertised */
        return copy_out(spec, out, n);
    }
    /* An interface name? */
    struct ifaddrs *ifs = NULL;
    if (getifaddrs(&ifs) == 0) {
        int found_name = 0, rc = RDV_EIFACE;
        for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_name || strcmp(i->ifa_name, spec) != 0) continue;
            found_name = 1;
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
            char buf[INET_ADDRSTRLEN];
            const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
            if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf)) { rc = copy_out(buf, out, n); break; }
        }
        freeifaddrs(ifs);
        if (found_name) return rc;
    }
    /* A host name. */
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(spec, NULL, &hints, &res) != 0 || !res) return RDV_ERESOLVE;
    char buf[INET_ADDRSTRLEN];
    int rc = RDV_ERESOLVE;
    if (inet_ntop(AF_INET, &((const struct sockaddr_in *)res->ai_addr)->sin_addr, buf, sizeof buf))
        rc = copy_out(buf, out, n);
    freeaddrinfo(res);
    return rc;
}

int rdv_bind_ephemeral(void *sock, const char *addr, char *out, size_t n) {
    if (!sock || !addr || !out || n == 0) return RDV_EINVAL;
    char ep[RDV_MAX_ENDPOINT];
    if (snprintf(ep, sizeof ep, "tcp://%s:*", addr) >= (int)sizeof ep) return RDV_ETOOLONG;
    if (zmq_bind(sock, ep) != 0) return RDV_EZMQ;
    char got[RDV_MAX_ENDPOINT + 32];
    size_t len = sizeof got;
    if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, got, &len) != 0) return RDV_EZMQ;
    got[sizeof got - 1] = 0;
    return copy_out(got, out, n);
}

int rdv_parse_endpoint(const char *ep, int allow_wildcard, char *host, size_t hostlen, int *port) {
    static const char scheme[] = "tcp://";
    if (!ep || strncmp(ep, scheme, sizeof scheme - 1) != 0) return RDV_EENDPOINT;
    const char *h = ep + sizeof scheme - 1;
    const char *colon = strrchr(h, ':');
    if (!colon || colon == h) return RDV_EENDPOINT;
    size_t hl = (size_t)(colon - h);
    if (h[0] == '[') { /* [IPv6] */
        if (hl < 3 || h[hl - 1] != ']') return RDV_EENDPOINT;
        for (size_t i = 1; i + 1 < hl; i++)
            if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.') return RDV_EENDPOINT;
    } else {
        for (size_t i = 0; i < hl; i++) {
            unsigned char c = (unsigned char)h[i];
            if (!isalnum(c) && c != '.' && c != '-' && c != '_') return RDV_EENDPOINT;
        }
    }
    const char *p = colon + 1;
    int pn;
    if (strcmp(p, "*") == 0) {
        if (!allow_wildcard) return RDV_EENDPOINT;
        pn = 0;
    } else {
        if (!*p || strlen(p) > 5) return RDV_EENDPOINT;
        pn = 0;
        for (; *p; p++) {
            if (!isdigit((unsigned char)*p)) return RDV_EENDPOINT;
            pn = pn * 10 + (*p - '0');
        }
        if (pn < 1 || pn > 65535) return RDV_EENDPOINT;
    }
    if (host) {
        if (hl >= hostlen) return RDV_ETOOLONG;
        memcpy(host, h, hl);
        host[hl] = 0;
    }
    if (port) *port = pn;
    return 0;
}

int rdv_endpoint_is_loopback(const char *ep) {
    char host[RDV_MAX_ENDPOINT];
    if (rdv_parse_endpoint(ep, 1, host, sizeof host, NULL) != 0) return 0;
    if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0) return 1;
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* Checks one endpoint that `me` will connect to, owned by `owner`. */
static int check_ep(const rdv_entry_t *me, const rdv_entry_t *owner, int ep, char *why, size_t whylen) {
    const char *s = owner->ep[ep];
    if (rdv_parse_endpoint(s, 0, NULL, 0, NULL) != 0) {
        if (why) snprintf(why, whylen, "%s %d advertised no valid endpoint (\"%s\")",
                          rdv_role_name(owner->role), owner->index, s);
        return RDV_EMISMATCH;
    }
    if (rdv_endpoint_is_loopback(s) && strcmp(me->host, owner->host) != 0) {
        if (why) snprintf(why, whylen, "%s %d on host %s advertises loopback endpoint %s, unreachable from "
                          "%s %d on host %s: bind a reachable address (--bind-host IFACE|ADDR|SUBNET|HOST)",
                          rdv_role_name(owner->role), owner->index, owner->host, s,
                          rdv_role_name(me->role), me->index, me->host);
        return RDV_ELOOPBACK;
    }
    return 0;
}

int rdv_check_table(const rdv_table_t *t, int rank, char *why, size_t whylen) {
    if (why && whylen) why[0] = 0;
    if (!t || !t->entries || rank < 0 || rank >= t->n) return RDV_EINVAL;
    const rdv_entry_t *me = &t->entries[rank];
    int rc;
    if (me->role == RDV_ROLE_ACTOR) {
        int l = rdv_learner_of_actor(me->index, t->n_role[RDV_ROLE_LEARNER]);
        const rdv_entry_t *le = l >= 0 ? rdv_find(t, RDV_ROLE_LEARNER, l) : NULL;
        if (!le) {
            if (why) snprintf(why, whylen, "actor %d has no learner (the job has none)", me->index);
            return RDV_EMISMATCH;
        }
        if ((rc = check_ep(me, le, RDV_EP_EXPERIENCE, why, whylen))) return rc;
        if ((rc = check_ep(me, le, RDV_EP_WEIGHTS, why, whylen))) return rc;
    } else if (me->role == RDV_ROLE_LEARNER) {
        int k = rdv_teacher_of_learner(me->index, t->n_role[RDV_ROLE_TEACHER]);
        const rdv_entry_t *te = k >= 0 ? rdv_find(t, RDV_ROLE_TEACHER, k) : NULL;
        if (te && (rc = check_ep(me, te, RDV_EP_TEACHER, why, whylen))) return rc;
    }
    return 0;
}

/* The ranks that connect to `owner`'s endpoints: a learner's actors, a
 * teacher's learners. The first one on another host that would be handed a
 * loopback endpoint makes this fail, so the OWNER of the endpoint stops at
 * start-up too instead of waiting for peers that can never reach it. */
int rdv_check_peers(const rdv_table_t *t, int rank, char *why, size_t whylen) {
    if (why && whylen) why[0] = 0;
    if (!t || !t->entries || rank < 0 || rank >= t->n) return RDV_EINVAL;
    const rdv_entry_t *me = &t->entries[rank];
    int ep;
    if (me->role == RDV_ROLE_LEARNER) ep = RDV_EP_EXPERIENCE;
    else if (me->role == RDV_ROLE_TEACHER) ep = RDV_EP_TEACHER;
    else return 0;
    if (!rdv_endpoint_is_loopback(me->ep[ep]) && (me->role != RDV_ROLE_LEARNER || !rdv_endpoint_is_loopback(me->ep[RDV_EP_WEIGHTS])))
        return 0;
    for (int r = 0; r < t->n; r++) {
        const rdv_entry_t *p = &t->entries[r];
        int mine;
        if (me->role == RDV_ROLE_LEARNER)
            mine = p->role == RDV_ROLE_ACTOR && rdv_learner_of_actor(p->index, t->n_role[RDV_ROLE_LEARNER]) == me->index;
        else
            mine = p->role == RDV_ROLE_LEARNER && rdv_teacher_of_learner(p->index, t->n_role[RDV_ROLE_TEACHER]) == me->index;
        if (mine && strcmp(p->host, me->host) != 0) {
            if (why) snprintf(why, whylen, "%s %d on host %s advertises loopback endpoint %s, unreachable from "
                              "%s %d (rank %d) on host %s: bind a reachable address (--bind-host IFACE|ADDR|SUBNET|HOST)",
                              rdv_role_name(me->role), me->index, me->host, me->ep[ep],
                              rdv_role_name(p->role), p->index, p->rank, p->host);
            return RDV_ELOOPBACK;
        }
    }
    return 0;
}
