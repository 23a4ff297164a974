"""The results rows: one owner for their columns, the resume key, the protocol columns and budget order.

`train` writes rows through `ResultsFile` (one writer at a time, each task's rows appended in one
write, a torn last line from a killed run dropped and repaired); `report` reads them through
`read_results`. Nobody else knows the column list.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "results.csv")
>>> row = dict.fromkeys(RESULT_COLUMNS, "x") | dict.fromkeys(NUMERIC, 0) | {"budget": "8", "examples_per_class": 8.0}
>>> with ResultsFile(path) as results:
...     results.append([row])
...     len(results.keys)
1
>>> with open(path, "a") as f:
...     _ = f.write("x,x,x")  # a run killed in the middle of a line
>>> table = read_results(path)
>>> len(table.rows), table.notes[0].endswith("dropped an incomplete last line (a run was interrupted while writing it)")
(1, True)
"""
from featbench.results.columns import (CCC_METRIC, CLEAN, CONDITION_COLUMNS, CONDITIONED_COLUMNS, CONFOUNDED, COUNT_COLUMNS, CORE_COLUMNS, COST_COLUMNS, CROSS, DESIGNS, KEY, LEGACY, LEGACY_COLUMNS,
                                       NORMALISATIONS, NUMERIC, OLDEST_COLUMNS, PER_CORPUS, PER_SPEAKER,
                                       PROTOCOL_COLUMNS, RESULT_COLUMNS, SCHEMA, SELECTED, SETUP_COLUMNS, SOURCE,
                                       TARGET, TRAINING, TRANSFER, UA_METRIC, VALIDATIONS, WITHIN, budget_order,
                                       is_selected, row_key)
from featbench.results.checks import shown
from featbench.results.files import ResultsFile, ResultsTable, combine, read_results, read_results_file, upgrade_file
from featbench.results.legacy import upgrade_rows
from featbench.results.training_data import Normalisation, Setup, labels, setups

__all__ = ["CCC_METRIC", "CLEAN", "CONDITION_COLUMNS", "CONDITIONED_COLUMNS", "CONFOUNDED", "COUNT_COLUMNS", "CORE_COLUMNS", "COST_COLUMNS", "CROSS", "DESIGNS", "KEY", "LEGACY", "LEGACY_COLUMNS", "NORMALISATIONS", "NUMERIC",
           "OLDEST_COLUMNS", "PER_CORPUS", "PER_SPEAKER", "PROTOCOL_COLUMNS", "RESULT_COLUMNS", "SCHEMA", "SELECTED",
           "SETUP_COLUMNS", "SOURCE", "TARGET", "TRAINING", "TRANSFER", "UA_METRIC", "VALIDATIONS", "WITHIN",
           "Normalisation", "ResultsFile", "ResultsTable", "Setup", "budget_order", "combine", "is_selected", "labels",
           "read_results", "read_results_file", "row_key", "setups", "shown", "upgrade_file", "upgrade_rows"]
