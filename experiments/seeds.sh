#!/usr/bin/env bash
# How far a retraining with another seed moves the default experiment's headline (README, "The two
# commands"). For each training seed given (arguments; default 0 1 2 3 4) a CE and an iCE
# fi-revnet-s are trained with the quickstart's recipe and that --seed, evaluated and probed (probe
# --nuisance, whose own seed stays 0 for all: only the trainings' draws change), then `irevnet
# seeds` prints each headline number at every seed with its mean, sample sd, range and Student's
# 95% interval of the mean. DATA defaults to fashion-mnist-mini here (the quickstart's; EPOCHS 3);
# the other settings are lib.sh's. Runs go to $OUT/runs/seedN/ce and .../ice, reused when made
# before with the same settings, and their probes with them.
set -euo pipefail
given=("$@")
# The seeds are the arguments; lib.sh refuses arguments, as its scripts take none.
set --
# Checked before anything is trained: a repeated seed (counted twice, it understates the spread) or
# a single one was refused by `irevnet seeds` only after all the trainings.
seeds=()
for word in "${given[@]}"; do
  if ! [[ "$word" =~ ^[0-9]+$ ]]; then
    echo "$word: not a seed (a whole number from 0); the arguments are training seeds, the settings environment variables such as DATA and OUT" >&2
    exit 2
  fi
  seed="$((10#$word))"
  for earlier in ${seeds[@]+"${seeds[@]}"}; do
    if [ "$earlier" = "$seed" ]; then echo "seed $seed given twice: each seed once" >&2; exit 2; fi
  done
  seeds+=("$seed")
done
if [ ${#given[@]} -eq 0 ]; then seeds=(0 1 2 3 4); fi
if [ ${#seeds[@]} -lt 2 ]; then
  echo "a spread over seeds needs at least two seeds, got ${seeds[*]}" >&2
  exit 2
fi
DATA="${DATA:-fashion-mnist-mini}"
source "$(dirname "$0")/lib.sh"
dirs=()
for s in "${seeds[@]}"; do
  for obj in ce ice; do
    run="$OUT/runs/seed$s/$obj"
    # train_once trains again in these cases, and the probe of the run before is not this one's.
    if [ "$FRESH" = 1 ] || [ ! -f "$run/eval-test.json" ]; then rm -f "$run/analysis/nuisance-probe.json"; fi
    train_once "seed$s/$obj" --arch fi-revnet-s --data "$DATA" --objective "$obj" --seed "$s"
    if [ ! -f "$run/analysis/nuisance-probe.json" ]; then irevnet probe --run "$run" --nuisance; fi
  done
  dirs+=("$OUT/runs/seed$s")
done
irevnet seeds "${dirs[@]}"
echo "done in $((SECONDS - START)) s" >&2
