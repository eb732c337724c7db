"""dlc against PyTorch: same initial weights, same batches, 10 optimizer steps.

For one model: random initial weights are written to a safetensors file (by
this script's own writer); dlc trains from them with `dlc train --load
--no-shuffle`, one full batch per epoch (so one step per epoch, and the
epoch loss is the step's loss); PyTorch runs the same model, written here in
torch, with the same optimizer and schedule. The per-step losses and the
parameters after 10 steps must match to a relative error of 1e-4 (f32;
relative to the largest magnitude of each tensor).
"""
import argparse
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
p = argparse.ArgumentParser()
p.add_argument("--dlc", required=True)
p.add_argument("--model", required=True)
p.add_argument("--case", required=True)
p.add_argument("--workdir", required=True)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--rows", type=int, default=24,
               help="samples, all in one batch (odd sizes test the kernels' tails)")
args = p.parse_args()
w = args.workdir
os.makedirs(w, exist_ok=True)


# --- The models, in torch, keyed by case. --------------------------------
# Each: (features, classes or None for 0/1 or real targets, target kind,
#        forward(params, x) -> loss given y, optimizer factory, scheduler).
def softmax_regression(P, x, y):
    logits = x @ P["w"] + P["b"]
    return F.cross_entropy(logits, y.long()) + 0.0042 * (P["w"] ** 2).sum()


def svm(P, x, y):
    score = x @ P["w"] + P["b"]
    return torch.relu(1 - (2 * y - 1) * score).mean() + 0.0011 * (P["w"] ** 2).sum()


def mlp(P, x, y):
    h = torch.relu(x @ P["w1"] + P["b1"])  # dropout at rate 0 in the .dlg
    return F.cross_entropy(h @ P["w2"] + P["b2"], y.long()) \
        + 0.0001 * ((P["w1"] ** 2).sum() + (P["w2"] ** 2).sum())


def linreg(P, x, y):
    return ((x @ P["w"] + P["b"] - y) ** 2).mean()


def activations(P, x, y):
    h = F.gelu(x @ P["w1"] + P["b1"])
    h = F.leaky_relu(h, 0.1) + F.elu(h) * 0.5
    logits = h @ P["w2"]
    return -(F.log_softmax(logits, dim=1) * F.one_hot(y.long(), 3)).sum(1).mean() \
        + 0.01 * torch.clamp(logits, -1.0, 1.0).abs().mean()


def regression_mlp(P, x, y):
    h = torch.tanh(x @ P["w1"] + P["b1"])
    return F.mse_loss(h @ P["w2"] + P["b2"], y)


def logistic(P, x, y):
    z = x @ P["w"] + P["b"]
    return F.binary_cross_entropy_with_logits(z, y) + 0.01 * P["w"].abs().sum()


def cnn(P, x, y):
    x = x.reshape(-1, 1, 8, 8)
    h1 = F.max_pool2d(torch.relu(F.conv2d(x, P["k1"], padding=1) + P["c1"]), 2)
    h2 = F.max_pool2d(torch.relu(F.conv2d(h1, P["k2"], padding=1) + P["c2"]), 2)
    return F.cross_entropy(h2.flatten(1) @ P["w"] + P["b"], y.long())


def narrow_conv(P, x, y):
    x = x.reshape(-1, 3, 5, 7)
    h1 = torch.tanh(F.conv2d(x, P["k1"], padding=1) + P["c1"])
    h2 = torch.relu(F.conv2d(h1, P["k2"], padding=2))
    h3 = F.conv2d(h2, P["k3"])
    return F.cross_entropy(h3.flatten(1) @ P["w"] + P["b"], y.long())


def conv_variants(P, x, y):
    x = x.reshape(-1, 2, 7, 6)
    h = torch.tanh(F.conv2d(x, P["k"], stride=(2, 1), padding=1, dilation=(1, 2)))
    a = F.avg_pool2d(h, 3, stride=2, padding=1)
    m = F.max_pool2d(h, (2, 2), stride=1)
    return (a ** 2).mean() + m.mean()


def rnn(P, x, y):
    x = x.reshape(-1, 8, 8)
    h = torch.zeros(x.shape[0], P["u"].shape[0])
    for t in range(8):
        h = torch.tanh(x[:, t] @ P["w"] + h @ P["u"] + P["b"])
    return F.cross_entropy(h @ P["v"] + P["c"], y.long())


def gru(P, x, y):
    x = x.reshape(-1, 8, 8)
    h = torch.zeros(x.shape[0], P["ur"].shape[0])
    for t in range(8):
        xt = x[:, t]
        r = torch.sigmoid(xt @ P["wr"] + h @ P["ur"] + P["br"])
        z = torch.sigmoid(xt @ P["wz"] + h @ P["uz"] + P["bz"])
        n = torch.tanh(xt @ P["wn"] + P["bn"] + r * (h @ P["un"] + P["bhn"]))
        h = (1 - z) * n + z * h
    return F.cross_entropy(h @ P["v"] + P["c"], y.long())


