#!/usr/bin/env bash
# Trains the convolutional VAE once per posterior flow (none, planar, householder and the three
# Sylvester variants) on the same data, epochs and seed, one after the other with one thread
# under nice, and prints a markdown table of the measured numbers (the README's "VAE with flow
# posteriors" section is made from it) and a side-by-side report in OUT/vae-report.
#   experiments/vae.sh [extra vae options, e.g. --epochs 5]
# Settings (environment variables, all optional):
#   DATA          dataset (default fashion-mnist: the Debian package dataset-fashion-mnist)
#   TRAIN_IMAGES  first N training images (default 2000)
#   EPOCHS        epochs (default 2)
#   TEST_IMAGES   test images for ELBO and IS-NLL (default 100)
#   IS_SAMPLES    importance samples per test image (default 1000)
#   OUT           where the runs go (default runs): OUT/vae-<flow>/vae.json
#   PARALLEL=1    run the six flows at the same time (each still one thread under nice; 0, the
#                 default, one after the other; another value is refused): the
#                 wall times then include waiting for each other; compare the CPU times
#   IREVNET       the launcher (default bin/irevnet), e.g. "java -jar /tmp/copy/irevnet-cli.jar"
set -euo pipefail
# The table is read from the JSON files with jq: say so before any training, not after it.
command -v jq >/dev/null || { echo "experiments/vae.sh: needs jq for its table (apt-get install jq)" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source experiments/stop.sh
DATA="${DATA:-fashion-mnist}"
OUT="${OUT:-runs}"
# Else PARALLEL=yes (or true) ran the six one after the other, as PARALLEL=0 does.
if [ "${PARALLEL:-0}" != 0 ] && [ "${PARALLEL:-0}" != 1 ]; then
  echo "PARALLEL=$PARALLEL: 1 runs the six flows at once, 0 (the default) one after the other" >&2
  exit 2
fi
flows=(none planar householder sylvester-orthogonal sylvester-householder sylvester-triangular)
run() {
  local flow="$1" start code=0
  shift
  start=$(date +%s)
  nice -n 10 ${IREVNET:-bin/irevnet} vae --flow "$flow" --data "$DATA" --out "$OUT/vae-$flow" --fresh --threads 1 --no-progress \
    --train-images "${TRAIN_IMAGES:-2000}" --epochs "${EPOCHS:-2}" \
    --test-images "${TEST_IMAGES:-100}" --is-samples "${IS_SAMPLES:-1000}" "$@" >/dev/null &
  wait $! || code=$?
  echo "$flow: $(( $(date +%s) - start )) s wall, exit $code" >&2
  # A run that fails writes nothing: the table and the report must not show an earlier run's result
  # for it. Deleted once the run has failed, not as it starts: a second vae.sh on this OUT deleted the
  # result this one had just written (its table then said "no result"), and a stopped run lost it.
  # Exit 1, sylvester-orthogonal's failed orthogonality check, writes its results: the table marks them.
  if [ "$code" -gt 1 ]; then rm -f "$OUT/vae-$flow/vae.json"; fi
  # Exit 3: a failed run, e.g. trained but an evaluation that is not finite (nothing written); the
  # table says "no result" for it and the other flows still run. Bad usage (2) or an interrupt stops.
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ] && [ "$code" -ne 3 ]; then exit "$code"; fi
}
parallel=()
for flow in "${flows[@]}"; do
  if [ "${PARALLEL:-0}" = 1 ]; then { stop_traps; run "$flow" "$@"; } & parallel+=($!); else run "$flow" "$@"; fi
done
# What stops the script in sequence (bad usage, exit 2) stops it once all have ended: a bad option
# was the six commands' error, then jq's for the missing results.
code=0
for pid in ${parallel[@]+"${parallel[@]}"}; do wait "$pid" || code=$?; done
[ "$code" -eq 0 ] || exit "$code"
# The runs with a result: the settings line is read from the first, and the report shows them.
reports=()
for flow in "${flows[@]}"; do [ -f "$OUT/vae-$flow/vae.json" ] && reports+=("$OUT/vae-$flow"); done
# The settings line from the first flow with a result: read from none's alone, a failed none (exit 3)
# ended the script with jq's error, without the other flows' table.
[ "${#reports[@]}" -gt 0 ] || { echo "experiments/vae.sh: no flow has a result (see the runs' errors above)" >&2; exit 3; }
first="${reports[0]}/vae.json"
jq -r '"Data \(.data): first \(.train_images) training images, \(.epochs) epochs, batch \(.batch); latent \(.latent), \(.flow_steps) flow steps; test: first \(.test_images) test images, \(.is_samples) importance samples each; nats per image."' "$first"
echo
echo "| flow | test ELBO | test IS-NLL (± s.e.) | flow params per image | train time wall (CPU) | eval time wall (CPU) |"
echo "|---|---|---|---|---|---|"
for flow in "${flows[@]}"; do
  [ -f "$OUT/vae-$flow/vae.json" ] || { echo "| $flow | no result (see the run's error) | | | | |"; continue; }
  jq -r '"| \(.flow)\(if .orthogonality_tolerance != null and ([.orthogonality_error_train, .orthogonality_error_test] | max) > .orthogonality_tolerance then " (orthogonality check failed: its log-det is wrong)" else "" end) | \(.test_elbo_nats*100|round/100) | \(.test_is_nll_nats*100|round/100) ± \(.test_is_nll_std_error*100|round/100) | \(.flow_params_per_image) | \(.train_seconds|round) s (\(.train_cpu_seconds|round) s) | \(.eval_seconds|round) s (\(.eval_cpu_seconds|round) s) |"' \
    "$OUT/vae-$flow/vae.json"
done
# The same runs side by side in report.html (headline: flow, test ELBO, IS-NLL, train time).
if [ "${#reports[@]}" -gt 1 ]; then
  ${IREVNET:-bin/irevnet} report "${reports[@]}" --out "$OUT/vae-report" --threads 1 >/dev/null &
  wait $!
  echo "report: $OUT/vae-report/report.html" >&2
fi
