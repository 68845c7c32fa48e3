#!/usr/bin/env bash
# Issue 9 (density part): fi-revnet-s as a density model. Trains it by maximum likelihood
# (train --objective mle: log N(z; 0, I) + log|det J| on dequantised pixels, zero padding
# included), measures its test bits/dim (eval), draws samples at temperatures 0.7 and 1
# (sample) and writes a report. Settings as in lib.sh, with other defaults:
#   DATA=fashion-mnist-mini  EPOCHS=3  OUT=runs/density
#   MAX_STEPS=N  stop training after N steps (a partial epoch, e.g. on the full set within
#                a time budget); eval and sample then use checkpoints/latest. It is recorded in
#                RUN/train-args: a later run without MAX_STEPS stops at it (FRESH=1 retrains)
# The README's numbers come from these commands, as run by `nice -n 10 experiments/density.sh`
# (mini set, 3 epochs), `EPOCHS=20 ...` and `DATA=fashion-mnist EPOCHS=1 MAX_STEPS=400 ...` (they were
# typed one at a time, with a copy of the jar, into runs/mle-mini, runs/mle-mini-20 and runs/mle-full).
DATA="${DATA:-fashion-mnist-mini}"
EPOCHS="${EPOCHS:-3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$root/runs/density}"
source "$(dirname "$0")/lib.sh"
run="$OUT/runs/mle-$(basename "$DATA")"
checkpoint=()
if [ -n "${MAX_STEPS:-}" ]; then
  require_count MAX_STEPS steps # before start_run drops a finished run's eval-test.json
  checkpoint=(--checkpoint latest)
  # Recorded with --max-steps: else a later run without MAX_STEPS reused this partial model as its own.
  start_run "$run" --arch fi-revnet-s --data "$DATA" --objective mle --max-steps "$MAX_STEPS"
  irevnet train --out "$run" --fresh --arch fi-revnet-s --data "$DATA" --objective mle --epochs "$EPOCHS" \
    --max-steps "$MAX_STEPS"
  irevnet eval --run "$run" "${checkpoint[@]}"
else
  train_once "mle-$(basename "$DATA")" --arch fi-revnet-s --data "$DATA" --objective mle
fi
for t in 0.7 1; do
  irevnet sample --run "$run" --temperature "$t" --count 64 --seed 0 ${checkpoint[@]+"${checkpoint[@]}"}
done
irevnet report "$run"
finish "$run"
