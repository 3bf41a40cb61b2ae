#!/usr/bin/env python3
"""Load a network exported by kdqn-export and run it with numpy alone.

    kdqn-export --checkpoint runs/x/student/best.ckpt --out student.npz
    python3 load_student.py student.npz --states "0.01,0.02,-0.03,0.04"
    python3 load_student.py student.npz --episodes 20      # greedy CartPole-v1 rollouts

The forward pass is the whole of kdqn's network: W_l has shape (in, out),
hidden layers use ReLU, the output layer is linear:

    z = np.load("student.npz")
    W = [z[f"W{i}"] for i in range(len(z["arch"]) - 1)]; b = [z[f"b{i}"] for i in ...]
    q = relu(x @ W0 + b0) @ W1 + b1          # for a 4-H-2 student

--episodes runs greedy episodes on a small numpy port of Gymnasium's
CartPole-v1 (float64 state, Euler, tau 0.02); its returns should be close to
kdqn-eval's for the same checkpoint (not identical: different reset draws).
--json prints {"states", "q", "greedy"} (used by kdqn's tests).
"""
import argparse
import json
import math
import sys

import numpy as np


def load(path):
    """Returns the lists W, b of float32 arrays from an .npz file or an npy folder."""
    if path.endswith(".npz"):
        z = np.load(path)
        get = lambda name: z[name]
    else:
        get = lambda name: np.load("%s/%s.npy" % (path, name))
    widths = [int(w) for w in get("arch")]
    L = len(widths) - 1
    W = [get("W%d" % i) for i in range(L)]
    b = [get("b%d" % i) for i in range(L)]
    for i in range(L):
        assert W[i].shape == (widths[i], widths[i + 1]) and b[i].shape == (widths[i + 1],), "bad shapes"
    return W, b


def forward(W, b, x):
    """q (B, n_act) = net(x (B, obs_dim)), in float32 like kdqn."""
    h = np.asarray(x, dtype=np.float32)
    for i in range(len(W)):
        h = h @ W[i] + b[i]
        if i + 1 < len(W):
            h = np.maximum(h, 0)
    return h


def cartpole_episode(W, b, rng, max_steps=500):
    """One greedy episode of CartPole-v1 (Gymnasium's equations); returns its return."""
    g, mc, mp, l, f, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_lim, x_lim = 12 * 2 * math.pi / 360, 2.4
    s = rng.uniform(-0.05, 0.05, size=4)
    ret = 0
    for _ in range(max_steps):
        a = int(np.argmax(forward(W, b, s[None, :].astype(np.float32))[0]))
        x, xd, th, thd = s
        force = f if a == 1 else -f
        ct, st = math.cos(th), math.sin(th)
        tmp = (force + mp * l * thd * thd * st) / (mc + mp)
        thacc = (g * st - ct * tmp) / (l * (4.0 / 3.0 - mp * ct * ct / (mc + mp)))
        xacc = tmp - mp * l * thacc * ct / (mc + mp)
        s = np.array([x + tau * xd, xd + tau * xacc, th + tau * thd, thd + tau * thacc])
        ret += 1
        if abs(s[0]) > x_lim or abs(s[2]) > theta_lim:
            break
    return ret


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", help="student.npz, or a folder written by kdqn-export --format npy")
    ap.add_argument("--states", default="0,0,0,0;0.01,0.02,-0.03,0.04",
                    help="states X1,X2,X3,X4;... to evaluate [%(default)s]")
    ap.add_argument("--episodes", type=int, default=0, help="greedy CartPole-v1 episodes to run [%(default)s]")
    ap.add_argument("--seed", type=int, default=0, help="seed of the episodes' resets [%(default)s]")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    W, b = load(args.path)
    states = np.array([[float(v) for v in s.split(",")] for s in args.states.split(";") if s.strip()],
                      dtype=np.float32)
    q = forward(W, b, states)
    greedy = q.argmax(axis=1)
    out = {"arch": "-".join(str(w.shape[0]) for w in W) + "-%d" % W[-1].shape[1],
           "states": states.tolist(), "q": q.tolist(), "greedy": greedy.tolist()}
    if args.episodes > 0:
        rng = np.random.default_rng(args.seed)
        rets = [cartpole_episode(W, b, rng) for _ in range(args.episodes)]
        out.update(episodes=args.episodes, mean=float(np.mean(rets)), std=float(np.std(rets)),
                   min=min(rets), max=max(rets))
    if args.json:
        print(json.dumps(out))
        return 0
    print("network %s" % out["arch"])
    for s, qs, a in zip(states, q, greedy):
        print("state [%s]  q [%s]  greedy %d" % (", ".join("%+.4f" % v for v in s),
                                                 ", ".join("%+.6f" % v for v in qs), a))
    if args.episodes > 0:
        print("%d greedy CartPole-v1 episodes: mean %.2f std %.2f min %d max %d"
              % (args.episodes, out["mean"], out["std"], out["min"], out["max"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
