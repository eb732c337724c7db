#!/usr/bin/env python3
"""Writes the example datasets in examples/data/ from scikit-learn's bundled
copies (Debian's python3-sklearn): breast_cancer, iris, wine, digits and
diabetes, as CSV files with a header row and the target in the last column.

scikit-learn's own CSVs have non-standard first lines (and digits/diabetes
are gzipped), so dlc gets converted copies. breast_cancer's target is 1 for
malignant (scikit-learn uses 0); the others keep scikit-learn's targets.
"""
import csv
import os
import sys

from sklearn import datasets

OUT = os.path.join(os.path.dirname(__file__), "..", "examples", "data")


def write(name, x, y, features, target, integer_target):
    path = os.path.join(OUT, name + ".csv")
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([n.replace(" ", "_") for n in features] + [target])
        for row, t in zip(x, y):
            value = str(int(t)) if integer_target else repr(float(t))
            w.writerow([repr(float(v)) for v in row] + [value])
    os.replace(tmp, path)
    print(f"wrote {path}: {len(y)} rows", file=sys.stderr)


def main():
    os.makedirs(OUT, exist_ok=True)
    d = datasets.load_breast_cancer()
    write("breast_cancer", d.data, d.target == 0, d.feature_names,
          "malignant", True)
    d = datasets.load_iris()
    write("iris", d.data, d.target, d.feature_names, "species", True)
    d = datasets.load_wine()
    write("wine", d.data, d.target, d.feature_names, "cultivar", True)
    d = datasets.load_digits()
    write("digits", d.data, d.target, [f"p{i}" for i in range(64)], "digit",
          True)
    d = datasets.load_diabetes(scaled=False)
    write("diabetes", d.data, d.target, d.feature_names, "progression", False)


if __name__ == "__main__":
    main()
