"""Benchmark: `featbench study plan` and `status` on a study of about 10,000 training cells (target: under 3 s each),
and what `study run` adds to the work it drives (target: under 2%), both on the demo corpus.

1. Plan/status: the demo corpus, families mfcc and fbank, 9 grids of 3 views x 4 classifiers x 4 budgets x 4 folds
   x 6 seeds (10,368 training cells); half of each grid's cells are marked done by rows copied from a real row.
   Printed: the wall time of `featbench study plan` and `status` as commands (interpreter start and imports included)
   and in-process (load + resolve + inventory + text), each the median of 3.
2. The committed study files (results/studies/*.toml, when ../shared holds their corpora and models): the wall
   time of `plan` and `status` as commands, median of 3. These check real model folders (Whisper-base's config,
   the text encoder's tokenizer), which the demo study does not.
3. Overhead: one small grid (mfcc, fbank; logreg; budgets 4,all; 4 folds; 2 seeds) run through the library calls
   featbench extract / train / compare make, then the same through `run_study` into a fresh output folder and stores;
   printed: both wall times and their ratio.

    .venv/bin/python benchmarks/study_plan.py

Last run (2026-12-07, idle 2-core machine): 10,368 training cells (5,184 done): plan 1.31 s and status 1.23 s as
commands, 0.37 / 0.34 s in-process; the small study through `run_study` 4.75 s against 4.74 s through the library
calls (ratio 1.002, medians of 3 alternated runs); committed files: multicorpus.toml plan 2.50 s / status 2.45 s,
ravdess-robustness.toml 2.48 / 2.43 s, ravdess.toml (text encoder: its tokenizer imports torch) 4.22 / 4.16 s.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

GRID = """
[[grids]]
name = "g{i}"
corpus = "demo"
features = ["mfcc", "fbank", "mfcc+fbank"]
classifiers = ["logreg", "svm", "lgbm", "mlp"]
budgets = [2, 4, 8, "all"]
seeds = [0, 1, 2, 3, 4, 5]
results = "g{i}.csv"
"""
HEAD = """
[study]
name = "big"
out = "out"
stores = "{stores}"

[corpora.demo]
layout = "demo"
root = "{root}"

[families.mfcc]
[families.fbank]

[protocol]
folds = 4
"""


def small_study(folder: Path, root: Path, stores: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "small.toml"
    path.write_text(HEAD.format(root=root, stores=stores) + """
[[grids]]
name = "small"
corpus = "demo"
features = ["mfcc", "fbank"]
classifiers = ["logreg"]
budgets = [4, "all"]
seeds = [0, 1]

[[reports]]
name = "small"
results = ["small"]
baseline = "fbank"
""")
    return path


def direct(root: Path, store: Path, out: Path) -> float:
    """The same work as the small study, through extract / train / compare's library calls."""
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction
    from featbench.report.compare import compare
    from featbench.train import Experiment, run_training

    start = time.perf_counter()
    run_extraction(load_corpus("demo", root), [("mfcc", {}), ("fbank", {})], store, progress=False)
    run_training(Experiment(store, ["mfcc", "fbank"], ["logreg"], [4, "all"], [0, 1], n_folds=4), out / "results.csv",
                 progress=False)
    compare([out / "results.csv"], out / "report", baseline="fbank")
    return time.perf_counter() - start


def fake_done(big: Path, template: pd.Series) -> None:
    """Half of every grid's cells written as rows (copies of a real row with the cell's key)."""
    from featbench.study import inventory, load_study, resolve

    resolved = resolve(load_study(big))
    for grid in resolved.study.grids:
        shape = resolved.shapes[grid.name]
        from featbench.study.cells import grid_cells

        cells = grid_cells(grid, shape, resolved.hashes["demo"])[::2]
        rows = pd.DataFrame([{**template.to_dict(), "view": c.view, "classifier": c.classifier, "budget": c.budget,
                              "fold": c.fold, "seed": c.seed, "family_config_hash": c.config_hash or template["family_config_hash"]}
                             for c in cells])
        grid.results.parent.mkdir(parents=True, exist_ok=True)
        rows.to_csv(grid.results, index=False)
    assert inventory(resolved).counts("train").done > 0


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    from featbench.results import read_results
    from featbench.study import inventory, load_study, resolve, run_study
    from featbench.study.text import render

    work = Path(tempfile.mkdtemp(prefix="featbench-study-bench-"))
    root = work / "corpus"
    small = small_study(work, root, work / "stores")
    run_study(load_study(small), progress=False)  # generates the corpus, extracts, and gives a template row
    through_study, through_calls = [], []
    for n in range(3):  # alternated, each into fresh stores and folders
        through_calls.append(direct(root, work / f"direct-store{n}", work / f"direct{n}"))
        through_study.append(run_study(load_study(small_study(work / f"again{n}", root, work / f"again-stores{n}")),
                                       progress=False).wall_seconds)
    through_study, through_calls = statistics.median(through_study), statistics.median(through_calls)
    print(f"small study (demo corpus, 2 families x logreg x 2 budgets x 4 folds x 2 seeds): library calls "
          f"{through_calls:.2f} s, study run {through_study:.2f} s (medians of 3, alternated), ratio {through_study / through_calls:.3f}")

    template = read_results(work / "out" / "small" / "results.csv", dtype=str).rows.iloc[0]
    big = work / "big" / "big.toml"
    big.parent.mkdir()
    big.write_text(HEAD.format(root=root, stores=work / "stores") + "".join(GRID.format(i=i) for i in range(9)))
    fake_done(big, template)
    resolved = resolve(load_study(big))
    cells = inventory(resolved).counts("train")
    print(f"big study: {cells.total} training cells, {cells.done} done")
    for command in ("plan", "status"):
        cli = [timed([sys.executable, "-m", "featbench", "study", command, str(big)]) for _ in range(3)]
        inner = []
        for _ in range(3):
            start = time.perf_counter()
            r = resolve(load_study(big))
            render(r, inventory(r), command)
            inner.append(time.perf_counter() - start)
        print(f"study {command}: command {statistics.median(cli):.2f} s, in-process {statistics.median(inner):.2f} s "
              f"(median of 3)")

    committed()


def committed() -> None:
    """`plan` and `status` of the committed study files whose corpora are here."""
    from featbench.errors import FeatbenchError
    from featbench.study import inventory, load_study, resolve

    studies = Path(__file__).resolve().parents[1] / "results" / "studies"
    for path in sorted(studies.glob("*.toml")):
        try:
            cells = inventory(resolve(load_study(path))).counts("train")
        except FeatbenchError as err:  # a study whose corpora or models are absent here is named, not timed
            print(f"{path.name}: not timed ({str(err).splitlines()[0]})")
            continue
        times = {c: statistics.median(timed([sys.executable, "-m", "featbench", "study", c, str(path)]) for _ in range(3))
                 for c in ("plan", "status")}
        print(f"{path.name}: {cells.total} training cells ({cells.done} done): plan {times['plan']:.2f} s, "
              f"status {times['status']:.2f} s (commands, median of 3)")


if __name__ == "__main__":
    main()
