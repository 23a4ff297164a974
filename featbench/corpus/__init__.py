"""Corpora: the utterance table and one loader per corpus layout.

>>> sorted(LOADERS)
['cremad', 'csv', 'demo', 'emodb', 'iemocap', 'ravdess', 'tess']
"""
from featbench.corpus.loaders import LOADERS, load_corpus
from featbench.corpus.table import COLUMNS, parse_merge, select_labels

__all__ = ["COLUMNS", "LOADERS", "load_corpus", "parse_merge", "select_labels"]
