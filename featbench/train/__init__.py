"""Training: the protocol (group folds, nested per-class budgets, seeds), the classifiers, and the grid
runner that writes results rows. `Experiment(target="arousal")` regresses a numeric corpus column instead
(train.target: regressors, CCC, budgets in utterances).

Public surface: `Experiment`, `run_training`, `TrainReport`, and the protocol's `make_folds`,
`budget_subset`, `default_n_folds`, `parse_budgets`, `parse_seeds`.

>>> from featbench.train import Experiment, run_training
>>> Experiment.__name__
'Experiment'
"""
from featbench.train.protocol import budget_subset, default_n_folds, make_folds, parse_budgets, parse_seeds
from featbench.train.runner import Experiment, TrainReport, run_training

__all__ = ["Experiment", "TrainReport", "budget_subset", "default_n_folds", "make_folds", "parse_budgets",
           "parse_seeds", "run_training"]
