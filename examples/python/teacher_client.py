#!/usr/bin/env python3
"""Ask a running kdqn-teacher for Q-values and soft targets (KDQN/1, proto/PROTOCOL.md).

Needs only pyzmq and msgpack (Debian: python3-zmq python3-msgpack):

    kdqn-teacher --checkpoint teacher.ckpt --bind tcp://127.0.0.1:5555 &
    python3 teacher_client.py --endpoint tcp://127.0.0.1:5555 --temperature 0.5

What it does, in protocol terms:
  * a DEALER socket connects to the teacher's ROUTER; every message is one
    frame holding one msgpack map with "v" (1) and "t" (the type);
  * "hello" (role "learner"), then "info_req" -> "info" (architecture, sizes),
  * one "query" with n states at temperature T -> "reply" holding q (raw
    Q-values) and p (softmax(q / T)) as little-endian float32 `bin` fields,
    row-major (n, n_act); an "error" reply carries a negative code and a text,
  * "goodbye" before closing.
--json prints the answer as one JSON object (used by kdqn's tests).
"""
import argparse
import json
import os
import socket
import struct
import sys

import msgpack
import zmq

PROTO_VERSION = 1
DEFAULT_STATES = "0,0,0,0;0.02,-0.1,0.03,0.2;-0.5,0.3,-0.1,-0.4;1.0,0.5,0.15,0.8"


def pack(msg):
    # use_bin_type: bytes -> msgpack bin, str -> msgpack str (what KDQN/1 requires)
    return msgpack.packb(msg, use_bin_type=True)


def f32_bin(values):
    """A list of floats as raw little-endian float32 bytes (a KDQN/1 array)."""
    return struct.pack("<%df" % len(values), *values)


def f32_list(blob, rows, cols, name):
    if not isinstance(blob, (bytes, bytearray)) or len(blob) != 4 * rows * cols:
        raise ValueError("field %r: expected %d bytes of float32, got %r"
                         % (name, 4 * rows * cols, len(blob) if isinstance(blob, (bytes, bytearray)) else blob))
    flat = struct.unpack("<%df" % (rows * cols), blob)
    return [list(flat[r * cols:(r + 1) * cols]) for r in range(rows)]


def status_msg(kind, obs_dim, n_act):
    return {"v": PROTO_VERSION, "t": kind, "role": "learner", "id": 0,
            "host": socket.gethostname()[:255], "pid": os.getpid(),
            "obs_dim": obs_dim, "n_act": n_act, "n_envs": 0, "seq": 0, "steps": 0, "pv": 0}


class TeacherClient:
    def __init__(self, endpoint, timeout_s=5.0, obs_dim=4, n_act=2):
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.MAXMSGSIZE, (64 << 20) + 1024)
        self.sock.connect(endpoint)
        self.timeout_ms = int(timeout_s * 1000)
        self.next_id = 1
        self.obs_dim, self.n_act = obs_dim, n_act
        self.sock.send(pack(status_msg("hello", obs_dim, n_act)))

    def _request(self, msg):
        rid = self.next_id
        self.next_id += 1
        msg["id"] = rid
        self.sock.send(pack(msg))
        while True:
            if not self.sock.poll(self.timeout_ms, zmq.POLLIN):
                raise TimeoutError("no answer from the teacher within %.1f s" % (self.timeout_ms / 1000))
            frames = self.sock.recv_multipart()
            if len(frames) != 1:
                continue  # KDQN/1 messages are single-frame; drop anything else
            ans = msgpack.unpackb(frames[0], raw=False)
            if not isinstance(ans, dict) or ans.get("v") != PROTO_VERSION:
                raise ValueError("not a KDQN/1 message: %r" % (ans,))
            if ans.get("id") not in (rid, 0) and ans.get("t") in ("reply", "info", "error"):
                continue  # an answer to some earlier request
            if ans.get("t") == "error":
                raise RuntimeError("teacher error %s: %s" % (ans.get("code"), ans.get("text")))
            return ans

    def info(self):
        ans = self._request({"v": PROTO_VERSION, "t": "info_req"})
        if ans.get("t") != "info":
            raise ValueError("expected info, got %r" % ans.get("t"))
        self.obs_dim, self.n_act = ans["obs_dim"], ans["n_act"]
        return ans

    def query(self, states, temperature):
        n = len(states)
        flat = [float(x) for s in states for x in s]
        if any(len(s) != self.obs_dim for s in states):
            raise ValueError("every state needs %d values" % self.obs_dim)
        ans = self._request({"v": PROTO_VERSION, "t": "query", "T": float(temperature),
                             "n": n, "obs_dim": self.obs_dim, "obs": f32_bin(flat)})
        if ans.get("t") != "reply" or ans.get("n") != n:
            raise ValueError("unexpected answer %r" % {k: v for k, v in ans.items() if k not in ("q", "p")})
        n_act = ans["n_act"]
        return f32_list(ans["q"], n, n_act, "q"), f32_list(ans["p"], n, n_act, "p")

    def close(self):
        try:
            self.sock.send(pack(status_msg("goodbye", self.obs_dim, self.n_act)), zmq.DONTWAIT)
        except zmq.ZMQError:
            pass
        self.sock.close()


def parse_states(text):
    return [[float(x) for x in part.split(",")] for part in text.split(";") if part.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--endpoint", default="tcp://127.0.0.1:5555", help="teacher ROUTER endpoint [%(default)s]")
    ap.add_argument("--temperature", type=float, default=1.0, help="softmax temperature T > 0 [%(default)s]")
    ap.add_argument("--states", default=DEFAULT_STATES, help="states X1,X2,X3,X4;... [%(default)s]")
    ap.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each answer [%(default)s]")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    if not args.temperature > 0:
        ap.error("--temperature must be > 0")
    try:
        states = parse_states(args.states)
    except ValueError:
        ap.error("--states: malformed numbers")
    if not states:
        ap.error("--states: no states")

    client = TeacherClient(args.endpoint, args.timeout)
    try:
        info = client.info()
        q, p = client.query(states, args.temperature)
    except (TimeoutError, RuntimeError, ValueError) as e:
        print("teacher_client: %s" % e, file=sys.stderr)
        return 1
    finally:
        client.close()

    if args.json:
        print(json.dumps({"info": {k: v for k, v in info.items()}, "temperature": args.temperature,
                          "states": states, "q": q, "p": p}))
        return 0
    print("teacher %s: obs_dim %d, %d actions, crc 0x%08x, %d queries / %d states served"
          % (info["arch"], info["obs_dim"], info["n_act"], info["crc"], info["n_req"], info["n_states"]))
    print("T = %g" % args.temperature)
    for s, qs, ps in zip(states, q, p):
        print("state [%s]  q [%s]  p [%s]" % (", ".join("%+.4f" % x for x in s),
                                              ", ".join("%+.6f" % x for x in qs),
                                              ", ".join("%.4f" % x for x in ps)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
