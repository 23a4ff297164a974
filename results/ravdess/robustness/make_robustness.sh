#!/usr/bin/env bash
# Robustness on RAVDESS (issue 27): does the answer survive noise, rooms and codecs?
#   bash results/ravdess/robustness/make_robustness.sh      (from the repository root, after `make install`)
# One extraction decodes each clip once and stores every family under every condition (pooled frames: the
# utterance-level entries read one row of mean and std per clip). Mismatched: every entry trained on clean
# speech and scored under every condition (one fit, many test conditions). Matched and multi-condition training
# for the two best entries at the full budget, and per-corpus normalisation (each condition standardised on its
# own statistics, no labels read) beside the plain protocol. RAVDESS 8 classes, 6 speaker folds, seed 0.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${BIN:-.venv/bin}
DATA=${DATA:-../shared/data/ravdess}
MODEL=${MODEL:-../shared/models/whisper-base}
STORE=${STORE:-/tmp/featbench-ravdess-robust-store}
JOBS=${JOBS:-2}
OUT=results/ravdess/robustness
TIMES=$OUT/wall_times.txt
step() {
  local name=$1; shift
  local start=$(date +%s)
  "$@"
  echo "$name: $(( $(date +%s) - start )) s ($*)" >> "$TIMES"
}
CONDITIONS=${CONDITIONS:-clean,white:20,white:10,white:5,white:0,babble:20,babble:10,babble:5,babble:0,room:0.3,room:0.6,room:1.0,mp3:32k,mp3:8k,telephone}
TESTS=${CONDITIONS}
COMMON=(--corpus ravdess --folds 6 --seeds 0 --jobs "$JOBS" --no-progress)
[ "${KEEP_TIMES:-0}" = 1 ] || : > "$TIMES"  # KEEP_TIMES=1: append (a run resumed after its extraction)
step "extract 4 families x $(tr ',' '\n' <<< "$CONDITIONS" | wc -l) conditions" "$BIN/featbench" extract ravdess "$DATA" \
  --features egemaps-func,mfcc,fbank,whisper --set mfcc.pooled=true --set fbank.pooled=true \
  --set whisper.model="$MODEL" --set whisper.layer=all --set whisper.whisper_mode=adaptive --set whisper.pooled=true \
  --conditions "$CONDITIONS" --folds 6 --out "$STORE" --jobs "$JOBS" --no-progress
step "train mismatched: hand-crafted" "$BIN/featbench" train "$STORE" "${COMMON[@]}" --budgets 4,8,16,32,64,all \
  --features egemaps-func,mfcc,fbank --classifiers "selected(logreg+svm)" --test-condition "$TESTS" --out "$OUT/results.csv"
step "train mismatched: whisper-base" "$BIN/featbench" train "$STORE" "${COMMON[@]}" --budgets 4,8,16,32,64,all \
  --features whisper@weighted,whisper@auto --classifiers "selected(logreg+svm)" --test-condition "$TESTS" --out "$OUT/results.csv"
BEST=${BEST:-whisper@weighted,egemaps-func}
for condition in white:10 babble:10 room:0.6 mp3:8k telephone; do
  step "train matched $condition" "$BIN/featbench" train "$STORE" "${COMMON[@]}" --budgets all --features "$BEST" \
    --classifiers "selected(logreg+svm)" --train-condition "$condition" --test-condition "$condition" --out "$OUT/results_matched.csv"
done
step "train multi-condition" "$BIN/featbench" train "$STORE" "${COMMON[@]}" --budgets all --features "$BEST" \
  --classifiers "selected(logreg+svm)" --train-condition "multi:clean,white:10,babble:10,room:0.6,telephone" \
  --test-condition "$TESTS" --out "$OUT/results_multi.csv"
step "train mismatched, per-corpus normalisation" "$BIN/featbench" train "$STORE" "${COMMON[@]}" --budgets all \
  --features "$BEST" --classifiers "selected(logreg+svm)" --normalise per-corpus --test-condition "$TESTS" \
  --out "$OUT/results_per_corpus.csv"
step "compare" "$BIN/featbench" compare "$OUT"/results*.csv --baseline egemaps-func --out "$OUT"
cat "$TIMES"
