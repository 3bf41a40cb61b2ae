#!/usr/bin/env python3
"""Checks kdqn-export's files with numpy: shapes, dtypes, and that a numpy forward
pass of the loaded weights matches the Q-values kdqn-eval computes with mlp_infer
(kdqn-eval --print-q --json) to 1e-6.

    test_tools_export.py EVAL_JSON NPZ NPY_DIR ARCH [LOAD_STUDENT_JSON]
"""
import json
import sys
import zipfile

import numpy as np

TOL = 1e-6


def forward(W, b, x):
    h = np.asarray(x, dtype=np.float32)
    for i in range(len(W)):
        h = h @ W[i] + b[i]
        if i + 1 < len(W):
            h = np.maximum(h, 0)
    return h


def check_close(name, got, want):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, "%s: shape %s vs %s" % (name, got.shape, want.shape)
    err = np.abs(got - want) / np.maximum(1.0, np.abs(want))
    assert err.max() <= TOL, "%s: max error %.3g > %g\n%s\n%s" % (name, err.max(), TOL, got, want)
    print("ok: %s matches kdqn-eval's mlp_infer (max error %.2g over %d values)" % (name, err.max(), want.size))


def main():
    eval_json, npz, npy_dir, arch = sys.argv[1:5]
    widths = [int(w) for w in arch.split("-")]
    L = len(widths) - 1
    ref = json.load(open(eval_json))
    states, q_c = np.array(ref["states"], dtype=np.float32), np.array(ref["q"], dtype=np.float64)

    # The zip container: every entry STORED, CRC-32s right (zipfile checks them on read).
    with zipfile.ZipFile(npz) as zf:
        assert zf.testzip() is None, "bad CRC in the npz"
        names = zf.namelist()
        for i in zf.infolist():
            assert i.compress_type == zipfile.ZIP_STORED, i
    want = sum([["W%d.npy" % l, "b%d.npy" % l] for l in range(L)], []) + ["arch.npy", "arch.json"]
    assert sorted(names) == sorted(want), names
    print("ok: npz is a valid zip with", names)

    z = np.load(npz)
    assert list(z["arch"]) == widths and z["arch"].dtype == np.int32, z["arch"]
    meta = json.loads(bytes(z["arch.json"]))
    assert meta["arch"] == arch and meta["sizes"] == widths, meta
    W = [z["W%d" % i] for i in range(L)]
    b = [z["b%d" % i] for i in range(L)]
    for i in range(L):
        assert W[i].dtype == np.float32 and W[i].shape == (widths[i], widths[i + 1]), (i, W[i].shape)
        assert b[i].dtype == np.float32 and b[i].shape == (widths[i + 1],), (i, b[i].shape)
        assert W[i].flags["C_CONTIGUOUS"], "fortran_order must be False"
    check_close("npz forward", forward(W, b, states), q_c)

    # The npy folder holds the same arrays, byte for byte.
    for l in range(L):
        for nm, arr in (("W%d" % l, W[l]), ("b%d" % l, b[l])):
            raw = open("%s/%s.npy" % (npy_dir, nm), "rb").read()
            assert raw[:8] == b"\x93NUMPY\x01\x00", raw[:8]
            hlen = raw[8] | (raw[9] << 8)
            assert (10 + hlen) % 64 == 0 and raw[10 + hlen - 1:10 + hlen] == b"\n", "header not 64-aligned"
            assert np.array_equal(np.load("%s/%s.npy" % (npy_dir, nm)), arr), nm
    assert json.load(open("%s/arch.json" % npy_dir))["sizes"] == widths
    assert list(np.load("%s/arch.npy" % npy_dir)) == widths
    print("ok: npy folder holds the same arrays (v1.0 headers, 64-byte aligned)")

    # examples/python/load_student.py computes the same thing.
    if len(sys.argv) > 5:
        ls = json.load(open(sys.argv[5]))
        check_close("examples/python/load_student.py", ls["q"], q_c)
        assert ls["greedy"] == [int(np.argmax(r)) for r in q_c], ls["greedy"]


if __name__ == "__main__":
    main()
