#!/usr/bin/env bash
# Issue 10's entries under per-speaker normalisation (`train --normalise per-speaker`): each speaker's pooled
# features standardised on the mean and std of all that speaker's clips in the store (labels unread, every
# emotion of the corpus, test speakers' clips included: the protocol assumes unlabelled audio of each speaker).
#   bash results/ravdess/make_per_speaker.sh      (after make_selected.sh, whose plain entries it reports beside)
# Trains, for 8 classes and for the neutral/happy/sad/angry subset, under the same folds, budgets and seeds as
# make_selected.sh: egemaps-func with `selected`, whisper@auto and whisper@weighted with selected(logreg+svm); then one report
# per class set with the plain entries beside (baseline: egemaps-func [per-speaker normalisation]).
set -euo pipefail
cd "$(dirname "$0")/../.."
source results/ravdess/common.sh
COMMON=(--corpus ravdess --budgets 4,8,16,32,64,all --folds 6 --seeds 0,1,2 --normalise per-speaker --jobs "$JOBS" --no-progress)
for setting in "8class:" "4class:neutral,happy,sad,angry"; do
  name=${setting%%:*}; classes=${setting#*:}
  mkdir -p "$OUT/per_speaker/$name"
  step "train $name egemaps-func selected, per-speaker normalisation" "$BIN/featbench" train "$STORE" \
    ${classes:+--classes "$classes"} "${COMMON[@]}" --features egemaps-func --classifiers selected \
    --out "$OUT/per_speaker/$name/results.csv"
  step "train $name whisper auto+weighted selected, per-speaker normalisation" "$BIN/featbench" train "$STORE" \
    ${classes:+--classes "$classes"} "${COMMON[@]}" --features whisper@auto,whisper@weighted --classifiers "selected(logreg+svm)" \
    --out "$OUT/per_speaker/$name/results.csv"
  step "compare $name per-speaker normalisation" "$BIN/featbench" compare "$OUT/per_speaker/$name/results.csv" \
    "$OUT/$name/results_selected.csv" --baseline egemaps-func --baseline-norm per-speaker --out "$OUT/per_speaker/$name"
done
cat "$TIMES"
