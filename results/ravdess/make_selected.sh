#!/usr/bin/env bash
# Issue 10's honest entries on RAVDESS: every choice made on validation speakers, never on the test folds.
#   bash results/ravdess/make_selected.sh      (after make.sh and make_pretrained.sh, which it extends)
# Trains, for 8 classes and for the neutral/happy/sad/angry subset, under the same folds, budgets and seeds:
#   egemaps-func with the `selected` classifier (chosen among logreg, svm, lgbm, mlp per fold, seed, budget);
#   whisper@auto (layer chosen per fold) and whisper@weighted (learned softmax layer weights over pooled
#   layers), both with selected(logreg+svm); whisper@weighted with the sequence model (weights learned in
#   the network, early stopping on validation speakers) for 8 classes at the full budget only (all seven
#   layers' frames make it the slowest entry: about 3.5 min per fold and ~11 GB in one worker on 2 cores);
#   then rewrites the reports.
set -euo pipefail
cd "$(dirname "$0")/../.."
source results/ravdess/common.sh
COMMON=(--corpus ravdess --budgets 4,8,16,32,64,all --folds 6 --jobs "$JOBS" --no-progress)
for setting in "8class:" "4class:neutral,happy,sad,angry"; do
  name=${setting%%:*}; classes=${setting#*:}
  step "train $name egemaps-func selected" "$BIN/featbench" train "$STORE" ${classes:+--classes "$classes"} "${COMMON[@]}" \
    --features egemaps-func --classifiers selected --seeds 0,1,2 --out "$OUT/$name/results_selected.csv"
  step "train $name whisper auto+weighted selected" "$BIN/featbench" train "$STORE" ${classes:+--classes "$classes"} "${COMMON[@]}" \
    --features whisper@auto,whisper@weighted --classifiers "selected(logreg+svm)" --seeds 0,1,2 --out "$OUT/$name/results_selected.csv"
done
step "train 8class whisper weighted sequence" "$BIN/featbench" train "$STORE" \
  --corpus ravdess --budgets all --folds 6 --jobs 1 --no-progress \
  --features whisper@weighted --classifiers seq --seeds 0 --out "$OUT/8class/results_weighted_sequence.csv"
for name in 8class 4class; do
  step "compare $name" "$BIN/featbench" compare "$OUT/$name"/results*.csv --baseline egemaps-func --out "$OUT/$name"
done
cat "$TIMES"
