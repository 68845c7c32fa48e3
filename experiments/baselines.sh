#!/usr/bin/env bash
# Invertible vs ordinary network on fashion-mnist-mini (issue 10): train a fi-revnet-s and a
# resnet-s with the same pipeline, probe every layer, run the feature-matching invariance attack
# at the last probed layer of both, and compare them in one report.
# Usage: experiments/baselines.sh [OUT_DIR]   (default runs/baselines)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Else --help was taken for OUT_DIR (mkdir -p printed its own help), and a second argument was ignored.
if [ $# -gt 1 ] || [[ "${1:-}" == -* ]]; then
  echo "usage: $0 [OUT_DIR] (not: $*)" >&2
  exit 2
fi
out="${1:-$root/runs/baselines}"
source "$root/experiments/stop.sh"
# Exit 1 is a failed check with its results written (the report shows it): go on, as lib.sh does.
irevnet() {
  local code=0
  nice -n 10 "$root/bin/irevnet" "$@" --threads 1 --no-progress &
  wait $! || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then exit "$code"; fi
}
# Else mkdir's own words and exit 1, a failed check's code.
if ! made="$(mkdir -p "$out" 2>&1)"; then
  echo "$out: cannot make that directory (${made##*: })" >&2
  exit 2
fi
for arch in fi-revnet-s resnet-s; do
  irevnet train --arch "$arch" --data fashion-mnist-mini --epochs 2 --out "$out/$arch" --fresh
  irevnet eval --run "$out/$arch"
  irevnet probe --run "$out/$arch" --layers --train-count 2000 --test-count 500
  irevnet attack --run "$out/$arch" --attack feature-match --layer last --count 32 --steps 20 --eps 0.05,0.1,0.2
done
irevnet report "$out/fi-revnet-s" "$out/resnet-s" --out "$out/compare"
