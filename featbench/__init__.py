"""featbench: which audio representation for speech emotion recognition, and how much labelled data.

The public surface is small; heavy libraries are imported lazily by the modules that need them.

>>> import featbench
>>> featbench.FeatbenchError.__name__
'FeatbenchError'
"""
from importlib.metadata import PackageNotFoundError, version

from featbench.errors import FeatbenchError

try:
    __version__ = version("featbench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["FeatbenchError", "__version__"]
