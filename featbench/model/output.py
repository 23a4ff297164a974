"""Where `predict` writes: the predictions CSV (`--out`) and, beside it, the list of clips that failed
(``<out stem>_errors.csv``). Both carry a ``model`` column, the fingerprint of the model that wrote them (the
sha256 of its manifest, which holds the sha256 of every other file of the model folder).

`check_out` runs before any clip: predict writes a file only where it may. It refuses a path inside the model
folder, a folder, a path under a file, and an existing file that is not a predictions (or errors) file of the
same model, recognised by its columns (``id, path, ..., model``) and the fingerprint in every row; a predictions
file of the same model is an earlier run's, replaced. `write_csv` writes atomically (an interrupted run leaves
the earlier file whole), with formula-safe cells (`featbench.csv_cells`).

>>> errors_path(Path("out/predictions.csv"))
PosixPath('out/predictions_errors.csv')
"""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from featbench.csv_cells import write_people_csv
from featbench.errors import FeatbenchError

MODEL_COLUMN = "model"


def errors_path(out: Path) -> Path:
    """Where the clips that could not be labelled are listed, beside the predictions."""
    return out.with_name(f"{out.stem}_errors.csv")


def check_out(out: Path, model_folder: Path, fingerprint: str) -> None:
    """A one-line FeatbenchError unless predict may write `out` and its errors file (see the module's doc)."""
    folder = Path(model_folder).resolve()
    for path in (Path(out), errors_path(Path(out))):
        if path.resolve().is_relative_to(folder):
            raise FeatbenchError(f"{path}: inside the model folder {model_folder}; write the predictions elsewhere")
        if path.is_dir():
            raise FeatbenchError(f"{path}: is a folder; give --out a file name (e.g. {path / 'predictions.csv'})")
        above = next(p for p in path.absolute().parents if p.exists())
        if not above.is_dir():
            raise FeatbenchError(f"{above}: not a folder, so --out {out} cannot be written")
        if path.exists():
            _check_ours(path, fingerprint)


def _check_ours(path: Path, fingerprint: str) -> None:
    """`path` must be a predictions or errors file that the model `fingerprint` wrote."""
    try:
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise FeatbenchError(f"{path}: exists and is not a predictions file of featbench predict ({err}); choose "
                             "another --out") from None
    header = rows[0] if rows else []
    if header[:2] != ["id", "path"] or MODEL_COLUMN not in header or any(len(r) != len(header) for r in rows):
        raise FeatbenchError(f"{path}: exists and is not a predictions file of featbench predict (no id, path, ..., "
                             f"{MODEL_COLUMN} columns); choose another --out, or move the file away")
    column = header.index(MODEL_COLUMN)
    others = sorted({r[column] for r in rows[1:]} - {fingerprint})
    if others:
        raise FeatbenchError(f"{path}: holds the predictions of another model ({others[0]}; this one is {fingerprint}); "
                             "choose another --out, or move the file away")


def write_csv(frame: pd.DataFrame, path: Path, fingerprint: str) -> None:
    """`frame` with the model column, written to `path` atomically, its cells formula-safe (`csv_cells`: a label,
    id or path a spreadsheet would run is written as text; probabilities stay numbers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    write_people_csv(frame.assign(**{MODEL_COLUMN: fingerprint}), tmp)
    os.replace(tmp, path)
