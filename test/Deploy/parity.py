"""The compiled object against the JIT, on the same weights.

Weights: random, written to safetensors by this script (a reader and writer
of its own, not dlc's). `dlc compile --weights --header` builds model.o and
model.h; a C driver (driver.c, compiled with cc -std=c99 -Wall -Werror, and
the header as C++ too) predicts and runs 10 train steps. The JIT does the
same with `dlc predict --load` and `dlc train --load --no-shuffle`.
Predictions and parameters must agree to 1e-6 (relative, floor 1).
"""
import argparse
import json
import os
import struct
import subprocess

import numpy as np

p = argparse.ArgumentParser()
p.add_argument("--dlc", required=True)
p.add_argument("--model", required=True)
p.add_argument("--driver", required=True)
p.add_argument("--workdir", required=True)
p.add_argument("--features", type=int, required=True)
p.add_argument("--batch", type=int, default=7)
p.add_argument("--labels", action="store_true", help="0/1 targets")
p.add_argument("--classes", type=int, default=0, help="class-index targets")
args = p.parse_args()
w = args.workdir
os.makedirs(w, exist_ok=True)


def run(*cmd, **kw):
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, check=True, **kw)


def check(name, ok, detail):
    print(f"{'PASS' if ok else 'FAIL'}: {name}: {detail}", flush=True)
    if not ok:
        raise SystemExit(1)


def write_safetensors(path, tensors):
    header, data = {}, b""
    for name, a in tensors.items():
        a = np.array(a, dtype="<f4")  # 0-d stays 0-d
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [len(data), len(data) + a.nbytes]}
        data += a.tobytes()
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def param_shapes():
    """Names and shapes from the model, via dlc's own checkpoint of it."""
    ckpt = os.path.join(w, "shapes.safetensors")
    data = os.path.join(w, "one.csv")
    with open(data, "w") as f:
        f.write(",".join(f"f{i}" for i in range(args.features)) + ",t\n")
        for _ in range(2):
            f.write(",".join(["0"] * (args.features + 1)) + "\n")
    run(args.dlc, "train", args.model, "--train-csv", data, "--epochs", "1",
        "--save", ckpt, stdout=subprocess.DEVNULL)
    with open(ckpt, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    # dlc writes tensors in the model's parameter order (the order of the
    # C state's params array); JSON objects are unordered, offsets are not.
    params = [(v["data_offsets"][0], k, v["shape"]) for k, v in header.items()
              if k != "__metadata__" and "." not in k]
    return [(k, shape) for _, k, shape in sorted(params)]


rng = np.random.default_rng(1)
shapes = param_shapes()
weights = {name: rng.normal(scale=0.3, size=shape) for name, shape in shapes}
ckpt = os.path.join(w, "weights.safetensors")
write_safetensors(ckpt, weights)

obj, header = os.path.join(w, "model.o"), os.path.join(w, "model.h")
run(args.dlc, "compile", args.model, "--emit=obj", "-o", obj, "--header",
    header, "--weights", ckpt, "--prefix", "model")
exe = os.path.join(w, "driver")
run("cc", "-std=c99", "-Wall", "-Werror", "-I", w, "-o", exe, args.driver,
    obj, "-lm")
# The header is C++ too.
cpp = os.path.join(w, "header.cpp")
with open(cpp, "w") as f:
    f.write('#include "model.h"\nint main() { model_state s; '
            'return model_init(&s, nullptr, 0); }\n')
run("c++", "-std=c++17", "-Wall", "-Wextra", "-Werror", "-I", w, "-o",
    os.path.join(w, "header_cpp"), cpp, obj, "-lm")
run(os.path.join(w, "header_cpp"))

# Undefined symbols of the object: libc and libm only.
undefined = subprocess.run(["llvm-nm", "-u", obj], check=True,
                           capture_output=True, text=True).stdout.split()
undefined = [s for s in undefined if s != "U"]
libc_libm = {"memcpy", "memset", "memmove", "expf", "exp", "logf", "log",
             "tanhf", "tanh", "powf", "pow", "sqrtf", "sqrt", "log1pf",
             "log1p", "expm1f", "expm1", "fmaf", "fma"}
check("undefined symbols are libc/libm", set(undefined) <= libc_libm,
      " ".join(undefined) or "none")

# Predictions.
x = rng.normal(size=(args.batch, args.features)).astype("<f4")
if args.classes:
    y = rng.integers(0, args.classes, size=args.batch).astype("<f4")
elif args.labels:
    y = (rng.uniform(size=args.batch) < 0.5).astype("<f4")
else:
    y = rng.normal(size=args.batch).astype("<f4")
x.tofile(os.path.join(w, "x.bin"))
y.tofile(os.path.join(w, "y.bin"))
run(exe, "predict", str(args.batch), os.path.join(w, "x.bin"),
    os.path.join(w, "out.bin"))
c_out = np.fromfile(os.path.join(w, "out.bin"), dtype="<f4")
xcsv = os.path.join(w, "x.csv")
with open(xcsv, "w") as f:
    f.write(",".join(f"f{i}" for i in range(args.features)) + "\n")
    for row in x:
        f.write(",".join(repr(float(v)) for v in row) + "\n")
jit_csv = os.path.join(w, "jit_out.csv")
run(args.dlc, "predict", args.model, "--load", ckpt, "--input", xcsv,
    "--output", jit_csv)
jit_out = np.loadtxt(jit_csv, delimiter=",", skiprows=1, ndmin=1).reshape(-1)
err = float(np.max(np.abs(c_out - jit_out) / np.maximum(1, np.abs(jit_out))))
check("object predictions = JIT predictions", err <= 1e-6,
      f"max relative difference {err:.2e} over {c_out.size} outputs")

# Ten train steps from the same weights, on one batch.
run(exe, "train", str(args.batch), "10", os.path.join(w, "x.bin"),
    os.path.join(w, "y.bin"), os.path.join(w, "params.bin"))
c_params = np.fromfile(os.path.join(w, "params.bin"), dtype="<f4")
data = os.path.join(w, "batch.csv")
with open(data, "w") as f:
    f.write(",".join(f"f{i}" for i in range(args.features)) + ",t\n")
    for row, t in zip(x, y):
        f.write(",".join(repr(float(v)) for v in row) + f",{float(t)!r}\n")
after = os.path.join(w, "after.safetensors")
run(args.dlc, "train", args.model, "--load", ckpt, "--train-csv", data,
    "--test-csv", data, "--epochs", "10", "--batch", str(args.batch), "--no-shuffle", "--save",
    after, stdout=subprocess.DEVNULL)
with open(after, "rb") as f:
    blob = f.read()
(n,) = struct.unpack("<Q", blob[:8])
hdr = json.loads(blob[8:8 + n])
jit_params = np.concatenate([
    np.frombuffer(blob[8 + n + hdr[name]["data_offsets"][0]:
                       8 + n + hdr[name]["data_offsets"][1]], dtype="<f4")
    for name, _ in shapes])
moved = float(np.max(np.abs(jit_params - np.concatenate(
    [np.ravel(weights[k]).astype("<f4") for k, _ in shapes]))))
err = float(np.max(np.abs(c_params - jit_params) /
                   np.maximum(1, np.abs(jit_params))))
check("10 object train steps = 10 JIT train steps",
      err <= 1e-6 and moved > 1e-4,
      f"max relative difference {err:.2e} (parameters moved {moved:.3g})")

run(exe, "errors")
print("PASS: error codes")
