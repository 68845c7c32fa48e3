#!/usr/bin/env bash
# Finding 3 (shiftMNIST analogue): a label-predictive shortcut is in every training image and
# broken at test time. CE and iCE fi-revnet-s models are trained on each shortcut kind and
# evaluated on the consistent, randomised (another label's shortcut) and removed test sets
# (docs/shortcuts.md). A model that reads the object keeps its accuracy on "randomised"; one that
# reads the shortcut falls below chance there. Writes $OUT/3-shortcuts/report.html.
source "$(dirname "$0")/lib.sh"
runs=()
for kind in binary-code texture; do
  data="$OUT/data/shortcut-$kind"
  # FRESH=1 remakes it too: it may be of another DATA, which train_once's check cannot see in its path.
  # Held by its parent, which data shortcut never replaces.
  hold "$OUT/data" making
  if [ "$FRESH" = 1 ] || [ ! -f "$data/shortcut.json" ]; then
    irevnet data shortcut --base "$DATA" --kind "$kind" --out "$data" --seed 0 --force
  fi
  release
  for obj in ce ice; do
    run="shortcut-$kind-$obj"
    train_once "$run" --arch fi-revnet-s --data "$data" --objective "$obj"
    for v in consistent randomised removed; do
      irevnet eval --run "$OUT/runs/$run" --data "$data/$v" --as "$v"
    done
    runs+=("$OUT/runs/$run")
  done
done
irevnet report "${runs[@]}" --out "$OUT/3-shortcuts"
finish "$OUT/3-shortcuts"
