# Shared by make.sh, make_pretrained.sh and make_selected.sh (sourced from the repository root):
# where things are, and `step NAME COMMAND...`, which runs a command and appends its wall time.
BIN=${BIN:-.venv/bin}
DATA=${DATA:-../shared/data/ravdess}
MODEL=${MODEL:-../shared/models/whisper-base}
STORE=${STORE:-/tmp/featbench-ravdess-store}
JOBS=${JOBS:-2}
OUT=results/ravdess
TIMES=$OUT/wall_times.txt
step() {
  local name=$1; shift
  local start=$(date +%s)
  "$@"
  echo "$name: $(( $(date +%s) - start )) s ($*)" >> "$TIMES"
}
