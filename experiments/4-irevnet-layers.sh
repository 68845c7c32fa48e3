#!/usr/bin/env bash
# Finding 4 (i-RevNet paper, section 5): progressive separation and contraction. For the
# bijective irevnet-s and the injective irevnet-s-inj, per-layer linear and 1-NN probe accuracy
# rises with depth and the PCA spectrum of the (spatially averaged, standardised) features
# contracts; both models stay exactly invertible (reconstruction error). Writes
# $OUT/4-irevnet-layers/report.html.
source "$(dirname "$0")/lib.sh"
for arch in irevnet-s irevnet-s-inj; do
  train_once "$arch" --arch "$arch" --data "$DATA"
  irevnet probe --run "$OUT/runs/$arch" --layers
  irevnet invert --run "$OUT/runs/$arch"
done
irevnet report "$OUT/runs/irevnet-s" "$OUT/runs/irevnet-s-inj" --out "$OUT/4-irevnet-layers"
finish "$OUT/4-irevnet-layers"
