""".npy files in and out, checked with numpy.

numpy writes features (float64, [rows, 2, 2]) and integer targets; dlc
trains a softmax classifier from them (the npy data source), predicts from a
.npy input into a .npy output, and numpy reads the output back and checks it
against softmax(x @ w + b) computed from the saved weights. Bad files are
rejected with clear errors.
"""
import json
import os
import struct
import subprocess

import numpy as np

import oracle

args = oracle.parse_args()
w = args.workdir
rng = np.random.default_rng(0)
x = rng.normal(size=(60, 2, 2))
y = (x.reshape(60, 4).sum(1) > 0).astype(np.int64) + (x[:, 0, 0] > 1)
np.save(os.path.join(w, "x.npy"), x)
np.save(os.path.join(w, "y.npy"), y)
model = os.path.join(w, "m.dlg")
with open(model, "w") as f:
    f.write("""model m {
  input x : f32[batch, 2, 2]
  input y : f32[batch]
  param w : f32[4, 3] = zeros
  param b : f32[3] = zeros
  logits = flatten(x) @ w + b
  minimize cross_entropy(logits, y)
  output softmax(logits)
}
train m {
  data = npy("x.npy", targets: "y.npy")
  optimizer = sgd(lr: 0.5)
  epochs = 50
  batch = 60
  metrics = [accuracy]
}
""")
ckpt = os.path.join(w, "m.safetensors")
out = os.path.join(w, "p.npy")
for cmd in ([args.dlc, "train", model, "--save", ckpt],
            [args.dlc, "predict", model, "--load", ckpt, "--input",
             os.path.join(w, "x.npy"), "--output", out]):
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)

with open(ckpt, "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8:8 + n])
t = {k: np.frombuffer(blob[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                      dtype="<f4").reshape(v["shape"])
     for k, v in header.items() if k != "__metadata__"}
z = x.reshape(60, 4).astype(np.float32) @ t["w"] + t["b"]
expected = np.exp(z - z.max(1, keepdims=True))
expected /= expected.sum(1, keepdims=True)
p = np.load(out)
err = float(np.abs(p - expected).max())
oracle.check(".npy prediction = numpy's softmax(x @ w + b)",
             p.shape == (60, 3) and p.dtype == np.float32 and err < 1e-6,
             f"shape {p.shape}, dtype {p.dtype}, max error {err:.2e}")

# Bad files.
bad = os.path.join(w, "bad.npy")
np.save(bad, np.asfortranarray(rng.normal(size=(3, 4))))
r = subprocess.run([args.dlc, "predict", model, "--load", ckpt, "--input", bad],
                   capture_output=True, text=True)
oracle.check("Fortran-order .npy rejected",
             r.returncode == 1 and "Fortran-order" in r.stderr, r.stderr.strip())
with open(bad, "wb") as f:
    f.write(b"not numpy")
r = subprocess.run([args.dlc, "predict", model, "--load", ckpt, "--input", bad],
                   capture_output=True, text=True)
oracle.check("non-.npy file rejected",
             r.returncode == 1 and "not a .npy file" in r.stderr, r.stderr.strip())
np.save(bad, np.zeros((3, 4), dtype=np.complex64))
r = subprocess.run([args.dlc, "predict", model, "--load", ckpt, "--input", bad],
                   capture_output=True, text=True)
oracle.check("complex .npy rejected",
             r.returncode == 1 and "is not supported" in r.stderr, r.stderr.strip())
