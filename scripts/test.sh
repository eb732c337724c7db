#!/usr/bin/env bash
# Sets up dlc (scripts/setup.sh) and runs the whole test suite with lit.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
log=$(mktemp)
/usr/lib/llvm-22/bin/lit -sv build/test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -oE '^ *Passed *: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
failed=$(grep -oE '^ *Failed *: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
rm -f "$log"
echo "${passed:-0} passed, ${failed:-0} failed"
exit "$status"
