"""The HDF5 feature store: a folder with one file per feature family, crash-safe and resumable.

This package owns every file in a store folder: ``<family>.h5`` (see `files` for the layout),
shards of unfinished runs in ``.pending/``, ``corpus.csv``, ``errors.csv`` and ``corpus.json`` (see `tables`),
``transcripts.csv`` (speech-recognition output, see `transcripts`), ``timings.csv`` (what extraction took, see
`timings`).
Nothing else reads or writes them directly.

>>> 'StoreWriter' in __all__ and 'read_family' in __all__
True
"""
from featbench.row_kinds import RowKind
from featbench.store.files import FamilyIndex, checksum
from featbench.store.meta import FORMAT_VERSION, FamilyMeta
from featbench.store.reader import FamilyHealth, FeatureSet, family_path, list_families, read_family, verify
from featbench.store.tables import (CORPUS_FILE, ERRORS_FILE, corpus_name, read_corpus, write_corpus, write_corpus_name,
                                    write_errors)
from featbench.store.transcripts import TRANSCRIPTS_FILE, TranscriptsFile, read_transcripts, transcripts_path
from featbench.store.writer import StoreWriter

__all__ = [
    "CORPUS_FILE", "ERRORS_FILE", "corpus_name", "FORMAT_VERSION", "FamilyHealth", "FamilyIndex", "FamilyMeta", "FeatureSet",
    "RowKind", "StoreWriter", "TRANSCRIPTS_FILE", "TranscriptsFile", "checksum", "family_path", "list_families",
    "read_corpus", "read_family", "read_transcripts", "transcripts_path", "verify", "write_corpus", "write_corpus_name", "write_errors",
]
