#!/usr/bin/env bash
# The headline comparison on RAVDESS: Whisper-base encoder layers against the hand-crafted families.
#   bash results/ravdess/make_pretrained.sh      (after results/ravdess/make.sh, which it extends)
# Extracts every Whisper-base encoder layer (length-adaptive mode) into the same store, trains every
# layer with the linear classifiers under the same protocol, and rewrites the reports with all results.
set -euo pipefail
cd "$(dirname "$0")/../.."
source results/ravdess/common.sh
step "extract whisper-base all layers" "$BIN/featbench" extract ravdess "$DATA" --features whisper \
  --set whisper.model="$MODEL" --set whisper.layer=all --set whisper.whisper_mode=adaptive --out "$STORE" --jobs "$JOBS" --no-progress
for setting in "8class:" "4class:neutral,happy,sad,angry"; do
  name=${setting%%:*}; classes=${setting#*:}
  step "train $name whisper layers" "$BIN/featbench" train "$STORE" --corpus ravdess ${classes:+--classes "$classes"} \
    --features whisper@all --classifiers logreg,svm --budgets 4,8,16,32,64,all --folds 6 --seeds 0,1,2 \
    --out "$OUT/$name/results_whisper.csv" --jobs "$JOBS" --no-progress
  step "compare $name with whisper" "$BIN/featbench" compare "$OUT/$name"/results*.csv --baseline egemaps-func --out "$OUT/$name"
done
cat "$TIMES"
