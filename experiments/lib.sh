# Shared by the scripts in experiments/: sourced, not run.
# Settings (environment variables, all optional):
#   DATA     base dataset for every finding (default fashion-mnist: the Debian package
#            dataset-fashion-mnist; fashion-mnist-mini, shipped in data/, runs in minutes)
#   EPOCHS   training epochs per model (default 1; 3 on fashion-mnist-mini, whose epoch of 94
#            steps is shorter than iCE's 200-step warm-up of w_nc)
#   THREADS  ND4J/OpenMP threads (default 1: on a shared 2-core machine one thread is faster)
#   OUT      where runs, datasets and reports go (default runs/paper in this project; a relative
#            OUT or DATA directory is taken from the directory the script is run in)
#   FRESH=1  retrain models that an earlier script already trained (default: reuse them, and stop
#            at one trained with another DATA or EPOCHS)
set -euo pipefail
# Else an argument (--help) was ignored and the script trained, with the default settings, into OUT.
if [ $# -gt 0 ]; then
  echo "$0 takes no arguments (given: $*): its settings are environment variables, such as DATA, EPOCHS and OUT" >&2
  exit 2
fi
# No cd into the project: OUT=o or DATA=mydir, given relative, named this project's o and mydir.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${DATA:-fashion-mnist}"
if [ "$DATA" = fashion-mnist-mini ]; then EPOCHS="${EPOCHS:-3}"; else EPOCHS="${EPOCHS:-1}"; fi
# Refuses the setting NAME unless it is a whole number of WHAT from 1 (to MAX, if given), in one
# line, exit 2, before any run is looked at: EPOCHS=abc met a run trained already as "trained with
# --epochs 1, not --epochs abc: FRESH=1 retrains it", and FRESH=1 then dropped that run's
# eval-test.json before train refused the value.
require_count() {
  local name="$1" what="$2" max="${3:-}" value="${!1}"
  if ! [[ "$value" =~ ^[0-9]+$ ]] || [ "$((10#$value))" -lt 1 ] || { [ -n "$max" ] && [ "$((10#$value))" -gt "$max" ]; }; then
    echo "$name=$value: not a number of $what (a whole number$(if [ -n "$max" ]; then echo " from 1 to $max"; else echo ", at least 1"; fi))" >&2
    exit 2
  fi
}
require_count EPOCHS epochs
# A number is a number: EPOCHS=01 met a run of EPOCHS=1 as one "trained with --epochs 1, not --epochs 01".
EPOCHS="${EPOCHS#"${EPOCHS%%[!0]*}"}"
# Else a DATA that names no dataset met a run trained already as "trained with DATA=..., not
# DATA=...: FRESH=1 retrains it", and FRESH=1 then dropped that run's eval-test.json before train
# refused the name. Found as --data finds it: a directory, or a name: fashion-mnist (the Debian
# package) or one in this project's data/.
if [ "$DATA" = fashion-mnist ] && [ ! -d "$DATA" ] && [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "DATA=fashion-mnist: /usr/share/datasets/fashion-mnist is missing (apt-get install dataset-fashion-mnist; fashion-mnist-mini is shipped)" >&2
  exit 2
fi
if [ "$DATA" != fashion-mnist ] && [ ! -d "$DATA" ] && { [[ "$DATA" =~ ^[.~]|/ ]] || [ ! -d "$root/data/$DATA" ]; }; then
  echo "DATA=$DATA: no such directory and no such dataset name (fashion-mnist, or a directory in $root/data)" >&2
  exit 2
fi
THREADS="${THREADS:-1}"
require_count THREADS threads 1024 # --threads' range
# The project's runs/paper, spelled runs/paper from the project itself as before: script 3's
# RUN/train-args record paths under OUT, and another spelling would not reuse its runs.
if [ -z "${OUT:-}" ]; then
  if [ "$PWD" = "$root" ]; then OUT=runs/paper; else OUT="$root/runs/paper"; fi
fi
FRESH="${FRESH:-0}"
# Else FRESH=yes (or true) reused the runs and script 3's datasets as FRESH=0 does.
if [ "$FRESH" != 0 ] && [ "$FRESH" != 1 ]; then
  echo "FRESH=$FRESH: 1 retrains, 0 (the default) reuses" >&2
  exit 2
fi
# Else mkdir's own words and exit 1, which the scripts use for "a check failed".
if ! made="$(mkdir -p "$OUT" 2>&1)"; then
  echo "OUT=$OUT: cannot make that directory (${made##*: })" >&2
  exit 2
fi
START=$SECONDS

source "$root/experiments/stop.sh"

# Runs one bin/irevnet command and prints its wall time. Exit 1 means "ran, but a check it
# makes failed" (the result files are written and the report shows the failure), so the script
# goes on; any other failure (2 bad input, 3 a diverged or crashed run) stops it.
irevnet() {
  local t=$SECONDS code=0
  echo "+ bin/irevnet $*" >&2
  "$root/bin/irevnet" "$@" --threads "$THREADS" --no-progress &
  wait $! || code=$?
  echo "  ($((SECONDS - t)) s, exit $code)" >&2
  if [ "$code" -ne 0 ] && [ "$code" -ne 1 ]; then exit "$code"; fi
}

# Trains RUN (a directory under $OUT/runs) with the given train options unless an earlier
# script already did with the same settings, then evaluates it on its test split. RUN/train-args
# records them: a run of another DATA or EPOCHS was reused as if it were this one's, so it stops
# the script instead (runs from before train-args are reused as they are). It is written before
# the training: written last, a script stopped after eval had written eval-test.json left a run
# without it, reused next time unchecked as one from before train-args.
# Held (hold) until it is trained and evaluated, so that another script waits for it, then reuses it.
train_once() {
  local run="$OUT/runs/$1"; shift
  hold "$run" training
  trained_once "$run" "$@"
  release
}

# Waits until no other script holds DIR (made if missing), saying so, then holds it (flock) until
# release; one DIR at a time. Scripts run at once on one OUT share runs (scripts 1 and 2: ce, ice)
# and script 3's datasets: both trained a shared run, and the later train was refused as the run was
# being trained (exit 2, ending that script) or, begun once the first's training had ended, retrained
# the run under the first script's analyses; both made a dataset, and the later was refused.
hold() {
  mkdir -p "$1"
  exec {held}<"$1"
  if command -v flock >/dev/null && ! flock -n "$held"; then
    echo "= $1: another script is $2 it; waiting to reuse it" >&2
    flock "$held" &
    wait $!
  fi
}

release() {
  exec {held}<&-
}

# train_once's work, once no other script trains RUN.
trained_once() {
  local run="$1"; shift
  local settings; settings="$(settings "$@")"
  if [ "$FRESH" != 1 ] && [ -f "$run/eval-test.json" ]; then
    if [ -f "$run/train-args" ] && [ "$(cat "$run/train-args")" != "$settings" ]; then
      echo "$run was trained with $(cat "$run/train-args"), not $settings: FRESH=1 retrains it, another OUT keeps both" >&2
      exit 2
    fi
    echo "= $run: trained already (FRESH=1 retrains)" >&2
    return
  fi
  start_run "$run" "$@"
  irevnet train --out "$run" --fresh --epochs "$EPOCHS" "$@"
  irevnet eval --run "$run"
}

# Before RUN is trained afresh with the given train options: an interrupted retraining must not
# leave the former run's files to pass for a finished one, and RUN/train-args records the settings.
start_run() {
  local run="$1"; shift
  rm -f "$run/eval-test.json" "$run/train-args"
  mkdir -p "$run"
  settings "$@" > "$run/train-args"
}

# What RUN/train-args records of a training with the given train options.
settings() {
  printf '%s\n' "DATA=$DATA --epochs $EPOCHS $*"
}

finish() {
  echo "done in $((SECONDS - START)) s; report: $1/report.html" >&2
}
