# Sourced by the scripts in experiments/ (by lib.sh for scripts 1-4 and density.sh), not run.
# A script stopped by kill -TERM (or HUP, INT) stops its running commands too: bash runs a trap only
# once its foreground command has ended, so that command ran on, reparented, writing into the runs
# (a Ctrl-C reached both: the terminal signals its whole process group). Hence each command runs in
# the background and is waited for (`COMMAND & wait $!`); the command says that it was interrupted.
# bash resets the traps in a background subshell (vae.sh's PARALLEL=1): it calls stop_traps again.
stopped() {
  local running
  running="$(jobs -p)"
  # shellcheck disable=SC2086
  if [ -n "$running" ]; then kill -TERM $running 2>/dev/null || true; wait || true; fi
  exit "$1"
}
stop_traps() {
  trap 'stopped 129' HUP
  trap 'stopped 130' INT
  trap 'stopped 143' TERM
}
stop_traps
