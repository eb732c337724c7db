"""dlc cv against scikit-learn's cross_val_score.

Linear regression on 500 rows of scikit-learn's make_regression (noise 1),
5 shuffled folds each: every row is a test row once in both, so the mean
test MSE of dlc (its own fold assignment) and of LinearRegression must
agree within 5%.
"""
import json
import os
import subprocess

import numpy as np
from sklearn.datasets import make_regression
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score

import oracle

args = oracle.parse_args()
x, y = make_regression(n_samples=500, n_features=4, noise=1.0, random_state=3)
data = os.path.join(args.workdir, "data.csv")
oracle.write_csv(data, x, y)
table = np.loadtxt(data, delimiter=",", skiprows=1)
scores = cross_val_score(LinearRegression(), table[:, :-1], table[:, -1],
                         cv=KFold(5, shuffle=True, random_state=0),
                         scoring="neg_mean_squared_error")
sk = float(-scores.mean())
out = os.path.join(args.workdir, "cv.json")
cmd = [args.dlc, "cv", args.model, "--folds", "5", "--train-csv", data,
       "--epochs", "300", "--batch", "400", "--metrics-json", out]
print("$", " ".join(cmd), flush=True)
subprocess.run(cmd, check=True)
with open(out) as f:
    m = json.load(f)
mse = m["mean"]["mse"]
rel = abs(mse - sk) / sk
oracle.check("5-fold cross-validated MSE", rel < 0.05 and m["folds"] == 5,
             f"dlc {mse:.5g} ± {m['std']['mse']:.3g}, scikit-learn {sk:.5g} "
             f"({rel:.2%} apart)")
