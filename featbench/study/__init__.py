"""Studies: one TOML file names corpora, feature families, the protocol, the training grids and the reports;
`featbench study plan|run|status|report FILE` drives extract, train and compare through their library calls,
running only the cells whose content-keyed results are missing (docs/studies.md).

>>> from featbench.study import load_study, resolve, inventory, run_study, write_study_report
>>> callable(run_study)
True
"""
from featbench.study.inventory import Inventory, inventory
from featbench.study.resolve import Resolved, resolve
from featbench.study.parts import load_study
from featbench.study.spec import CorpusSpec, GridSpec, ReportSpec, Study


def __getattr__(name: str):
    """run_study, StudyRun and write_study_report, imported when first used (plan and status need neither)."""
    if name in ("run_study", "StudyRun"):
        from featbench.study import run

        return getattr(run, name)
    if name == "write_study_report":
        from featbench.study.report import write_study_report

        return write_study_report
    raise AttributeError(name)


__all__ = ["CorpusSpec", "GridSpec", "Inventory", "ReportSpec", "Resolved", "Study", "StudyRun", "inventory",
           "load_study", "resolve", "run_study", "write_study_report"]
