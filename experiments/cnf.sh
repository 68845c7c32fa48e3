#!/usr/bin/env bash
# Trains the continuous normalising flow on the four 2-D toy densities, one after the other with
# one thread, and puts the plots into docs/images and a table of the measured numbers on stdout
# (the README's "Continuous normalising flows" section is made from it).
#   experiments/cnf.sh [extra cnf options, e.g. --iterations 200]
#   experiments/cnf.sh --table      (only the table, from the existing runs)
# Runs go to runs/cnf-<target>/ (cnf.json, weights.npz, density.png, samples.png). IREVNET may name
# another launcher, e.g. IREVNET="java -jar /tmp/copy/irevnet-cli.jar".
set -euo pipefail
# The table is read from the JSON files with jq: say so before any training, not after it.
command -v jq >/dev/null || { echo "experiments/cnf.sh: needs jq for its table (apt-get install jq)" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source experiments/stop.sh
targets="two-moons rings checkerboard 8-gaussians"
if [ "${1:-}" != "--table" ]; then
  images="$root/docs/images"
  mkdir -p "$images"
  for target in $targets; do
    start=$(date +%s)
    # Exit code 1: the inversion check failed, the results are written (the table shows the error).
    status=0
    nice -n 10 ${IREVNET:-bin/irevnet} cnf --target "$target" --out "runs/cnf-$target" --fresh --threads 1 --no-progress "$@" >/dev/null &
    wait $! || status=$?
    [ "$status" -le 1 ] || exit "$status"
    echo "$target: $(( $(date +%s) - start )) s wall" >&2
    cp "runs/cnf-$target/density.png" "$images/cnf-$target-density.png"
    cp "runs/cnf-$target/samples.png" "$images/cnf-$target-samples.png"
  done
fi
# Else --table before the runs printed the table's head and rows up to the first missing one, then jq's error.
for target in $targets; do
  [ -f "runs/cnf-$target/cnf.json" ] || { echo "experiments/cnf.sh: no runs/cnf-$target/cnf.json: run experiments/cnf.sh without --table first" >&2; exit 2; }
done
echo "| target | test log-likelihood (nats) | NFE forward / adjoint per iteration | NFE test / sampling (dopri5) | train / eval time | inversion max error |"
echo "|---|---|---|---|---|---|"
for target in $targets; do
  jq -r '[.target, .testLogLikelihood, .testLogLikelihoodStdError, .nfeForwardPerIteration, .nfeBackwardPerIteration,
      .nfeTestForward, .nfeSampling, .trainSeconds, .iterations, .evalSeconds, .inversionMaxAbsError] | @tsv' \
    "runs/cnf-$target/cnf.json" |
    awk -F'\t' '{printf "| %s | %.3f ± %.3f | %d / %d | %d / %d | %.0f s (%d it.) / %.0f s | %.1e |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11}'
done
