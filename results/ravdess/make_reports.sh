#!/usr/bin/env bash
# Rewrite every report under results/ravdess/ from the committed results files alone (no store, no training):
#   bash results/ravdess/make_reports.sh     (from the repository root, after `make install`)
# The same `featbench compare` calls as make.sh and the make_*.sh scripts, for a report format that changed.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.venv/bin}
OUT=results/ravdess
for name in 8class 4class; do
  "$BIN/featbench" compare "$OUT/$name"/results*.csv --baseline egemaps-func --out "$OUT/$name"
  "$BIN/featbench" compare "$OUT/per_speaker/$name/results.csv" "$OUT/$name/results_selected.csv" \
    --baseline egemaps-func --baseline-norm per-speaker --out "$OUT/per_speaker/$name"
done
"$BIN/featbench" compare "$OUT/multimodal"/results*.csv --baseline whisper@L6 --out "$OUT/multimodal"
"$BIN/featbench" compare "$OUT/per_speaker/8class_clips/results.csv" \
  --baseline egemaps-func --baseline-norm per-speaker:32 --out "$OUT/per_speaker/8class_clips"
