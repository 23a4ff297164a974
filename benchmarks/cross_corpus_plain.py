"""Benchmark: featbench's cross-corpus cells against a plain recipe on the same stored frames, side by side.

For each direction (SOURCE -> TARGET and back): one layer of a stored frame family (default `whisper` layer 2, as
`whisper@L2`), the labels merged and selected as `--merge` / `--classes` say (applied to both corpora).

- The plain recipe, written here with numpy and scikit-learn only on the frames `featbench.store.read_family` reads
  (no featbench training code): each clip's frames of the layer pooled to their mean (or mean and std), each corpus
  z-scored on the statistics of all its selected clips (labels unread), one `LogisticRegression()` with
  scikit-learn's defaults (C=1, no class weights) fitted on every source clip and scored on the target's folds.
  The rows decomposing it add, one at a time, what featbench's `logreg` does differently: class-balanced weights,
  a StandardScaler fitted on the training rows, and each C of featbench's grid (0.01, 0.1, 1).
- featbench's cells: `featbench train SOURCE --test-store TARGET --features whisper@L2 --classifiers logreg
  --budgets all --normalise per-corpus --pooling KIND` (mean, mean+std, attentive), one seed (run through the
  library, `run_training`), C chosen per fold on held-out source speakers.

Both are scored the same way: UA (balanced accuracy) of each of the target's folds (the folds featbench's rows name
in `test_groups`), averaged over folds.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/cross_corpus_plain.py /tmp/featbench-study/ravdess \\
        /tmp/featbench-study/nemo --merge happiness=happy,sadness=sad,anger=angry,fear=fearful \\
        --classes neutral,happy,sad,angry,fearful,surprised [--layer 2] [--out DIR]

Benchmarks only print figures; the exit code does not depend on them.
"""
from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

POOLINGS = ("mean", "mean+std")  # the plain recipe's; featbench's cells add its learned attentive pooling
CELL_POOLINGS = (*POOLINGS, "attentive")


def pooled_layer(store: Path, family: str, layer: int, merge: dict, classes: list[str]) -> tuple[pd.DataFrame, dict]:
    """(the store's selected clips: id, speaker, label; {pooling: (n, columns) matrix}) of one layer's frames,
    pooled here with numpy."""
    from featbench.store import read_family

    fs = read_family(store, family)
    table = pd.read_csv(store / "corpus.csv", dtype={"speaker": str, "group": str})
    table["label"] = table["label"].replace(merge)
    table = table[table["label"].isin(classes) & table["id"].isin(set(fs.ids))].reset_index(drop=True)
    width = fs.meta.frame_dim // max(fs.meta.layers, 1)
    columns = slice(layer * width, (layer + 1) * width) if fs.meta.layers else slice(None)
    where = {u: k for k, u in enumerate(fs.ids)}
    means, stds = [], []
    for uid in table["id"]:
        k = where[uid]
        frames = np.asarray(fs.features[fs.offsets[k]:fs.offsets[k] + fs.lengths[k], columns], np.float64)
        means.append(frames.mean(0))
        stds.append(frames.std(0))
    mean = np.array(means)
    return table, {"mean": mean, "mean+std": np.hstack([mean, np.array(stds)])}


def zscore(X: np.ndarray) -> np.ndarray:
    """Each column on the statistics of all of X's rows (one corpus)."""
    std = X.std(0)
    return (X - X.mean(0)) / np.where(std > 0, std, 1.0)


def fold_ua(target: pd.DataFrame, predicted: np.ndarray, folds: list[list[str]]) -> float:
    """UA of each fold's clips (its test speaker groups), averaged over the folds."""
    speakers = target["group"].astype(str).to_numpy()
    scores = []
    for groups in folds:
        rows = np.isin(speakers, groups)
        scores.append(balanced_accuracy_score(target["label"].to_numpy()[rows], predicted[rows]))
    return float(np.mean(scores))


def plain_rows(source: tuple, target: tuple, folds: list[list[str]]) -> list[tuple[str, float]]:
    """(recipe, UA) of the plain recipe and of its variants toward featbench's logreg."""
    (s_table, s_pooled), (t_table, t_pooled) = source, target
    rows = []
    for pooling in POOLINGS:
        Xs, Xt = zscore(s_pooled[pooling]), zscore(t_pooled[pooling])
        variants = {"plain: LogisticRegression() (C=1)": LogisticRegression(max_iter=5000)}
        for C in (0.01, 0.1, 1.0):
            variants[f"  + class-balanced + StandardScaler, C={C}"] = make_pipeline(
                StandardScaler(), LogisticRegression(C=C, class_weight="balanced", max_iter=5000))
        variants["  + class-balanced, C=1"] = LogisticRegression(class_weight="balanced", max_iter=5000)
        for name, model in variants.items():
            predicted = model.fit(Xs, s_table["label"]).predict(Xt)
            rows.append((f"{pooling:8s} {name}", fold_ua(t_table, predicted, folds)))
    return rows


def featbench_rows(source: Path, target: Path, args, out: Path) -> tuple[list[tuple[str, float]], list[list[str]]]:
    """(featbench's cells as (name, UA), the target's folds as their test groups: the target's own names, as its
    corpus.csv holds them), one run per pooling."""
    from featbench.corpus.table import parse_merge
    from featbench.train import Experiment, run_training

    rows, folds = [], []
    for pooling in CELL_POOLINGS:
        path = out / f"{source.name}-to-{target.name}.csv"
        exp = Experiment(store=source, test_store=target, families=[f"{args.family}@L{args.layer}"],
                         classifiers=["logreg"], budgets=["all"], seeds=[args.seed], classes=args.classes.split(","),
                         merge=parse_merge(args.merge), normalisation="per-corpus", pooling=pooling)
        run_training(exp, path, progress=False)
        cells = pd.read_csv(path, dtype={"test_groups": str})
        cells = cells[cells["pooling"] == pooling].sort_values("fold")
        chosen = ", ".join(f"{c} x{n}" for c, n in cells["hparams"].value_counts().items())
        rows.append((f"{pooling:8s} featbench logreg, per-corpus normalisation, C on source speakers ({chosen})",
                     float(cells["ua"].mean())))
        folds = [g.split(" ") for g in cells["test_groups"]]
    return rows, folds


def direction(source: Path, target: Path, args, out: Path) -> None:
    """Print both sides of one direction."""
    start = time.perf_counter()
    theirs, folds = featbench_rows(source, target, args, out)
    merge = dict(item.split("=") for item in args.merge.split(",")) if args.merge else {}
    classes = args.classes.split(",")
    plain = plain_rows(pooled_layer(source, args.family, args.layer, merge, classes),
                       pooled_layer(target, args.family, args.layer, merge, classes), folds)
    print(f"\n{source.name} -> {target.name}: {args.family} layer {args.layer}, {len(classes)} classes, "
          f"{len(folds)} target folds, seed {args.seed}; UA averaged over folds ({time.perf_counter() - start:.0f} s)")
    for name, ua in plain + theirs:
        print(f"  {ua:6.1%}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--family", default="whisper")
    parser.add_argument("--layer", type=int, default=2)
    parser.add_argument("--merge", default="")
    parser.add_argument("--classes", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="keep featbench's results files here (default: a temporary folder)")
    parser.add_argument("--one-way", action="store_true", help="first -> second only")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        out.mkdir(parents=True, exist_ok=True)
        direction(args.first, args.second, args, out)
        if not args.one_way:
            direction(args.second, args.first, args, out)


if __name__ == "__main__":
    main()
