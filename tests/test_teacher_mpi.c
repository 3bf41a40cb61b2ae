/* test_teacher_mpi.c — kdqn-teacher as a rank of an mpirun job (label integration).
 *
 * This program is the job's learner rank:
 *   mpirun -np 1 kdqn-teacher --checkpoint CK : -np 1 test_teacher_mpi
 * It binds the learner's two endpoints (unused here), joins the rendezvous,
 * calls MPI_Finalize, then talks to the teacher it found in the table over
 * ZeroMQ only: hello, a query (checked against nothing but its shape and
 * probabilities summing to 1), an info request, goodbye. The teacher must
 * then exit on its own with status 0, which mpirun reports. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "proto.h"
#include "rendezvous.h"
#include "test_teacher_util.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL), *pub = zmq_socket(ctx, ZMQ_PUB);
    int linger = 0;
    zmq_setsockopt(pull, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof linger);
    char eps[RDV_N_EP][RDV_MAX_ENDPOINT] = {"", "", ""};
    rdv_bind_ephemeral(pull, "127.0.0.1", eps[RDV_EP_EXPERIENCE], RDV_MAX_ENDPOINT);
    rdv_bind_ephemeral(pub, "127.0.0.1", eps[RDV_EP_WEIGHTS], RDV_MAX_ENDPOINT);
    const char *epp[RDV_N_EP] = {eps[0], eps[1], NULL};
    rdv_table_t t;
    int rc = rdv_exchange(MPI_COMM_WORLD, RDV_ROLE_LEARNER, epp, &t);
    char teacher_ep[RDV_MAX_ENDPOINT] = "";
    if (rc == 0) {
        const rdv_entry_t *te = rdv_find(&t, RDV_ROLE_TEACHER, 0);
        if (te)
            snprintf(teacher_ep, sizeof teacher_ep, "%s", te->ep[RDV_EP_TEACHER]);
        rdv_table_free(&t);
    }
    MPI_Finalize();
    if (!TT_CHECK(rc == 0 && teacher_ep[0], "rendezvous: %s, teacher endpoint '%s'", rdv_strerror(rc),
                  teacher_ep))
        return 1;
    printf("teacher found at %s\n", teacher_ep);

    void *s = tt_dealer(ctx, teacher_ep);
    proto_buf_t b;
    proto_buf_init(&b);
    TT_CHECK(tt_send_status(s, &b, PROTO_T_HELLO, 0) == 0, "hello");
    float obs[16 * 4];
    for (int i = 0; i < 16 * 4; i++)
        obs[i] = 0.01f * (float)i;
    TT_CHECK(tt_send_query(s, &b, 5, 0.1f, 16, 4, obs) == 0, "query");
    uint8_t *f = NULL;
    long len = tt_recv(s, 5000, &f);
    proto_reply_t r;
    if (TT_CHECK(len > 0 && proto_decode_reply(f, (size_t)len, &r) == 0, "reply")) {
        TT_CHECK(r.req_id == 5 && r.n == 16 && r.n_actions == 2, "reply shape");
        for (uint32_t i = 0; i < r.n; i++) {
            float p0 = proto_f32_at(r.probs, 2 * i), p1 = proto_f32_at(r.probs, 2 * i + 1);
            TT_CHECK(fabsf(p0 + p1 - 1.0f) < 1e-5f, "row %u sums to %g", (unsigned)i, p0 + p1);
        }
    }
    free(f);
    proto_info_req_t ir = {.req_id = 6};
    proto_encode_info_req(&b, &ir);
    tt_send_buf(s, &b);
    f = NULL;
    len = tt_recv(s, 5000, &f);
    proto_info_t info;
    TT_CHECK(len > 0 && proto_decode_info(f, (size_t)len, &info) == 0 && info.served_requests == 1,
             "info reply");
    free(f);
    TT_CHECK(tt_send_status(s, &b, PROTO_T_GOODBYE, 0) == 0, "goodbye");
    zmq_close(s);
    zmq_close(pull);
    zmq_close(pub);
    zmq_ctx_term(ctx);   /* linger 0: the goodbye is already queued; term waits for nothing */
    proto_buf_free(&b);
    printf(tt_failures ? "test_teacher_mpi: %d FAILED\n" : "test_teacher_mpi: ok\n", tt_failures);
    return tt_failures ? 1 : 0;
}
