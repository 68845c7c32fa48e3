#!/usr/bin/env bash
# Finding 2 (the paper's metamer figure): metameric samples x = F^-1(z_s(a), z_n(b)) of the CE
# and iCE models of finding 1 (trained here if finding 1 has not run): the image looks like b and
# the model says class(a); the nuisance probe's class of each metamer says how much of b's label
# z_n carries into it. Also the metameric attack's success rate and the invariant check.
# Writes $OUT/2-metamers/report.html.
source "$(dirname "$0")/lib.sh"
for obj in ce ice; do
  train_once "$obj" --arch fi-revnet-s --data "$DATA" --objective "$obj"
  irevnet metamers --run "$OUT/runs/$obj" --probe-class
  irevnet attack --run "$OUT/runs/$obj" --attack metamer
done
irevnet report "$OUT/runs/ce" "$OUT/runs/ice" --out "$OUT/2-metamers"
finish "$OUT/2-metamers"
