"""The GAN example covers the ring's modes.

Trains examples/gan_ring.dlg (8 Gaussians of standard deviation 0.05 on a
circle of radius 2), draws 2,000 samples with `dlc predict --samples 2000
--seed 1`, and counts, with numpy, the modes that get at least 2% of the
samples within 3 standard deviations of their centre: at least 6 of 8.
"""
import os
import subprocess

import numpy as np

import oracle

args = oracle.parse_args()
ckpt = os.path.join(args.workdir, "gan.safetensors")
samples = os.path.join(args.workdir, "samples.csv")
for cmd in ([args.dlc, "train", args.model, "--save", ckpt],
            [args.dlc, "predict", args.model, "--load", ckpt, "--samples",
             "2000", "--seed", "1", "--output", samples]):
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
s = np.loadtxt(samples, delimiter=",", skiprows=1)
assert s.shape == (2000, 2), s.shape
angles = 2 * np.pi * np.arange(8) / 8
centres = 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
dist = np.linalg.norm(s[:, None, :] - centres[None], axis=2)
share = (dist < 3 * 0.05).mean(axis=0)
covered = int((share >= 0.02).sum())
oracle.check("GAN covers the ring's modes", covered >= 6,
             f"{covered} of 8 modes (shares {np.round(share, 3).tolist()})")
