#!/usr/bin/env bash
# Trains the continuous normalising flow on the four 2-D toy densities, one after the other with
# one thread, and puts the plots into docs/images and a table of the measured numbers on stdout
# (the README's "Continuous normalising flows" section is made from it).
#   experiments/cnf.sh [extra cnf options, e.g. --iterations 200]
# Runs go to runs/cnf-<target>/ (cnf.json, weights.npz, density.png, samples.png). IREVNET may name
# another launcher, e.g. IREVNET="java -jar /tmp/copy/irevnet-cli.jar" to keep building meanwhile.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
images="$root/docs/images"
mkdir -p "$images"
for target in two-moons rings checkerboard 8-gaussians; do
  start=$(date +%s)
  nice -n 10 ${IREVNET:-bin/irevnet} cnf --target "$target" --out "runs/cnf-$target" --threads 1 --no-progress "$@" >/dev/null
  echo "$target: $(( $(date +%s) - start )) s wall" >&2
  cp "runs/cnf-$target/density.png" "$images/cnf-$target-density.png"
  cp "runs/cnf-$target/samples.png" "$images/cnf-$target-samples.png"
done
echo "| target | test log-likelihood (nats) | NFE forward / adjoint per iteration | NFE test (dopri5) | train time | inversion max error |"
echo "|---|---|---|---|---|---|"
for target in two-moons rings checkerboard 8-gaussians; do
  jq -r '"| \(.target) | \(.testLogLikelihood*1000|round/1000) ± \(.testLogLikelihoodStdError*1000|round/1000) | \(.nfeForwardPerIteration) / \(.nfeBackwardPerIteration) | \(.nfeTestForward) | \(.trainSeconds|round) s (\(.iterations) it.) | \(.inversionMaxAbsError) |"' \
    "runs/cnf-$target/cnf.json"
done
