"""Checkpoints and dlc predict against numpy.

Trains the seed example with --save, reads the safetensors file with an
independent reader written here (8-byte little-endian header size, JSON
header, raw data), and checks that `dlc predict` gives x @ w + b computed by
numpy from those weights. Then resumes training from the checkpoint with
--load and checks that loading is exact (0 further epochs is not allowed,
so one epoch with lr tiny must stay within 1e-6 of the saved weights).
"""
import json
import os
import struct
import subprocess

import numpy as np

import oracle

args = oracle.parse_args()
w = args.workdir


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        dtype = {"F32": "<f4", "F64": "<f8"}[t["dtype"]]
        out[name] = np.frombuffer(data[8 + n + b:8 + n + e], dtype=dtype).reshape(t["shape"])
    return out


ckpt = os.path.join(w, "lin.safetensors")
subprocess.run([args.dlc, "train", args.model, "--save", ckpt], check=True,
               stdout=subprocess.DEVNULL)
weights = read_safetensors(ckpt)
oracle.check("checkpoint names", sorted(weights) == ["b", "w"], str(sorted(weights)))

rng = np.random.default_rng(0)
x = rng.normal(size=(7, 4))
inp = os.path.join(w, "x.csv")
with open(inp, "w") as f:
    f.write("a,b,c,d\n")
    for row in x:
        f.write(",".join(repr(float(v)) for v in row) + "\n")
out = os.path.join(w, "pred.csv")
subprocess.run([args.dlc, "predict", args.model, "--load", ckpt, "--input",
                inp, "--output", out], check=True)
pred = np.loadtxt(out, delimiter=",", skiprows=1)
expected = x.astype(np.float32) @ weights["w"] + weights["b"]
err = float(np.max(np.abs(pred - expected) / np.maximum(1, np.abs(expected))))
oracle.check("predict = x @ w + b", err < 1e-6, f"max relative error {err:.2e}")

ckpt2 = os.path.join(w, "lin2.safetensors")
subprocess.run([args.dlc, "train", args.model, "--load", ckpt, "--epochs",
                "1", "--lr", "1e-12", "--save", ckpt2], check=True,
               stdout=subprocess.DEVNULL)
again = read_safetensors(ckpt2)
diff = max(float(np.max(np.abs(again[k] - weights[k]))) for k in weights)
oracle.check("load resumes from the saved weights", diff < 1e-6,
             f"max change {diff:.2e}")
