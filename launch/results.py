#!/usr/bin/env python3
"""results.py RUN_DIR NAME... — the comparison table of a pipeline run.

Reads RUN_DIR/NAME/summary.json (written by kdqn-learner) for each name, prints
the table and writes RUN_DIR/results.json: {"rows": [{"name", "net", "params",
"eval_mean", "eval_std", "eval_episodes", "env_steps_to_475", "seconds_to_475",
...}]}. A missing or unreadable summary becomes a row with "error"."""
import json
import os
import sys

KEYS = ["name", "net", "params", "eval_mean", "eval_std", "eval_episodes", "env_steps_to_475",
        "seconds_to_475", "solved", "stop_reason", "env_steps", "seconds", "updates", "replay_ratio",
        "infer_ns_per_state_b1", "infer_ns_per_state_b64", "transitions_with_teacher",
        "teacher_queries_sent", "teacher_queries_answered", "actors_lost", "lost", "rejected_messages"]


def fmt(v, spec="{}"):
    return "-" if v is None else spec.format(v)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    run, names = sys.argv[1], sys.argv[2:]
    rows = []
    for name in names:
        path = os.path.join(run, name, "summary.json")
        try:
            with open(path) as f:
                s = json.load(f)
            row = {k: s.get(k) for k in KEYS}
            row["name"] = name
        except (OSError, ValueError) as e:
            row = {"name": name, "error": f"{path}: {e}"}
        rows.append(row)
    with open(os.path.join(run, "results.json"), "w") as f:
        json.dump({"rows": rows}, f, indent=2)
        f.write("\n")
    head = f"{'':9}{'net':>13}{'params':>8}{'greedy return (100 ep)':>24}{'steps to 475':>14}" \
           f"{'s to 475':>10}{'ns/state b1':>12}{'b64':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        if "error" in r:
            print(f"{r['name']:9} {r['error']}")
            continue
        ret = "-" if r["eval_mean"] is None else f"{r['eval_mean']:.1f} ± {r['eval_std']:.1f}"
        print(f"{r['name']:9}{r['net']:>13}{r['params']:>8}{ret:>24}"
              f"{fmt(r['env_steps_to_475']):>14}{fmt(r['seconds_to_475'], '{:.1f}'):>10}"
              f"{fmt(r['infer_ns_per_state_b1'], '{:.0f}'):>12}{fmt(r['infer_ns_per_state_b64'], '{:.1f}'):>7}")
    for r in rows:
        if "error" not in r and not r.get("solved"):
            print(f"note: {r['name']} did not reach 475 ({r.get('stop_reason')}: "
                  f"{r.get('env_steps')} env steps, {r.get('seconds')} s)")
        if r.get("lost"):
            print(f"note: {r['name']} lost actors: {r['lost']}")
    by = {r["name"]: r for r in rows if "error" not in r}
    st, sc = by.get("student"), by.get("scratch")
    if st and sc and st.get("env_steps_to_475"):
        if sc.get("env_steps_to_475"):
            print(f"distilled student needed {st['env_steps_to_475'] / sc['env_steps_to_475']:.3f}x "
                  f"the environment steps of the same net from scratch")
        else:
            print(f"distilled student solved in {st['env_steps_to_475']} env steps; from scratch it did not "
                  f"solve within {sc.get('env_steps')} env steps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
