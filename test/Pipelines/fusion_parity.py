"""Fused vs unfused: trains a model twice, with and without --no-fusion, from
the same seed, and checks that every per-epoch loss and the final metrics
agree within 1e-5 relative (the performance issue's bound for fused against
unfused code).

Usage: fusion_parity.py --dlc DLC --model FILE.dlg --workdir DIR [-- dlc args]
Prints "fusion parity: ok (N values)" or the first mismatch and exits 1.
"""
import argparse
import json
import math
import os
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("--dlc", required=True)
p.add_argument("--model", required=True)
p.add_argument("--workdir", required=True)
p.add_argument("extra", nargs="*")
a = p.parse_args()
os.makedirs(a.workdir, exist_ok=True)


def run(flags, name):
    path = os.path.join(a.workdir, name)
    subprocess.run([a.dlc, "train", a.model, "--epochs", "2", "--metrics-json",
                    path] + flags + a.extra, check=True, stdout=subprocess.DEVNULL)
    with open(path) as f:
        return json.load(f)


def numbers(value, prefix=""):
    """Every number in the metrics except the timings, by path."""
    if isinstance(value, dict):
        for k, v in value.items():
            if "seconds" not in k and "microseconds" not in k:
                yield from numbers(v, f"{prefix}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from numbers(v, f"{prefix}[{i}]")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield prefix, float(value)


fused = dict(numbers(run([], "fused.json")))
unfused = dict(numbers(run(["--no-fusion"], "unfused.json")))
if fused.keys() != unfused.keys():
    sys.exit(f"fusion parity: different metrics {sorted(fused)} vs {sorted(unfused)}")
if not any(k.startswith(".losses") for k in fused):
    sys.exit("fusion parity: no losses in the metrics")
for key, f in fused.items():
    u = unfused[key]
    if not math.isclose(f, u, rel_tol=1e-5, abs_tol=1e-6):
        sys.exit(f"fusion parity: {key}: fused {f!r}, unfused {u!r}")
print(f"fusion parity: ok ({len(fused)} values)")
