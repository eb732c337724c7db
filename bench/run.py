#!/usr/bin/env python3
"""dlc's benchmark suite: every workload with dlc and PyTorch (eager, CPU,
the same thread count) in the same run, matmul also with numpy/OpenBLAS.

Prints a table and writes bench/results.md: time per train step for each
system and their ratio; for matmul, GFLOP/s and the fraction of the FMA peak
measured by bench/fma_peak.c. dlc's step time is the compiled train step
alone, the fastest of the run's steps (dlc train --metrics-json,
best_step_microseconds); PyTorch's is one zero_grad + forward + backward +
optimizer step, the fastest of the timed steps (after two warm-up steps).
Both are the warm steady state; dlc's average over all steps, the cold
first one included, is step_microseconds.

Usage: bench/run.py [--quick] [--threads N]   (N > 1 writes bench/results-Nthreads.md)
Needs scripts/setup.sh, then Debian's python3-torch and libopenblas0-pthread
(without it numpy uses the reference BLAS; the script says which it found).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DLC = os.path.join(ROOT, "build", "bin", "dlc")
W = os.path.join(ROOT, "bench", "workloads")
LLVM_LIB = subprocess.run(["llvm-config-22", "--libdir"], check=True,
                          capture_output=True, text=True).stdout.strip()

p = argparse.ArgumentParser()
p.add_argument("--quick", action="store_true", help="fewer steps")
p.add_argument("--threads", type=int, default=1,
               help="threads for dlc train (--threads) and PyTorch alike (default 1)")
args = p.parse_args()
torch.set_num_threads(args.threads)  # same thread count on both sides
work = tempfile.mkdtemp(prefix="dlc-bench-")


def blas_name():
    link = "/etc/alternatives/libblas.so.3-x86_64-linux-gnu"
    target = os.path.realpath(link) if os.path.exists(link) else "unknown"
    return "OpenBLAS" if "openblas" in target else f"reference BLAS ({target})"


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def write_csv(path, x, y=None):
    with open(path, "w") as f:
        cols = [f"f{i}" for i in range(x.shape[1])] + (["t"] if y is not None else [])
        f.write(",".join(cols) + "\n")
        for i, row in enumerate(x):
            vals = [repr(float(v)) for v in row]
            if y is not None:
                vals.append(repr(float(y[i])))
            f.write(",".join(vals) + "\n")


def dlc_step(model, x, y, batch, steps):
    data = os.path.join(work, "data.csv")
    write_csv(data, x.reshape(len(x), -1), y)
    m = os.path.join(work, "m.json")
    subprocess.run([DLC, "train", model, "--train-csv", data, "--test-csv", data,
                    "--epochs", str(steps), "--batch", str(batch), "--no-shuffle",
                    "--threads", str(args.threads), "--metrics-json", m], check=True, stdout=subprocess.DEVNULL)
    with open(m) as f:
        r = json.load(f)
    return r["best_step_microseconds"], r["compile_seconds"]


def torch_step(loss_fn, params, opt, steps):
    best = 1e9
    for i in range(steps + 2):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn().backward()
        opt.step()
        t = time.perf_counter() - t0
        if i >= 2:
            best = min(best, t)
    return best * 1e6


def P(*shape, scale=0.1):
    return torch.tensor(np.random.default_rng(len(shape)).normal(scale=scale, size=shape),
                        dtype=torch.float32, requires_grad=True)


rng = np.random.default_rng(0)
quick = args.quick
rows = []

# 1-8: train steps.
def bench(name, model, batch, xshape, classes, torch_loss, make_opt, steps):
    x = rng.normal(size=(batch,) + xshape).astype(np.float32)
    y = None if classes == 0 else (rng.integers(0, classes, size=batch)
                                   if classes > 1 else rng.normal(size=batch))
    if classes == 1:
        y = (rng.uniform(size=batch) < 0.5).astype(np.float32)
    d_us, compile_s = dlc_step(os.path.join(W, model), x, y, batch, steps)
    xt = torch.tensor(x)
    yt = None if y is None else torch.tensor(y, dtype=torch.float32)
    params, loss = torch_loss(xt, yt)
    t_us = torch_step(loss, params, make_opt(params), steps)
    rows.append((name, d_us, t_us, compile_s))
    print(f"{name:<34} dlc {d_us:10.1f} us  torch {t_us:10.1f} us  "
          f"speed-up {t_us / d_us:6.2f}x  compile {compile_s:.2f} s", flush=True)


def linreg(x, y):
    w, b = P(4), P()
    return [w, b], lambda: F.mse_loss(x @ w + b, y)


def logreg(x, y):
    w, b = P(30), P()
    return [w, b], lambda: F.binary_cross_entropy_with_logits(x @ w + b, y)


def mlp(x, y):
    w1, b1, w2, b2 = P(64, 128), P(128), P(128, 10), P(10)
    return [w1, b1, w2, b2], lambda: F.cross_entropy(
        torch.relu(x @ w1 + b1) @ w2 + b2, y.long())


def cnn(x, y):
    k1, c1, k2, c2, w, b = P(16, 1, 3, 3), P(16, 1, 1), P(32, 16, 3, 3), P(32, 1, 1), P(512, 10), P(10)
    def loss():
        h1 = torch.relu(F.conv2d(x, k1, padding=1) + c1)
        h2 = F.max_pool2d(torch.relu(F.conv2d(h1, k2, padding=1) + c2), 2)
        return F.cross_entropy(h2.flatten(1) @ w + b, y.long())
    return [k1, c1, k2, c2, w, b], loss


def rnn(x, y):
    w, u, b, v, c = P(16, 128), P(128, 128), P(128), P(128, 10), P(10)
    def loss():
        h = torch.zeros(x.shape[0], 128)
        for t in range(32):
            h = torch.tanh(x[:, t] @ w + h @ u + b)
        return F.cross_entropy(h @ v + c, y.long())
    return [w, u, b, v, c], loss


def big_mlp(x, y):
    w1, b1, w2, b2, w3, b3 = P(784, 1024), P(1024), P(1024, 1024), P(1024), P(1024, 10), P(10)
    return [w1, b1, w2, b2, w3, b3], lambda: F.cross_entropy(
        torch.relu(torch.relu(x @ w1 + b1) @ w2 + b2) @ w3 + b3, y.long())


def big_cnn(x, y):
    k1, c1, k2, c2, w, b = P(32, 3, 3, 3), P(32, 1, 1), P(64, 32, 3, 3), P(64, 1, 1), P(16384, 10), P(10)
    def loss():
        h1 = torch.relu(F.conv2d(x, k1, padding=1) + c1)
        h2 = F.max_pool2d(torch.relu(F.conv2d(h1, k2, padding=1) + c2), 2)
        return F.cross_entropy(h2.flatten(1) @ w + b, y.long())
    return [k1, c1, k2, c2, w, b], loss


sgd = lambda lr=0.01, **kw: (lambda ps: torch.optim.SGD(ps, lr=lr, **kw))
adam = lambda **kw: (lambda ps: torch.optim.Adam(ps, lr=1e-3, **kw))
n = 5 if quick else 20
bench("1 linear regression 80x4, SGD", "w1_linreg.dlg", 80, (4,), -1, linreg, sgd(), n * 10)
bench("2 logistic regression 30, b64", "w2_logreg.dlg", 64, (30,), 1, logreg, sgd(), n * 10)
# Steps of microseconds to a few milliseconds: the fastest of 200 on each
# side (of 20, a busy core moved either side's fastest by 5-10%).
bench("3 MLP 64-128-10 b64, Adam", "w3_mlp.dlg", 64, (64,), 10, mlp, adam(), n * 10)
bench("4 CNN 1x8x8 b64, SGD momentum", "w4_cnn.dlg", 64, (1, 8, 8), 10, cnn, sgd(momentum=0.9), n * 10)
bench("5 Elman RNN T32 H128 b32, Adam", "w5_rnn.dlg", 32, (32, 16), 10, rnn, adam(), n * 10)


# 6: the GAN step (both updates).
def gan_bench():
    batch = 128
    x = rng.normal(size=(batch, 2)).astype(np.float32)
    steps = n * 10
    d_us, compile_s = dlc_step(os.path.join(W, "w6_gan.dlg"), x, None, batch, steps)
    g = [P(8, 64), P(64), P(64, 64), P(64), P(64, 2), P(2)]
    d = [P(2, 64), P(64), P(64, 64), P(64), P(64, 1), P(1)]
    mlp3 = lambda h, p: torch.relu(torch.relu(h @ p[0] + p[1]) @ p[2] + p[3]) @ p[4] + p[5]
    xt = torch.tensor(x)
    opt_d = torch.optim.Adam(d, lr=1e-3, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(g, lr=1e-3, betas=(0.5, 0.999))
    ones, zeros = torch.ones(batch), torch.zeros(batch)
    best = 1e9
    for i in range(steps + 2):
        t0 = time.perf_counter()
        z = torch.randn(batch, 8)
        fake = mlp3(z, g)
        opt_d.zero_grad()
        (F.binary_cross_entropy_with_logits(mlp3(xt, d).reshape(-1), ones) +
         F.binary_cross_entropy_with_logits(mlp3(fake.detach(), d).reshape(-1), zeros)).backward()
        opt_d.step()
        opt_g.zero_grad()
        F.binary_cross_entropy_with_logits(mlp3(fake, d).reshape(-1), ones).backward()
        opt_g.step()
        if i >= 2:
            best = min(best, time.perf_counter() - t0)
    t_us = best * 1e6
    rows.append(("6 GAN step (D then G), b128, Adam", d_us, t_us, compile_s))
    print(f"{rows[-1][0]:<34} dlc {d_us:10.1f} us  torch {t_us:10.1f} us  "
          f"speed-up {t_us / d_us:6.2f}x  compile {compile_s:.2f} s", flush=True)


gan_bench()
# The fastest of more steps is steadier on a shared machine (a step of the
# large workloads is 10-100 ms).
bench("7 MLP 784-1024-1024-10 b256, SGD", "w7_big_mlp.dlg", 256, (784,), 10, big_mlp, sgd(), 3 if quick else 20)
bench("8 CNN 3x32x32 b64, SGD momentum", "w8_big_cnn.dlg", 64, (3, 32, 32), 10, big_cnn, sgd(momentum=0.9), 2 if quick else 16)

# 9: matmul alone, through a deployed object (the JIT's code), vs numpy.
peak = dict(tuple(map(float, l.split())) for l in subprocess.run(
    f"cc -O2 -march=native -pthread -o {work}/fma {ROOT}/bench/fma_peak.c && {work}/fma",
    shell=True, check=True, capture_output=True, text=True).stdout.split("\n") if l)
env = {k: v for k, v in os.environ.items()
       if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
env["OPENBLAS_NUM_THREADS"] = "1"
mm = []
template = open(os.path.join(W, "w9_matmul.dlg")).read()
for size in ([256, 512] if quick else [256, 512, 1024, 2048]):
    model = os.path.join(work, f"mm{size}.dlg")
    with open(model, "w") as f:
        f.write(template.replace("256", str(size)))
    def dlc_gflops(threads):
        # An object compiled with --threads N > 1 runs its outer loops on
        # OpenMP threads and needs libomp (docs/deploy.md).
        subprocess.run([DLC, "compile", model, "--emit=obj", "-o", f"{work}/model.o",
                        "--header", f"{work}/model.h", "--prefix", "model",
                        "--entry", "predict", "--max-batch", "1",
                        "--threads", str(threads)], check=True)
        omp = ["-L", LLVM_LIB, f"-Wl,-rpath,{LLVM_LIB}", "-lomp"] if threads > 1 else []
        subprocess.run(["cc", "-O2", "-I", work, "-o", f"{work}/mm",
                        f"{ROOT}/bench/matmul_bench.c", f"{work}/model.o", "-lm"] + omp,
                       check=True)
        return float(subprocess.run([f"{work}/mm", str(size)], check=True,
                                    capture_output=True, text=True,
                                    env=dict(os.environ, OMP_NUM_THREADS=str(threads))).stdout)
    dlc_gf = dlc_gflops(1)
    dlc_n = dlc_gflops(args.threads) if args.threads > 1 else None
    np_gf = float(subprocess.run(
        [sys.executable, "-c",
         "import numpy as np, time; n=%d; a=np.random.rand(n,n).astype(np.float32); "
         "b=np.random.rand(n,n).astype(np.float32); a@b; "
         "t=min((lambda t0: (a@b, time.perf_counter()-t0)[1])(time.perf_counter()) for _ in range(5)); "
         "print(2*n**3/t/1e9)" % size], env=env, check=True, capture_output=True,
        text=True).stdout)
    mm.append((size, dlc_gf, np_gf, dlc_n))
    scaling = (f"  dlc on {args.threads} threads {dlc_n:8.2f} GFLOP/s "
               f"({dlc_n / dlc_gf:.2f}x)" if dlc_n else "")
    print(f"9 matmul {size:>4}: dlc {dlc_gf:8.2f} GFLOP/s ({dlc_gf / peak[1]:.1%} of peak)  "
          f"numpy/OpenBLAS {np_gf:8.2f} GFLOP/s  ratio {dlc_gf / np_gf:.3f}{scaling}",
          flush=True)

out = os.path.join(ROOT, "bench", "results.md" if args.threads == 1
                   else f"results-{args.threads}threads.md")
with open(out + ".tmp", "w") as f:
    f.write("# Benchmark results\n\n")
    f.write(f"Measured by `bench/run.py` on {time.strftime('%Y-%m-%d')}, CPU: "
            f"{cpu_model()}, train steps on {args.threads} thread(s) "
            f"(`--threads {args.threads}`, both sides), matmul against OpenBLAS on 1, PyTorch "
            f"{torch.__version__} eager, numpy {np.__version__} with "
            f"{blas_name()}. FMA peak "
            f"(bench/fma_peak.c): {peak[1]:.0f} GFLOP/s on 1 thread, "
            f"{peak[2]:.0f} on 2. Step times are the fastest step of each "
            f"run on both sides (dlc: `best_step_microseconds` of `dlc train`; "
            f"PyTorch: after two warm-up steps).\n\n")
    f.write("| workload | dlc (µs/step) | PyTorch (µs/step) | dlc speed-up | dlc compile (s) |\n")
    f.write("|---|---|---|---|---|\n")
    for name, d, t, c in rows:
        f.write(f"| {name} | {d:.1f} | {t:.1f} | {t / d:.2f}x | {c:.2f} |\n")
    f.write("\n| matmul (f32, square) | dlc GFLOP/s (1 thread) | % of FMA peak | "
            "numpy/OpenBLAS GFLOP/s (1 thread) | dlc / OpenBLAS |"
            + (f" dlc GFLOP/s ({args.threads} threads) | scaling |" if args.threads > 1 else "")
            + "\n")
    f.write("|---|---|---|---|---|" + ("---|---|" if args.threads > 1 else "") + "\n")
    for size, d, b, dn in mm:
        f.write(f"| {size} | {d:.2f} | {d / peak[1]:.1%} | {b:.2f} | {d / b:.3f} |"
                + (f" {dn:.2f} | {dn / d:.2f}x |" if dn else "") + "\n")
os.replace(out + ".tmp", out)
print(f"wrote {out}")
