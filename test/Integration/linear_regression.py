"""The seed example against the closed-form least-squares solution.

Data: scikit-learn's make_regression (100 samples, 4 features, noise 0.1),
an 80/20 split. Oracle: numpy's lstsq with an intercept on the same CSVs.
dlc's test MSE must be within 2% of the oracle's.
"""
import os

import numpy as np
from sklearn.datasets import make_regression
from sklearn.model_selection import train_test_split

import oracle

args = oracle.parse_args()

x, y = make_regression(n_samples=100, n_features=4, noise=0.1, random_state=42)
xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=42)
train_csv = os.path.join(args.workdir, "train.csv")
test_csv = os.path.join(args.workdir, "test.csv")
oracle.write_csv(train_csv, xtr, ytr)
oracle.write_csv(test_csv, xte, yte)

# The oracle reads the same files dlc reads.
tr = np.loadtxt(train_csv, delimiter=",", skiprows=1)
te = np.loadtxt(test_csv, delimiter=",", skiprows=1)
design = np.hstack([tr[:, :-1], np.ones((len(tr), 1))])
coef, *_ = np.linalg.lstsq(design, tr[:, -1], rcond=None)
pred = np.hstack([te[:, :-1], np.ones((len(te), 1))]) @ coef
oracle_mse = float(np.mean((pred - te[:, -1]) ** 2))

m = oracle.train(args.dlc, args.model, args.workdir, train_csv, test_csv)
dlc_mse = m["test"]["mse"]
rel = abs(dlc_mse - oracle_mse) / oracle_mse
oracle.check("linear regression test MSE", rel < 0.02,
             f"dlc {dlc_mse:.6g}, lstsq {oracle_mse:.6g}, relative diff {rel:.3%}")
