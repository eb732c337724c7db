"""Softmax regression and the linear SVM against scikit-learn.

Same split (stratified 80/20, seed 0), standardized with the training rows'
statistics, written to CSV files that both read. dlc's test accuracy must
reach within 2 points of (at least 2 points below at worst) LogisticRegression (iris) and of LinearSVC with the hinge
loss (breast_cancer), both with C = 1 as in the examples' penalties.
"""
import os

import numpy as np
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

import oracle

args = oracle.parse_args()
examples = os.path.dirname(args.model)


def compare(name, data, target, model, reference, extra):
    x, y = data
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=0,
                                          stratify=y)
    scaler = StandardScaler().fit(xtr)
    xtr, xte = scaler.transform(xtr), scaler.transform(xte)
    work = os.path.join(args.workdir, name)
    os.makedirs(work, exist_ok=True)
    train_csv, test_csv = os.path.join(work, "train.csv"), os.path.join(work, "test.csv")
    oracle.write_csv(train_csv, xtr, ytr, target=target)
    oracle.write_csv(test_csv, xte, yte, target=target)
    tr = np.loadtxt(train_csv, delimiter=",", skiprows=1)
    te = np.loadtxt(test_csv, delimiter=",", skiprows=1)
    sk = float(reference.fit(tr[:, :-1], tr[:, -1]).score(te[:, :-1], te[:, -1]))
    m = oracle.train(args.dlc, os.path.join(examples, model), work, train_csv,
                     test_csv, *extra)
    acc = m["test"]["accuracy"]
    # "Reaches within 2 points": not more than 2 points below scikit-learn
    # (with 30 iris test rows one sample is 3.3 points, so being better by
    # one sample must not fail).
    oracle.check(f"{name} test accuracy", acc >= sk - 0.02,
                 f"dlc {acc:.4f}, scikit-learn {sk:.4f}")


iris = load_iris()
compare("softmax regression (iris)", (iris.data, iris.target), "species",
        "softmax_regression.dlg", LogisticRegression(C=1.0, max_iter=5000), [])
bc = load_breast_cancer()
compare("linear SVM (breast_cancer)", (bc.data, (bc.target == 0).astype(float)),
        "malignant", "svm.dlg",
        LinearSVC(C=1.0, loss="hinge", max_iter=100000, random_state=0), [])
