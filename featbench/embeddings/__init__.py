"""Precomputed embeddings: a family whose "extraction" is reading the user's files (`featbench import`).

`files` reads the formats (a folder of .npy/.npz per clip, one .npz or HDF5 file; `npy` and `hdf5` read them as
hostile input: within `budget`'s memory budget, checked against what they declare before anything is allocated,
no pickles, nothing outside the file), `imported` says how a clip's array becomes stored rows and what the
family's config hash is, `run` matches ids with the store's corpus table and writes through the store's writer
(Ctrl-C guarded). docs/import.md is the user's guide.

>>> from featbench.embeddings import is_imported
>>> is_imported({"imported": True, "content_sha256": "..."}), is_imported({"n_mels": 80})
(True, False)
"""
from featbench.embeddings.imported import IMPORTED, Layout, Rows, identity_differences, is_imported
from featbench.embeddings.run import ImportReport, run_import

__all__ = ["IMPORTED", "ImportReport", "Layout", "Rows", "identity_differences", "is_imported", "run_import"]
