"""The embedded demo: the synthetic corpus through the whole chain (generate, extract, train, compare).

It needs no download and takes a few minutes on 2 CPU cores. Example: ``run_demo("featbench-demo")``
(or ``featbench demo``); the report lands in ``featbench-demo/report/report.md``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

DEMO_FAMILIES = ["egemaps-func", "egemaps-lld", "compare-lld", "fbank", "raw"]
SEQUENCE_FAMILIES = ["egemaps-lld", "fbank", "raw"]
BUDGETS = [4, 8, 16, 32, "all"]


def run_demo(out: str | Path, jobs: int = 2, echo: Callable[[str], None] = print, sequence: bool = True) -> dict:
    """Generate the demo corpus, extract every family, train both grids, write the report; return paths."""
    from featbench.corpus import load_corpus
    from featbench.corpus.loaders import find_problems
    from featbench.corpus.table import summary_text
    from featbench.errors import FeatbenchError
    from featbench.extract import run_extraction
    from featbench.report.compare import compare
    from featbench.train.runner import Experiment, run_training

    out = Path(out)
    table = load_corpus("demo", out / "corpus")
    echo(summary_text(table, find_problems(table), name="demo corpus"))
    store = out / "store"
    report = run_extraction(table, [(name, {}) for name in DEMO_FAMILIES], store, jobs=jobs)
    echo(report.summary())
    if report.partial:
        raise FeatbenchError(f"demo extraction failed for {report.failed} clips; see {store / 'errors.csv'}")
    results = [out / "results" / "results.csv"]
    grid = Experiment(store, DEMO_FAMILIES, ["logreg", "svm", "lgbm", "mlp", "selected"], BUDGETS, [0, 1], n_folds=4, corpus="featbench-demo")
    echo(run_training(grid, results[0], jobs=jobs).summary())
    if sequence:
        results.append(out / "results" / "results_sequence.csv")
        seq = Experiment(store, SEQUENCE_FAMILIES, ["seq"], BUDGETS, [0], n_folds=4, corpus="featbench-demo", seq_epochs=15)
        echo(run_training(seq, results[1], jobs=jobs).summary())
    made = compare(results, out / "report", baseline="egemaps-func")
    echo("\n".join([*made["efficiency"], *made["plans"], f"report: {made['out'] / 'report.md'}"]))
    return {"corpus": out / "corpus", "store": store, "results": results, "report": made["out"]}
