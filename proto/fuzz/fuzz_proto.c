/* fuzz_proto.c — one libFuzzer target per decoder, chosen at compile time by
 * FUZZ_DECODER (0 peek, 1 status, 2 batch, 3 weights, 4 stop, 5 query,
 * 6 reply, 7 info_req, 8 info, 9 error).
 *
 * Oracle beyond "no crash / no sanitizer report": every view of an accepted
 * message is read in full (ASan checks its bounds), and an accepted message
 * re-encodes and decodes to the same fields (the encoder accepts everything
 * the decoder accepts). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static proto_buf_t buf __attribute__((unused));

static __attribute__((unused)) uint32_t touch(const void *p, size_t n) {
    const uint8_t *q = p;
    uint32_t h = 0;
    for (size_t i = 0; i < n; i++) h = h * 31 + q[i];
    return h;
}

#define MUST(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    volatile uint32_t sink = 0;
#if FUZZ_DECODER == 0
    int t = proto_peek_type(data, size);
    MUST(t < 0 || (t > 0 && t < PROTO_T_COUNT_));
    sink += (uint32_t)proto_peek_req_id(data, size);
#elif FUZZ_DECODER == 1
    proto_status_t m, m2;
    if (proto_decode_status(data, size, &m)) return 0;
    MUST(proto_encode_status(&buf, &m) == 0 && proto_decode_status(buf.data, buf.len, &m2) == 0);
    MUST(m2.type == m.type && m2.id == m.id && m2.seq == m.seq && !strcmp(m2.host, m.host) && !strcmp(m2.role, m.role));
#elif FUZZ_DECODER == 2
    proto_batch_t m, m2;
    if (proto_decode_batch(data, size, &m)) return 0;
    size_t no = (size_t)m.n * m.obs_dim * 4;
    sink += touch(m.obs, no) + touch(m.next_obs, no) + touch(m.actions, 4 * m.n) + touch(m.rewards, 4 * m.n)
          + touch(m.discounts, 4 * m.n) + touch(m.ep_returns, 4 * m.n_episodes) + touch(m.ep_lengths, 4 * m.n_episodes);
    MUST(proto_encode_batch(&buf, &m) == 0 && proto_decode_batch(buf.data, buf.len, &m2) == 0);
    MUST(m2.n == m.n && m2.obs_dim == m.obs_dim && m2.seq == m.seq && !memcmp(m2.obs, m.obs, no)
         && !memcmp(m2.actions, m.actions, 4 * m.n));
#elif FUZZ_DECODER == 3
    proto_weights_t m, m2;
    if (proto_decode_weights(data, size, &m)) return 0;
    sink += touch(m.params, 4 * (size_t)m.n_params);
    MUST(proto_encode_weights(&buf, &m) == 0 && proto_decode_weights(buf.data, buf.len, &m2) == 0);
    MUST(m2.crc == m.crc && m2.version == m.version && !strcmp(m2.arch, m.arch));
#elif FUZZ_DECODER == 4
    proto_stop_t m, m2;
    if (proto_decode_stop(data, size, &m)) return 0;
    MUST(proto_encode_stop(&buf, &m) == 0 && proto_decode_stop(buf.data, buf.len, &m2) == 0 && !strcmp(m.reason, m2.reason));
#elif FUZZ_DECODER == 5
    proto_query_t m, m2;
    if (proto_decode_query(data, size, &m)) return 0;
    sink += touch(m.obs, (size_t)m.n * m.obs_dim * 4);
    MUST(proto_encode_query(&buf, &m) == 0 && proto_decode_query(buf.data, buf.len, &m2) == 0);
    MUST(m2.req_id == m.req_id && m2.temperature == m.temperature && m2.n == m.n);
#elif FUZZ_DECODER == 6
    proto_reply_t m, m2;
    if (proto_decode_reply(data, size, &m)) return 0;
    size_t na = (size_t)m.n * m.n_actions * 4;
    sink += touch(m.q, na) + touch(m.probs, na);
    MUST(proto_encode_reply(&buf, &m) == 0 && proto_decode_reply(buf.data, buf.len, &m2) == 0);
    MUST(m2.req_id == m.req_id && !memcmp(m2.q, m.q, na) && !memcmp(m2.probs, m.probs, na));
#elif FUZZ_DECODER == 7
    proto_info_req_t m, m2;
    if (proto_decode_info_req(data, size, &m)) return 0;
    MUST(proto_encode_info_req(&buf, &m) == 0 && proto_decode_info_req(buf.data, buf.len, &m2) == 0 && m2.req_id == m.req_id);
#elif FUZZ_DECODER == 8
    proto_info_t m, m2;
    if (proto_decode_info(data, size, &m)) return 0;
    MUST(proto_encode_info(&buf, &m) == 0 && proto_decode_info(buf.data, buf.len, &m2) == 0);
    MUST(m2.req_id == m.req_id && !strcmp(m2.arch, m.arch) && m2.served_states == m.served_states);
#elif FUZZ_DECODER == 9
    proto_error_t m, m2;
    if (proto_decode_error(data, size, &m)) return 0;
    MUST(proto_encode_error(&buf, &m) == 0 && proto_decode_error(buf.data, buf.len, &m2) == 0);
    MUST(m2.code == m.code && !strcmp(m2.text, m.text));
#else
#error "FUZZ_DECODER must be 0..9"
#endif
    (void)sink;
    return 0;
}
