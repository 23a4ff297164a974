#!/usr/bin/env bash
# How much unlabelled audio of each speaker per-speaker normalisation needs: `--normalise per-speaker:K`
# standardises every speaker on K of their clips (drawn at random, the same for every view, seed and budget).
#   bash results/ravdess/make_per_speaker_clips.sh      (after make_per_speaker.sh, which gives K = all 60)
# 8 classes, all training data (every label), seeds 0-2, 6 folds; K = 4, 8, 16, 32; egemaps-func with
# `selected` and whisper@weighted with selected(logreg+svm), as in make_per_speaker.sh. The report's summary
# table reads UA by K.
set -euo pipefail
cd "$(dirname "$0")/../.."
source results/ravdess/common.sh
mkdir -p "$OUT/per_speaker/8class_clips"
COMMON=(--corpus ravdess --budgets all --folds 6 --seeds 0,1,2 --jobs "$JOBS" --no-progress)
for clips in 4 8 16 32; do
  step "train 8class egemaps-func selected, per-speaker normalisation on $clips clips" "$BIN/featbench" train "$STORE" \
    "${COMMON[@]}" --normalise "per-speaker:$clips" --features egemaps-func --classifiers selected \
    --out "$OUT/per_speaker/8class_clips/results.csv"
  step "train 8class whisper weighted selected, per-speaker normalisation on $clips clips" "$BIN/featbench" train "$STORE" \
    "${COMMON[@]}" --normalise "per-speaker:$clips" --features whisper@weighted --classifiers "selected(logreg+svm)" \
    --out "$OUT/per_speaker/8class_clips/results.csv"
done
step "compare 8class per-speaker normalisation by clips" "$BIN/featbench" compare \
  "$OUT/per_speaker/8class_clips/results.csv" --baseline egemaps-func --baseline-norm per-speaker:32 \
  --out "$OUT/per_speaker/8class_clips"
cat "$TIMES"
