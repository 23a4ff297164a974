"""The embedded demo: the synthetic corpus through every stage that exists, in a few minutes.

Example: ``run_demo("featbench-demo", jobs=2)`` (or ``featbench demo``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

DEMO_FAMILIES = ["egemaps-func", "egemaps-lld", "compare-lld", "fbank", "raw"]


def run_demo(out: str | Path, jobs: int = 2, echo: Callable[[str], None] = print) -> dict:
    """Generate the demo corpus under out/corpus, extract into out/store; return the paths made."""
    from featbench.corpus import load_corpus
    from featbench.corpus.loaders import find_problems
    from featbench.corpus.table import summary_text
    from featbench.errors import FeatbenchError
    from featbench.extract import run_extraction

    out = Path(out)
    table = load_corpus("demo", out / "corpus")
    echo(summary_text(table, find_problems(table), name="demo corpus"))
    report = run_extraction(table, [(name, {}) for name in DEMO_FAMILIES], out / "store", jobs=jobs)
    echo(report.summary())
    if report.partial:
        raise FeatbenchError(f"demo extraction failed for {report.failed} clips; see {out / 'store' / 'errors.csv'}")
    return {"corpus": out / "corpus", "store": out / "store"}
