"""Reports from results rows only (never stores): learning curves, data-efficiency ratios, curve fits
and label-budget planning, summary tables and plots.

Public surface: `compare` (every artefact of one protocol's results; returns a `Report`), `Report`, `aggregate`,
`efficiency_ratio`, `plan_budget`.

>>> from featbench.report import compare
>>> compare.__name__
'compare'
"""
from featbench.report.aggregate import aggregate
from featbench.report.compare import compare
from featbench.report.curvefit import plan_budget
from featbench.report.efficiency import efficiency_ratio
from featbench.report.model import Report

__all__ = ["Report", "aggregate", "compare", "efficiency_ratio", "plan_budget"]
