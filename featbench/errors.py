"""The one exception type the CLI turns into a one-line message and exit code 1.

>>> str(FeatbenchError("corpus.csv: no column 'label'"))
"corpus.csv: no column 'label'"
"""


class FeatbenchError(Exception):
    """A user-facing error: bad input, bad option, locked store. The message is one line."""


class StoreLockedError(FeatbenchError):
    """Another process is writing the same feature store."""
