"""dlc's f32 tanh, exp, log, erf, sigmoid and gelu (polynomial
approximations, dlc-approximate-math) against Python's libm in f64.

Runs `dlc predict` on a model whose output is every function of its input,
on 46,002 points in [-20, 20] (denser in [-3, 3]). Relative error must stay
within 1e-6 (16 f32 ulps) for tanh, exp, log, erf and sigmoid; gelu is
0.5 x (1 + erf(x / sqrt 2)), whose f32 value for x << 0 is a cancellation
(relative error is meaningless there), so its absolute error must stay
within 1e-6.
"""
import json
import math
import os
import struct
import subprocess
import sys

import numpy as np

dlc, model, work = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(work, exist_ok=True)
x = np.concatenate([np.linspace(-20, 20, 40001), np.linspace(-3, 3, 6001)])
x = x.astype(np.float32).reshape(-1, 1)
np.save(os.path.join(work, "x.npy"), x)
header = json.dumps({"w": {"dtype": "F32", "shape": [1],
                           "data_offsets": [0, 4]}}).encode()
header += b" " * (-len(header) % 8)
with open(os.path.join(work, "w.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + bytes(4))
subprocess.run([dlc, "predict", model, "--load", os.path.join(work, "w.safetensors"),
                "--input", os.path.join(work, "x.npy"),
                "--output", os.path.join(work, "y.npy")], check=True)
y = np.load(os.path.join(work, "y.npy")).astype(np.float64)

xs = x[:, 0].astype(np.float64)
erf = np.vectorize(math.erf)
shifted = (np.abs(x[:, 0]) + np.float32(0.001)).astype(np.float64)  # as dlc rounds it
reference = {
    "tanh": np.tanh(xs), "exp": np.exp(xs), "log": np.log(shifted),
    "erf": erf(xs), "sigmoid": 1 / (1 + np.exp(-xs)),
    "gelu": 0.5 * xs * (1 + erf(xs / math.sqrt(2))),
}
ok = True
for k, (name, ref) in enumerate(reference.items()):
    err = np.abs(y[:, k] - ref)
    if name == "gelu":
        worst, bound, kind = err.max(), 1e-6, "absolute"
    else:
        worst, bound, kind = (err / np.maximum(np.abs(ref), 1e-30)).max(), 1e-6, "relative"
    print(f"{name}: max {kind} error {worst:.2e}")
    ok &= worst <= bound
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