def lstm(P, x, y):
    x = x.reshape(-1, 8, 8)
    h = torch.zeros(x.shape[0], P["ui"].shape[0])
    c = torch.zeros_like(h)
    for t in range(8):
        xt = x[:, t]
        i = torch.sigmoid(xt @ P["wi"] + h @ P["ui"] + P["bi"])
        f = torch.sigmoid(xt @ P["wf"] + h @ P["uf"] + P["bf"])
        g = torch.tanh(xt @ P["wg"] + h @ P["ug"] + P["bg"])
        o = torch.sigmoid(xt @ P["wo"] + h @ P["uo"] + P["bo"])
        c = f * c + i * g
        h = o * torch.tanh(c)
    return F.cross_entropy(h @ P["v"] + P["c"], y.long())


def gan_mlp(h, w1, b1, w2, b2):
    return F.leaky_relu(h @ w1 + b1, 0.2) @ w2 + b2


def gan(P, x, y):
    """Two objectives: D (on stop_gradient of G's samples), then G against
    the updated D. Returns both losses; `alternate` below runs them."""
    z = x * 0.5 + 1
    fake = gan_mlp(z, P["g1"], P["gb1"], P["g2"], P["gb2"])
    d = lambda h: gan_mlp(h, P["d1"], P["db1"], P["d2"], P["db2"]).reshape(-1)
    ones = torch.ones(x.shape[0])
    d_loss = F.binary_cross_entropy_with_logits(d(x), ones) + \
        F.binary_cross_entropy_with_logits(d(fake.detach()), torch.zeros_like(ones))
    g_loss = F.binary_cross_entropy_with_logits(d(fake), ones)
    return d_loss, g_loss


def sgd(**kw):
    return lambda ps: torch.optim.SGD(ps, **kw)


def opt(cls, **kw):
    return lambda ps: cls(ps, **kw)


CASES = {
    # name: (forward, features, target, optimizer, scheduler)
    "softmax_regression": (softmax_regression, 4, 3, sgd(lr=0.1, momentum=0.9), None),
    "svm": (svm, 30, 2, sgd(lr=0.01, momentum=0.9), None),
    "mlp": (mlp, 64, 10, opt(torch.optim.Adam, lr=0.001), None),
    "mlp_adamw": (lambda P, x, y: F.cross_entropy(
        torch.relu(x @ P["w1"] + P["b1"]) @ P["w2"] + P["b2"], y.long()),
        64, 10, opt(torch.optim.AdamW, lr=0.001, weight_decay=0.01), None),
    "linreg": (linreg, 4, None, sgd(lr=0.1), None),
    # Widths that no register tile divides: 37 inputs, 150 hidden (two
    # 64-wide tiles and 22 columns: one vector and a masked one), 5 classes.
    "odd_mlp": (lambda P, x, y: F.cross_entropy(
        torch.relu(x @ P["w1"] + P["b1"]) @ P["w2"] + P["b2"], y.long()),
        37, 5, sgd(lr=0.05, momentum=0.9), None),
    # dy @ w^T with a reduction of 270 (>= 256): dot tiles, a masked tail
    # of 14 lanes; 300 columns in tiles of 4.
    "deep_mlp": (lambda P, x, y: F.cross_entropy(
        torch.relu(torch.relu(x @ P["w1"] + P["b1"]) @ P["w2"] + P["b2"]) @ P["w3"]
        + P["b3"], y.long()),
        20, 5, sgd(lr=0.02, momentum=0.9), None),
    "activations": (activations, 5, 3, opt(torch.optim.Adam, lr=0.01),
                    lambda o: torch.optim.lr_scheduler.StepLR(o, 3, 0.5)),
    "regression_mlp": (regression_mlp, 3, None,
                       opt(torch.optim.RMSprop, lr=0.01, alpha=0.99, eps=1e-8,
                           weight_decay=0.01),
                       lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
                           o, T_max=args.steps, eta_min=0.001)),
    "cnn": (cnn, 64, 10, opt(torch.optim.Adam, lr=0.002), None),
    "rnn": (rnn, 64, 10, opt(torch.optim.Adam, lr=0.003), None),
    "gru": (gru, 64, 10, opt(torch.optim.Adam, lr=0.005), None),
    "lstm": (lstm, 64, 10, opt(torch.optim.Adam, lr=0.005), None),
    "conv_variants": (conv_variants, 84, None, sgd(lr=0.5, momentum=0.5), None),
    # Images narrower than 16 columns, convolved over their padded width:
    # odd heights and widths (5 x 7), kernels of 3 and 5, padding 1, 2, 0.
    "narrow_conv": (narrow_conv, 105, 3, sgd(lr=0.002, momentum=0.9), None),
    "gan": (gan, 2, None, None, None),
    "logistic": (logistic, 6, 2,
                 sgd(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05),
                 None),
}
forward, features, classes, make_optimizer, make_scheduler = CASES[args.case]


