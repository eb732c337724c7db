#!/usr/bin/env python3
"""Writes examples/data/breast_cancer.csv from scikit-learn's bundled copy.

The CSV bundled with scikit-learn has a non-standard first line; dlc reads
CSV files with a header row, so this script adds the feature names and a 0/1
`malignant` target (scikit-learn's target is 0 = malignant, 1 = benign).
Run with Debian's python3 (python3-sklearn).
"""
import csv
import os
import sys

from sklearn.datasets import load_breast_cancer


def main():
    out = os.path.join(os.path.dirname(__file__), "..", "examples", "data",
                       "breast_cancer.csv")
    data = load_breast_cancer()
    names = [n.replace(" ", "_") for n in data.feature_names]
    tmp = out + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names + ["malignant"])
        for row, target in zip(data.data, data.target):
            w.writerow([repr(float(v)) for v in row] + [int(target == 0)])
    os.replace(tmp, out)
    print(f"wrote {out}: {len(data.target)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
