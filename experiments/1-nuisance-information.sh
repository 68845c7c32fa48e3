#!/usr/bin/env bash
# Finding 1 (the paper's Table 2 analogue): how much label information is left in the nuisance
# z_n of a CE and of an iCE fi-revnet-s. A fresh MLP probe is trained on the standardised z_n of
# the training split and tested on the test split; CE leaves the label readable from z_n,
# iCE is meant to remove it. Writes $OUT/1-nuisance/report.html.
source "$(dirname "$0")/lib.sh"
for obj in ce ice; do
  train_once "$obj" --arch fi-revnet-s --data "$DATA" --objective "$obj"
  irevnet probe --run "$OUT/runs/$obj" --nuisance
done
irevnet report "$OUT/runs/ce" "$OUT/runs/ice" --out "$OUT/1-nuisance"
finish "$OUT/1-nuisance"