def run(*cmd):
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        out[name] = (b, np.frombuffer(blob[8 + n + b:8 + n + e],
                                      dtype="<f4").reshape(t["shape"]))
    return out


def write_safetensors(path, tensors):
    header, data = {}, b""
    for name, a in tensors.items():
        a = np.array(a, dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [len(data), len(data) + a.nbytes]}
        data += a.tobytes()
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)


def write_csv(path, x, y):
    with open(path, "w") as f:
        f.write(",".join(f"f{i}" for i in range(x.shape[1])) + ",target\n")
        for row, t in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",{float(t)!r}\n")


rng = np.random.default_rng(7)
rows = args.rows
x = rng.normal(size=(rows, features)).astype(np.float32)
if classes is None:
    y = rng.normal(size=rows).astype(np.float32)
else:
    y = rng.integers(0, classes, size=rows).astype(np.float32)
data = os.path.join(w, "data.csv")
write_csv(data, x, y)

# The parameters' names, shapes and order, from dlc's own checkpoint.
probe = os.path.join(w, "probe.safetensors")
run(args.dlc, "train", args.model, "--train-csv", data, "--test-csv", data,
    "--epochs", "1", "--save", probe)
names = [k for k, (off, a) in sorted(read_safetensors(probe).items(),
                                     key=lambda kv: kv[1][0]) if "." not in k]
shapes = {k: a.shape for k, (off, a) in read_safetensors(probe).items()}
init = {k: (0.3 * rng.normal(size=shapes[k])).astype(np.float32) for k in names}
start = os.path.join(w, "start.safetensors")
write_safetensors(start, init)

# dlc: one full batch per epoch.
after = os.path.join(w, "after.safetensors")
metrics = os.path.join(w, "metrics.json")
run(args.dlc, "train", args.model, "--load", start, "--train-csv", data,
    "--test-csv", data, "--epochs", str(args.steps), "--batch", str(rows),
    "--no-shuffle", "--metrics-json", metrics, "--save", after)
with open(metrics) as f:
    dlc_losses = np.array(json.load(f)["losses"])
dlc_params = {k: a for k, (off, a) in read_safetensors(after).items()}

# PyTorch.
P = {k: torch.tensor(init[k], requires_grad=True) for k in names}
xt, yt = torch.tensor(x), torch.tensor(y)
torch_losses = []
if args.case == "gan":
    # Alternating objectives, each with its own Adam: D, then G.
    opt_d = torch.optim.Adam([P[k] for k in names if k.startswith("d")],
                             lr=0.0002, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam([P[k] for k in names if k.startswith("g")],
                             lr=0.002, betas=(0.5, 0.999))
    for _ in range(args.steps):
        opt_d.zero_grad()
        d_loss, _ = forward(P, xt, yt)
        torch_losses.append(d_loss.item())
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        _, g_loss = forward(P, xt, yt)
        g_loss.backward()
        opt_g.step()
else:
    optimizer = make_optimizer(list(P.values()))
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    for _ in range(args.steps):
        optimizer.zero_grad()
        loss = forward(P, xt, yt)
        torch_losses.append(loss.item())
        loss.backward()
        optimizer.step()
        if scheduler:
            scheduler.step()

loss_err = float(np.max(np.abs(dlc_losses - torch_losses) /
                        np.maximum(np.abs(torch_losses), 1e-6)))
print(f"losses dlc  {np.array2string(dlc_losses, precision=6)}")
print(f"losses torch {np.array2string(np.array(torch_losses), precision=6)}")
param_err = 0.0
for k in names:
    t = P[k].detach().numpy()
    err = float(np.max(np.abs(dlc_params[k] - t)) / max(np.max(np.abs(t)), 1e-6))
    moved = float(np.max(np.abs(t - init[k])))
    print(f"param {k}: relative error {err:.2e} (moved {moved:.3g})")
    param_err = max(param_err, err)
ok = loss_err <= 1e-4 and param_err <= 1e-4
print(f"{'PASS' if ok else 'FAIL'}: {args.case}: losses {loss_err:.2e}, "
      f"parameters {param_err:.2e} after {args.steps} steps")
sys.exit(0 if ok else 1)
