#!/usr/bin/env bash
# Fit and predict round trip on RAVDESS: a benchmark entry fitted on the training part of fold 0 of the 6-fold
# 8-class protocol (seed 0, budget all), saved, then used to label the held-out actors' audio from scratch.
#   JOBS=1 bash results/ravdess/fitpredict/make_fitpredict.sh      (after featbench study run results/studies/ravdess.toml)
# Entries: egemaps-func with `selected`, whisper@weighted with selected(logreg+svm), and whisper@weighted with
# selected(logreg+svm) under per-speaker normalisation (its benchmark row: ../per_speaker/8class; predict
# standardises each held-out actor on the clips it labels of them). The model folders go to
# $MODELS; the features of the predicted clips to a separate store ($PREDICT_STORE, made afresh: the benchmark
# store is only read). Writes here: each model's manifest.json, the predictions, wall_times.txt and README.md,
# whose table puts the predicted UA next to the benchmark row's UA for the same fold, seed and budget.
set -euo pipefail
cd "$(dirname "$0")/../../.."
source results/ravdess/common.sh
HERE=$OUT/fitpredict
TIMES=$HERE/wall_times.txt
: > "$TIMES"  # this run's steps only
MODELS=${MODELS:-/tmp/featbench-ravdess-models}
PREDICT_STORE=${PREDICT_STORE:-/tmp/featbench-ravdess-predict-store}
rm -rf "$PREDICT_STORE"
rm -f "$HERE"/*.predictions.csv "$HERE"/*.predictions_errors.csv  # this script's own last outputs: predict keeps others
for entry in "egemaps-func:selected:training" "whisper@weighted:selected(logreg+svm):training" \
             "whisper@weighted:selected(logreg+svm):per-speaker"; do
  IFS=: read -r view classifier normalise <<< "$entry"
  name=${view//@/-}; [ "$normalise" = training ] || name=$name-$normalise
  step "fit $view $classifier $normalise fold 0" "$BIN/featbench" fit "$STORE" --features "$view" --classifier "$classifier" \
    --holdout-fold 0 --folds 6 --seed 0 --budget all --corpus ravdess --normalise "$normalise" --out "$MODELS/$name"
  cp "$MODELS/$name/manifest.json" "$HERE/$name.manifest.json"
  step "predict $view fold 0 actors" "$BIN/featbench" predict "$MODELS/$name" --layout ravdess "$DATA" --holdout-only \
    --store "$PREDICT_STORE" --out "$HERE/$name.predictions.csv" --jobs "$JOBS" --no-progress
done
"$BIN/python" - "$HERE" "$OUT/8class/results_selected.csv" "$OUT/per_speaker/8class/results.csv" <<'PY'
import json, sys
from pathlib import Path
import pandas as pd
from sklearn.metrics import balanced_accuracy_score
from featbench.results import read_results

here = Path(sys.argv[1])
rows = pd.concat([read_results(Path(f), dtype=str).rows for f in sys.argv[2:]], ignore_index=True)
lines = ["| entry | classifier | chose | benchmark row UA | fit's UA on the store's features | predicted UA from the audio | equal |",
         "|---|---|---|---|---|---|---|"]
for manifest in sorted(here.glob("*.manifest.json")):
    m = json.loads(manifest.read_text())
    view, entry, holdout = m["view"]["name"], m["choice"]["entry"], m["training"]["holdout"]
    normalisation = m["training"].get("normalisation", "training")
    row = rows[(rows.view == view) & (rows.normalisation == normalisation) & (rows.classifier == entry) & (rows.fold == str(holdout["fold"]))
               & (rows.seed == str(m["training"]["seed"])) & (rows.budget == m["training"]["budget"])]
    assert len(row) == 1, f"{len(row)} benchmark rows for {view} {entry}"
    p = pd.read_csv(here / manifest.name.replace(".manifest.json", ".predictions.csv"))
    predicted = balanced_accuracy_score(p["label"], p["predicted"])
    bench = float(row["ua"].iloc[0])
    chose = f"{m['choice']['classifier']} {json.dumps(m['choice']['hparams'])}"
    shown = view if normalisation == "training" else f"{view} [{normalisation} normalisation]"
    lines.append(f"| {shown} | {entry} | {chose} | {bench:.6f} | {holdout['ua']:.6f} | {predicted:.6f} ({len(p)} clips) | "
                 f"{'yes' if predicted == bench == holdout['ua'] else 'NO'} |")
    print(lines[-1])
intro = [
    "# Fit and predict round trip (RAVDESS, 8 classes)", "",
    "Made by `make_fitpredict.sh`. `featbench fit --holdout-fold 0 --folds 6 --seed 0 --budget all` trained each entry "
    "on the training part of fold 0 of the benchmark's 6-fold protocol (choices made on validation speakers, as in "
    "`featbench train`) and saved it (`<entry>.manifest.json` is its manifest). `featbench predict --layout ravdess "
    "--holdout-only` then extracted the held-out actors' audio afresh into a separate store and labelled it "
    "(`<entry>.predictions.csv`). Benchmark row: `../8class/results_selected.csv` (per-speaker normalisation: "
    "`../per_speaker/8class/results.csv`), same fold, seed and budget.", ""]
(here / "README.md").write_text("\n".join(intro + lines) + "\n")
PY
cat "$TIMES"
