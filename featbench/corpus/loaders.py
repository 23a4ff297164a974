"""The corpus registry: layout name -> loader, plus header probing and problem finding.

>>> load_corpus("nosuch", ".")
Traceback (most recent call last):
featbench.errors.FeatbenchError: unknown corpus layout 'nosuch'; choose from: cremad, csv, demo, emodb, iemocap, ravdess, tess
"""
from __future__ import annotations

from pathlib import Path
from collections.abc import Callable

import pandas as pd

from featbench.corpus import cremad, csv_manifest, emodb, iemocap, ravdess, synthetic, tess
from featbench.corpus.table import make_table, select_labels
from featbench.errors import FeatbenchError


def _demo(root: Path) -> list[dict]:
    """The embedded synthetic corpus: generated into root on first use (its manifest is written last).

    A clip gone missing from it is left to extraction, which lists it in errors.csv with the other bad clips.
    """
    manifest = root / "manifest.csv"
    return csv_manifest.load(manifest if manifest.is_file() else synthetic.generate(root), require_files=False)


LOADERS: dict[str, Callable[[Path], list[dict]]] = {
    "csv": csv_manifest.load,
    "ravdess": ravdess.load,
    "emodb": emodb.load,
    "cremad": cremad.load,
    "tess": tess.load,
    "iemocap": iemocap.load,
    "demo": _demo,
}


def probe_durations(table: pd.DataFrame) -> pd.DataFrame:
    """Fill missing durations from file headers (no decoding); unreadable headers stay NaN."""
    import soundfile as sf

    table = table.copy()
    for i in table.index[table["duration"].isna()]:
        try:
            table.at[i, "duration"] = sf.info(table.at[i, "path"]).duration
        except (sf.LibsndfileError, OSError, RuntimeError):
            pass  # reported as a problem by find_problems; decoding will try again with a fallback
    return table


def layout_name(name: str) -> str:
    """The registered layout `name` stands for (case and surrounding spaces ignored); one line if none.

    >>> layout_name(" RAVDESS")
    'ravdess'
    """
    layout = str(name).strip().lower()
    if layout not in LOADERS:
        raise FeatbenchError(f"unknown corpus layout '{name}'; choose from: {', '.join(sorted(LOADERS))}")
    return layout


def corpus_name_of(layout: str, root: str | Path) -> str:
    """The name a corpus goes by (in results rows and report titles): its layout's, or for a CSV manifest the
    name of the folder that holds it.

    >>> corpus_name_of("RAVDESS", "tour/corpus"), corpus_name_of("csv", "/data/nemo/metadata.csv")
    ('ravdess', 'nemo')
    """
    layout = layout_name(layout)
    return Path(root).expanduser().resolve().parent.name if layout == "csv" else layout


def load_corpus(name: str, root: str | Path, classes: list[str] | None = None,
                merge: dict[str, str] | None = None, probe: bool = True) -> pd.DataFrame:
    """Load a corpus layout (its name in any case: `RAVDESS` is `ravdess`) into the utterance table, then merge
    and select labels.

    Example: ``load_corpus("iemocap", "/data/IEMOCAP", ["neutral", "happy", "sad", "angry"], {"excited": "happy"})``.
    """
    layout = layout_name(name)
    root = Path(root).expanduser().resolve()
    table = select_labels(make_table(LOADERS[layout](root), name=f"{layout} at {root}"), classes, merge)
    return probe_durations(table) if probe else table


def find_problems(table: pd.DataFrame, min_duration: float = 0.25) -> pd.DataFrame:
    """Files that are missing, unreadable, empty, too short, byte-identical to another, or named like another
    but for the extension (columns: path, problem).

    >>> t = make_table([dict(id=i, path=f"/nowhere/a.{i}", label="x", speaker="s") for i in ("wav", "flac")])
    >>> find_problems(t).problem.tolist()
    ['missing file', 'same name as /nowhere/a.flac with another extension', 'missing file']
    """
    from featbench.audio import file_hash

    problems, first_seen, same_stem = [], {}, {}
    for row in table.itertuples():
        path = Path(row.path)
        other = next((p for p in same_stem.setdefault(path.stem, []) if p.suffix != path.suffix), None)
        same_stem[path.stem].append(path)
        if other is not None:
            problems.append((row.path, f"same name as {other} with another extension"))
        if not path.is_file():
            problems.append((row.path, "missing file"))
            continue
        if pd.isna(row.duration):
            problems.append((row.path, "unreadable audio header"))
        elif row.duration == 0:
            problems.append((row.path, "empty clip (0 samples)"))
        elif row.duration < min_duration:
            problems.append((row.path, f"too short ({row.duration:.3f} s)"))
        digest = file_hash(path)
        if digest in first_seen:
            problems.append((row.path, f"byte-identical to {first_seen[digest]}"))
        else:
            first_seen[digest] = row.path
    return pd.DataFrame(problems, columns=["path", "problem"])
