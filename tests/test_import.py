"""`featbench import`: precomputed embeddings into a store, and models of an imported family in `featbench predict`."""
from __future__ import annotations

import hashlib
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.corpus import load_corpus
from featbench.embeddings import Rows, run_import
from featbench.errors import FeatbenchError
from featbench.store import FamilyIndex, family_path, read_family, verify, write_corpus

runner = CliRunner()
SHAPE = (3, 5, 6)  # layers x frames x dim


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def class_arrays(table: pd.DataFrame, seed: int = 0, shape: tuple = SHAPE) -> dict[str, np.ndarray]:
    """{id: array} of random embeddings where layer k carries the clip's class with strength k (the last axis is dim)."""
    labels = sorted(table["label"].unique())
    rng = np.random.default_rng(seed)
    arrays = {}
    for uid, label in zip(table["id"], table["label"]):
        x = rng.normal(size=shape)
        strength = np.arange(shape[0]).reshape(-1, *[1] * (len(shape) - 2)) * 1.5 if len(shape) > 1 else 3.0
        x[..., labels.index(label)] += strength
        arrays[uid] = x.astype(np.float32)
    return arrays


def write_embeddings(table: pd.DataFrame, folder: Path, skip: tuple = (), extra: tuple = ("stranger",), seed: int = 0) -> dict:
    """One <id>.npy per clip of `table` but those in `skip`, plus clips `extra` that no corpus holds; {id: array}."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {u: a for u, a in class_arrays(table, seed).items() if u not in skip}
    arrays.update({u: np.zeros(SHAPE, np.float32) for u in extra})
    for uid, array in arrays.items():
        np.save(folder / f"{uid}.npy", array)
    return arrays


@pytest.fixture
def table(demo_corpus_master) -> pd.DataFrame:
    return load_corpus("demo", demo_corpus_master)


@pytest.fixture
def store(table, tmp_path) -> Path:
    """A store holding only its corpus table (corpus.csv of the demo corpus)."""
    (tmp_path / "store").mkdir()
    write_corpus(tmp_path / "store", table)
    return tmp_path / "store"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_lists_unmatched_ids_both_ways_and_stores_checked_rows(table, store, tmp_path):
    missing = table["id"].iloc[0]
    arrays = write_embeddings(table, tmp_path / "emb", skip=(missing,))
    result = _invoke("import", store, "--family", "toy-enc", "--from", tmp_path / "emb", "--describe", "toy, 3 layers")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "31 clips imported, 0 stored already" in lines[0] and "frames rows, 3 layers of 6 columns" in lines[0]
    assert lines[1] == f"1 id(s) are no clip of {store / 'corpus.csv'}, not imported: stranger"
    assert lines[2] == f"1 clip(s) of {store / 'corpus.csv'} have no embedding: {missing}"
    stored = read_family(store, "toy-enc")
    assert sorted(stored.ids) == sorted(set(table["id"]) - {missing})
    for uid in stored.ids:  # frames x (layer 0's columns, layer 1's, layer 2's)
        np.testing.assert_array_equal(stored.get(uid), np.moveaxis(arrays[uid], 0, 1).reshape(SHAPE[1], -1))
    index = FamilyIndex.read(family_path(store, "toy-enc"))
    assert index.checksums is not None and (index.meta.rows, index.meta.layers, index.meta.dim) == ("frames", 3, 18)
    assert index.meta.config["imported"] is True and index.meta.description == "toy, 3 layers"
    assert all(health.ok for health in verify(store))


def test_reimport_is_a_noop_and_other_arrays_or_descriptions_are_refused(table, store, tmp_path):
    arrays = write_embeddings(table, tmp_path / "emb", extra=())
    args = ["import", store, "--family", "toy-enc", "--from", tmp_path / "emb", "--describe", "toy"]
    assert _invoke(*args).exit_code == 0
    before = _sha(family_path(store, "toy-enc"))
    again = _invoke(*args)
    assert again.exit_code == 0 and "already imported (32 clips), nothing to do" in again.output
    np.savez(tmp_path / "same.npz", **arrays)  # the same arrays in another file: the same contents
    assert "nothing to do" in _invoke(*args[:4], "--from", tmp_path / "same.npz", "--describe", "toy").output
    assert _sha(family_path(store, "toy-enc")) == before

    for changed in (["--describe", "toy v2"], ["--from", tmp_path / "other"]):
        if changed[0] == "--from":
            write_embeddings(table, tmp_path / "other", extra=(), seed=1)
        result = _invoke(*args, *changed)
        assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
        assert "'toy-enc' holds other imported embeddings" in result.output and "another --family name" in result.output
    assert _sha(family_path(store, "toy-enc")) == before


def _npz_by_id(arrays: dict, folder: Path) -> Path:
    np.savez(folder / "e.npz", **arrays)
    return folder / "e.npz"


def _h5_matrix(arrays: dict, folder: Path) -> Path:
    with h5py.File(folder / "e.h5", "w") as h5:
        h5["ids"] = np.array(list(arrays), dtype=h5py.string_dtype())
        h5["embeddings"] = np.stack(list(arrays.values()))
    return folder / "e.h5"


def _h5_datasets(arrays: dict, folder: Path) -> Path:
    with h5py.File(folder / "e.h5", "w") as h5:
        for uid, array in arrays.items():
            h5[uid] = array
    return folder / "e.h5"


def _npz_folder(arrays: dict, folder: Path) -> Path:
    for uid, array in arrays.items():
        np.savez(folder / f"{uid}.npz", array)
    return folder


@pytest.mark.parametrize("shape, rows, write, kind, layers, dim", [
    ((6,), Rows.AUTO, _npz_by_id, "utterance", 0, 6),
    ((3, 6), Rows.AUTO, _h5_matrix, "utterance", 3, 6),  # ids + embeddings: one utterance row per clip
    ((5, 6), Rows.AUTO, _h5_datasets, "frames", 0, 6),
    ((3, 6), Rows.UTTERANCE, _npz_folder, "utterance", 3, 6),  # declared: layers x dim
])
def test_formats_and_row_kinds(table, store, tmp_path, shape, rows, write, kind, layers, dim):
    arrays = class_arrays(table, shape=shape)
    report = run_import(store, "emb", write(arrays, tmp_path), "d", rows)
    assert report.imported == 32 and not report.not_in_corpus and not report.without_embedding
    stored = read_family(store, "emb")
    assert (stored.meta.rows, stored.meta.layers, stored.meta.layer_dim) == (kind, layers, dim)
    uid = table["id"].iloc[5]
    expected = arrays[uid].reshape(1, -1) if kind == "utterance" else arrays[uid]
    np.testing.assert_array_equal(stored.get(uid), expected)


@pytest.mark.parametrize("problem, expected", [
    ("shapes", "does not fit the other clips' (frames rows, 3 layers of 6 columns)"),
    ("nan", "NaN or infinite values"),
    ("text", "are not numbers"),
    ("rows", "is not utterance rows (dim or layers x dim); see --rows"),
    ("name", "--family 'fbank' is a family featbench extracts"),
    ("no corpus", "no corpus.csv to match the ids with"),
    ("no match", "none of its 2 ids is a clip of"),
])
def test_bad_imports_are_one_line_errors_before_anything_is_written(table, store, tmp_path, problem, expected):
    arrays = class_arrays(table)
    first, second = sorted(arrays)[:2]
    family, rows, target = "emb", Rows.AUTO, store
    if problem == "shapes":
        arrays[second] = arrays[second][:, :, :4]
    elif problem == "nan":
        arrays[second][0, 0, 0] = np.nan
    elif problem == "text":
        arrays[second] = np.array(["a", "b"])
    elif problem == "rows":
        rows = Rows.UTTERANCE
    elif problem == "name":
        family = "fbank"
    elif problem == "no corpus":
        target = tmp_path / "elsewhere"
    elif problem == "no match":
        arrays = {"x1": arrays[first], "x2": arrays[second]}
    source = _npz_by_id(arrays, tmp_path)
    with pytest.raises(FeatbenchError) as err:
        run_import(target, family, source, "d", rows)
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert not family_path(store, family).exists() and not (store / ".pending").exists()


@pytest.fixture
def imported_model(table, store, tmp_path) -> Path:
    """A logreg on layer 2 of 'toy-enc' (imported for every clip but one), fitted and saved."""
    from featbench.model import FitSpec, fit_model

    write_embeddings(table, tmp_path / "emb", skip=(table["id"].iloc[0],))
    run_import(store, "toy-enc", tmp_path / "emb", "toy encoder, 3 layers")
    fit_model(FitSpec.of(store, "toy-enc@L2", "logreg")).model.save(tmp_path / "model")
    return tmp_path / "model"


def test_predict_reads_an_imported_family_from_a_store_and_refuses_to_extract_it(imported_model, table, store, tmp_path,
                                                                                  demo_corpus_master):
    alone = _invoke("predict", imported_model, demo_corpus_master, "--layout", "demo", "--out", tmp_path / "p.csv")
    assert alone.exit_code == 1 and len(alone.output.strip().splitlines()) == 1, alone.output
    assert "which featbench cannot extract" in alone.output and "featbench import STORE --family toy-enc" in alone.output
    assert "--store STORE" in alone.output and not (tmp_path / "p.csv").exists()

    stored = _invoke("predict", imported_model, demo_corpus_master, "--layout", "demo", "--store", store,
                     "--out", tmp_path / "p.csv", "--no-progress")
    assert stored.exit_code == 3, stored.output  # the clip without an embedding could not be labelled
    assert len(pd.read_csv(tmp_path / "p.csv")) == 31 and "UA 100.0% over 31 clips" in stored.output
    errors = pd.read_csv(tmp_path / "p_errors.csv")
    assert errors["id"].tolist() == [table["id"].iloc[0]] and "toy-enc: no imported embedding" in errors["reason"][0]

    speaker = table[table["speaker"] == "demo_f2"]  # new clips: a folder of audio, embeddings imported unlabelled
    write_embeddings(speaker, tmp_path / "new-emb", extra=())
    made = _invoke("import", tmp_path / "new", "--family", "toy-enc", "--from", tmp_path / "new-emb", "--describe",
                   "toy encoder, 3 layers", "--unlabelled")
    assert made.exit_code == 0, made.output
    new = _invoke("predict", imported_model, demo_corpus_master / "f2", "--store", tmp_path / "new", "--out",
                  tmp_path / "new.csv", "--no-progress")
    assert new.exit_code == 0, new.output
    out = pd.read_csv(tmp_path / "new.csv").set_index("id").loc[speaker["id"]]
    assert (out["predicted"].to_numpy() == speaker["label"].to_numpy()).mean() >= 0.75

    run_import(tmp_path / "other", "toy-enc", tmp_path / "new-emb", "another encoder", unlabelled=True)
    other = _invoke("predict", imported_model, demo_corpus_master / "f2", "--store", tmp_path / "other", "--out",
                    tmp_path / "o.csv")
    assert other.exit_code == 1 and len(other.output.strip().splitlines()) == 1
    assert "is not imported as the model's was (description 'toy encoder, 3 layers' -> 'another encoder')" in other.output


def test_unlabelled_import_is_refused_into_a_store_with_labels(table, store, tmp_path):
    write_embeddings(table, tmp_path / "emb", extra=())
    with pytest.raises(FeatbenchError, match="has labelled clips"):
        run_import(store, "toy-enc", tmp_path / "emb", unlabelled=True)


def test_an_interrupted_import_keeps_whole_clips_and_the_same_command_finishes_it(table, store, tmp_path, monkeypatch):
    from featbench.embeddings.imported import Layout

    arrays = write_embeddings(table, tmp_path / "emb", extra=())
    check, calls = Layout.check, []

    def interrupted(self, uid, *args):
        calls.append(uid)
        if len(calls) == len(arrays) + 10:  # every clip is checked before writing, then again as it is written
            raise KeyboardInterrupt
        return check(self, uid, *args)

    monkeypatch.setattr(Layout, "check", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_import(store, "toy-enc", tmp_path / "emb", "toy")
    monkeypatch.setattr(Layout, "check", check)
    kept = read_family(store, "toy-enc")
    assert len(kept.ids) == 9 and all(np.array_equal(kept.get(u), np.moveaxis(arrays[u], 0, 1).reshape(5, -1))
                                      for u in kept.ids)
    report = run_import(store, "toy-enc", tmp_path / "emb", "toy")
    assert (report.imported, report.already) == (23, 9) and len(read_family(store, "toy-enc").ids) == 32


def _ctrl_c_in_a_weakref_callback() -> None:
    """Ctrl-C arriving while Python runs a weakref callback (h5py's object registry runs them as objects die): the
    KeyboardInterrupt is raised inside the callback, which cannot raise, so Python reports it as unraisable
    ("Exception ignored in") and goes on."""
    import os
    import signal
    import weakref

    class Thing:
        pass

    def callback(_):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the interrupt is raised here, inside the callback
            pass

    thing = Thing()
    ref = weakref.ref(thing, callback)  # noqa: F841 - alive until the callback has run
    del thing


def test_a_ctrl_c_swallowed_during_the_write_phase_still_stops_the_import(table, store, tmp_path, monkeypatch):
    from featbench.store import StoreWriter

    arrays = write_embeddings(table, tmp_path / "emb", extra=())
    add, calls = StoreWriter.add, []

    def add_then_ctrl_c(self, *args, **kwargs):
        add(self, *args, **kwargs)
        calls.append(args[1])
        if len(calls) == 5:
            _ctrl_c_in_a_weakref_callback()

    monkeypatch.setattr(StoreWriter, "add", add_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):  # before the fix the import went on and finished: the Ctrl-C was lost
        run_import(store, "toy-enc", tmp_path / "emb", "toy")
    monkeypatch.setattr(StoreWriter, "add", add)
    kept = read_family(store, "toy-enc")
    assert sorted(kept.ids) == sorted(calls) and all(
        np.array_equal(kept.get(u), np.moveaxis(arrays[u], 0, 1).reshape(5, -1)) for u in kept.ids)
    report = run_import(store, "toy-enc", tmp_path / "emb", "toy")
    assert (report.imported, report.already) == (27, 5) and len(read_family(store, "toy-enc").ids) == 32


@pytest.mark.parametrize("setting, variable", [("abc", None), ("0", None), ("-1", None), ("inf", None), ("nan", None),
                                               (None, "abc"), (None, "0")])
def test_a_memory_budget_that_is_no_positive_number_is_one_line_before_anything_is_read(table, store, tmp_path,
                                                                                        monkeypatch, setting, variable):
    from featbench.embeddings.budget import VARIABLE

    write_embeddings(table, tmp_path / "emb", extra=())
    if variable is not None:
        monkeypatch.setenv(VARIABLE, variable)
    with pytest.raises(FeatbenchError) as err:
        run_import(store, "toy-enc", tmp_path / "emb", "toy", memory_gb=setting)
    named = f"--memory-gb {setting}" if setting is not None else f"{VARIABLE}={variable}"
    assert str(err.value).startswith(named) and "a number above 0" in str(err.value) and "\n" not in str(err.value)
    assert not family_path(store, "toy-enc").exists()


def test_the_memory_budget_bounds_each_read_and_comes_from_the_option_then_the_environment(table, store, tmp_path,
                                                                                           monkeypatch):
    from featbench.embeddings.budget import VARIABLE, MemoryBudget

    write_embeddings(table, tmp_path / "emb", extra=())  # clips of 3 x 5 x 6 float32 values: 90 x 20 bytes to read
    monkeypatch.setenv(VARIABLE, "0.000001")  # 1000 bytes: too little
    with pytest.raises(FeatbenchError, match=r"declares shape \(3, 5, 6\) of float32 \(1.8 KB to read\), more than the "
                                             rf"import's memory budget \(1e-06 GB, set by {VARIABLE}=0.000001\)"):
        run_import(store, "toy-enc", tmp_path / "emb", "toy")
    assert run_import(store, "toy-enc", tmp_path / "emb", "toy", memory_gb="0.000002").imported == 32  # the option wins
    monkeypatch.delenv(VARIABLE)
    auto = MemoryBudget.of()
    assert auto.origin.startswith("half the memory available") and 0 < auto.bytes
    result = _invoke("import", store, "--family", "toy-enc", "--from", tmp_path / "emb", "--describe", "toy",
                     "--memory-gb", "2")
    assert result.exit_code == 0 and "nothing to do" in result.output, result.output


def test_a_ctrl_c_that_h5py_turns_into_an_error_is_still_a_ctrl_c(table, store, tmp_path, monkeypatch):
    import os
    import signal

    from featbench.embeddings import hdf5

    source, listing = _h5_datasets(class_arrays(table), tmp_path), hdf5._datasets

    def interrupted(path, handle):  # as h5py's lock does: Ctrl-C inside it comes out as a SystemError
        try:
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):
                pass
        except KeyboardInterrupt as err:
            raise SystemError("<cyfunction FastRLock.__exit__> returned a result with an exception set") from err
        return listing(path, handle)

    monkeypatch.setattr(hdf5, "_datasets", interrupted)
    with pytest.raises(KeyboardInterrupt):  # not "featbench: error: ... cannot list its contents (SystemError ...)"
        run_import(store, "emb", source, "d")
    assert not family_path(store, "emb").exists()
