"""featbench: which audio representation for speech emotion recognition, and how much labelled data.

The public surface is small; heavy libraries are imported lazily by the modules that need them.

>>> import featbench
>>> featbench.FeatbenchError.__name__, featbench.__version__
('FeatbenchError', '0.4.0')
"""
from featbench.errors import FeatbenchError

__version__ = "0.4.0"
"""The one version of featbench (pyproject.toml reads it): bumped with the results schema (4), printed in every
report and by `featbench --version`."""

__all__ = ["FeatbenchError", "__version__"]
