#!/usr/bin/env bash
# Reproduce results/ravdess/ from the real RAVDESS speech in ../shared/data/ravdess:
#   bash results/ravdess/make.sh            (from the repository root, after `make install`)
# Extracts the hand-crafted families, trains the utterance-level and sequence grids for 8 classes and
# for the neutral/happy/sad/angry subset, writes the reports, then (PRETRAINED=1, the default) adds the
# Whisper-base layers through make_pretrained.sh, and records every step's wall time.
# STORE (default /tmp/featbench-ravdess-store) holds the 0.7 GB feature store outside the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.venv/bin}
DATA=${DATA:-../shared/data/ravdess}
STORE=${STORE:-/tmp/featbench-ravdess-store}
JOBS=${JOBS:-2}
OUT=results/ravdess
FAMILIES=egemaps-func,egemaps-lld,compare-lld,fbank,raw
TIMES=$OUT/wall_times.txt
: > "$TIMES"
step() {  # step NAME COMMAND...: run, and append its wall time
  local name=$1; shift
  local start=$(date +%s)
  "$@"
  echo "$name: $(( $(date +%s) - start )) s ($*)" >> "$TIMES"
}
step extract "$BIN/featbench" extract ravdess "$DATA" --features "$FAMILIES" --out "$STORE" --jobs "$JOBS" --no-progress
for setting in "8class:" "4class:neutral,happy,sad,angry"; do
  name=${setting%%:*}; classes=${setting#*:}
  mkdir -p "$OUT/$name"
  step "train $name utterance grid" "$BIN/featbench" train "$STORE" --corpus ravdess ${classes:+--classes "$classes"} \
    --features "$FAMILIES" --classifiers logreg,svm,lgbm,mlp --budgets 4,8,16,32,64,all --folds 6 --seeds 0,1,2 \
    --out "$OUT/$name/results.csv" --jobs "$JOBS" --no-progress
  if [ "${SEQUENCE:-1}" = 1 ]; then
    step "train $name sequence grid" "$BIN/featbench" train "$STORE" --corpus ravdess ${classes:+--classes "$classes"} \
      --features egemaps-lld,compare-lld,fbank,raw --classifiers seq --budgets 4,8,16,32,64,all --folds 6 --seeds 0 \
      --out "$OUT/$name/results_sequence.csv" --jobs "$JOBS" --no-progress
  fi
  step "compare $name" "$BIN/featbench" compare "$OUT/$name"/results*.csv --baseline egemaps-func --out "$OUT/$name"
done
if [ "${PRETRAINED:-1}" = 1 ] && [ -d "${MODEL:-../shared/models/whisper-base}" ]; then
  bash results/ravdess/make_pretrained.sh
else
  cat "$TIMES"
fi
