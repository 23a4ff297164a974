#!/usr/bin/env bash
# Reproduce results/ravdess/ from the real RAVDESS speech in ../shared/data/ravdess:
#   bash results/ravdess/make.sh            (from the repository root, after `make install`)
# Extracts the hand-crafted families, trains the utterance-level and sequence grids for 8 classes and
# for the neutral/happy/sad/angry subset, writes the reports, then (PRETRAINED=1, the default) adds the
# Whisper-base layers through make_pretrained.sh, the entries chosen on validation speakers through
# make_selected.sh and the audio + text control through make_multimodal.sh, and records every step's
# wall time.
# STORE (default /tmp/featbench-ravdess-store) holds the feature store outside the repository (0.7 GB
# hand-crafted, 3.8 GB more with every Whisper-base layer).
set -euo pipefail
cd "$(dirname "$0")/../.."
source results/ravdess/common.sh
FAMILIES=egemaps-func,egemaps-lld,compare-lld,fbank,raw
: > "$TIMES"
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
if [ "${PRETRAINED:-1}" = 1 ] && [ -d "$MODEL" ]; then
  bash results/ravdess/make_pretrained.sh && bash results/ravdess/make_selected.sh && bash results/ravdess/make_multimodal.sh \
    && bash results/ravdess/make_per_speaker.sh && bash results/ravdess/make_per_speaker_clips.sh && bash results/ravdess/fitpredict/make_fitpredict.sh
else
  cat "$TIMES"
fi
