#!/usr/bin/env bash
# Deployment benchmark: object size and the per-call time of predict for
# logistic regression at batch 1, against hand-written C in the same binary.
# Usage: bench/deploy/run.sh (after scripts/setup.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/build/bin/dlc" compile "$root/examples/logistic_regression.dlg" \
  --emit=obj -o "$work/logreg.o" --header "$work/logreg.h" --prefix logreg
cc -std=c99 -O2 -I "$work" -o "$work/bench" "$root/bench/deploy/predict_overhead.c" \
  "$work/logreg.o" -lm
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
size -A "$work/logreg.o" | awk '/^\.text|^\.rodata|^\.bss/ {printf "%s %d bytes\n", $1, $2}'
echo "object file: $(stat -c %s "$work/logreg.o") bytes"
"$work/bench"
