# Sourced by fitpredict/make_fitpredict.sh from the repository root (the studies themselves are the study files
# results/studies/ravdess.toml and ravdess-robustness.toml):
# where things are, and `step NAME COMMAND...`, which runs a command and appends its wall time.
BIN=${BIN:-.venv/bin}
DATA=${DATA:-../shared/data/ravdess}
MODEL=${MODEL:-../shared/models/whisper-base}
STORE=${STORE:-/tmp/featbench-study/ravdess}  # the store of results/studies/ravdess.toml
JOBS=${JOBS:-2}
OUT=results/ravdess
TIMES=$OUT/wall_times.txt
step() {
  local name=$1; shift
  local start=$(date +%s)
  "$@"
  echo "$name: $(( $(date +%s) - start )) s ($*)" >> "$TIMES"
}
