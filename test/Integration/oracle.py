"""Shared helpers of the integration tests: run dlc, write CSV files."""
import argparse
import csv
import json
import os
import subprocess
import sys


def write_csv(path, x, y, names=None, target="y"):
    names = names or [f"x{i}" for i in range(x.shape[1])]
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(list(names) + [target])
        for row, t in zip(x, y):
            w.writerow([repr(float(v)) for v in row] + [repr(float(t))])


def train(dlc, model, workdir, train_csv, test_csv, *extra):
    metrics = os.path.join(workdir, "metrics.json")
    cmd = [dlc, "train", model, "--train-csv", train_csv, "--test-csv",
           test_csv, "--metrics-json", metrics, *extra]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    with open(metrics) as f:
        return json.load(f)


def check(name, ok, detail):
    print(f"{'PASS' if ok else 'FAIL'}: {name}: {detail}", flush=True)
    if not ok:
        sys.exit(1)


def parse_args():
    """--dlc, --model and --workdir (created) of every integration test."""
    p = argparse.ArgumentParser()
    p.add_argument("--dlc", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--workdir", required=True)
    args = p.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    return args
