"""Fit and predict: a benchmark entry trained once and saved as a folder (`fit`, `folder`), and new clips
labelled with it through the same feature code as `extract` (`predict`).

Public surface: `FitSpec`, `fit_model`, `Model`, `load_model`, `run_prediction`.

>>> from featbench.model import FitSpec, load_model
>>> FitSpec.__name__, load_model.__name__
('FitSpec', 'load_model')
"""
from featbench.model.fit import FitResult, FitSpec, fit_model
from featbench.model.folder import Model, load_model
from featbench.model.predict import PredictReport, run_prediction

__all__ = ["FitResult", "FitSpec", "Model", "PredictReport", "fit_model", "load_model", "run_prediction"]
