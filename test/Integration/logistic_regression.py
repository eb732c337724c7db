"""Logistic regression against scikit-learn's LogisticRegression.

Data: scikit-learn's breast_cancer, 1 = malignant, an 80/20 stratified
split, standardized with the training statistics. dlc's test accuracy must
be within 2 points of scikit-learn's on the same CSVs.
"""
import os

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import oracle

args = oracle.parse_args()

data = load_breast_cancer()
x, y = data.data, (data.target == 0).astype(float)
xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=0,
                                      stratify=y)
scaler = StandardScaler().fit(xtr)
xtr, xte = scaler.transform(xtr), scaler.transform(xte)
names = [n.replace(" ", "_") for n in data.feature_names]
train_csv = os.path.join(args.workdir, "train.csv")
test_csv = os.path.join(args.workdir, "test.csv")
oracle.write_csv(train_csv, xtr, ytr, names, "malignant")
oracle.write_csv(test_csv, xte, yte, names, "malignant")

tr = np.loadtxt(train_csv, delimiter=",", skiprows=1)
te = np.loadtxt(test_csv, delimiter=",", skiprows=1)
clf = LogisticRegression(max_iter=1000).fit(tr[:, :-1], tr[:, -1])
sk_acc = float(clf.score(te[:, :-1], te[:, -1]))

m = oracle.train(args.dlc, args.model, args.workdir, train_csv, test_csv,
                 "--target", "malignant")
acc = m["test"]["accuracy"]
oracle.check("logistic regression test accuracy", acc >= sk_acc - 0.02,
             f"dlc {acc:.4f}, scikit-learn {sk_acc:.4f}")
