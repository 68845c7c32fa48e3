#!/usr/bin/env bash
# Invertible vs ordinary network on fashion-mnist-mini (issue 10): train a fi-revnet-s and a
# resnet-s with the same pipeline, probe every layer, run the feature-matching invariance attack
# at the last probed layer of both, and compare them in one report.
# Usage: experiments/baselines.sh [OUT_DIR]   (default runs/baselines)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/runs/baselines}"
irevnet() { nice -n 10 "$root/bin/irevnet" "$@" --threads 1 --no-progress; }
mkdir -p "$out"
for arch in fi-revnet-s resnet-s; do
  irevnet train --arch "$arch" --data fashion-mnist-mini --epochs 2 --out "$out/$arch"
  irevnet eval --run "$out/$arch"
  irevnet probe --run "$out/$arch" --layers --train-count 2000 --test-count 500
  irevnet attack --run "$out/$arch" --attack feature-match --layer last --count 32 --steps 20 --eps 0.05,0.1,0.2
done
# report takes no --threads (it reads files only).
"$root/bin/irevnet" report "$out/fi-revnet-s" "$out/resnet-s" --out "$out/compare"
