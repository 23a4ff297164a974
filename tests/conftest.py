"""Shared fixtures: a small demo corpus, tiny audio writers, and the ../shared data when present."""
from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FEATBENCH_SHARED", REPO.parent / "shared"))
RAVDESS = SHARED / "data" / "ravdess"
RAVDESS_48K = SHARED / "data" / "ravdess-48k-sample"

collect_ignore = ["plugin_package"]  # a package that test_plugins.py installs, not tests

needs_ravdess = pytest.mark.skipif(not RAVDESS.is_dir(), reason=f"real RAVDESS data not found at {RAVDESS}")
needs_ravdess_48k = pytest.mark.skipif(not RAVDESS_48K.is_dir(), reason=f"48 kHz RAVDESS sample not found at {RAVDESS_48K}")


def tone(seconds: float = 0.6, rate: int = 16000, freq: float = 220.0, channels: int = 1, seed: int = 0) -> np.ndarray:
    """A voiced-like test signal (harmonics plus a little noise), shape (n,) or (n, channels)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    x = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 6)) * 0.2 + rng.normal(0, 0.01, t.size)
    x = x.astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


def write_wav(path: Path, seconds: float = 0.6, rate: int = 16000, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, tone(seconds, rate, **kwargs), rate)
    return path


@pytest.fixture(scope="session", autouse=True)
def interruptible_children():
    """Ctrl-C tests send SIGINT to the CLI in a child process, as a terminal does to its foreground job. A suite
    started in the background (`make test &`) has SIGINT ignored, which every child would inherit (a process that
    starts with SIGINT ignored keeps ignoring it); give the children a terminal's default instead."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    yield


@pytest.fixture(scope="session")
def demo_corpus_master(tmp_path_factory) -> Path:
    """A small demo corpus (4 speakers x 4 emotions x 2 clips), generated once per session."""
    from featbench.corpus import synthetic

    root = tmp_path_factory.mktemp("demo") / "corpus"
    synthetic.generate(root, per_class=2, speakers=4)
    return root


@pytest.fixture
def demo_corpus(demo_corpus_master, tmp_path) -> Path:
    """A private copy of the small demo corpus, safe to modify."""
    copy = tmp_path / "corpus"
    shutil.copytree(demo_corpus_master, copy)
    return copy


@pytest.fixture(scope="session")
def demo_store(demo_corpus_master, tmp_path_factory) -> Path:
    """egemaps-func and egemaps-lld features of the small demo corpus, extracted once per session."""
    from featbench.corpus import load_corpus
    from featbench.extract import run_extraction

    store = tmp_path_factory.mktemp("store") / "demo"
    run_extraction(load_corpus("demo", demo_corpus_master), [("egemaps-func", {}), ("egemaps-lld", {})], store, progress=False)
    return store


LAYERS = 3  # of the synthetic all-layer family 'toy' in `layered`


def add_layered_family(store, seed=0, frames=12, dim=4, skip=(), shifted=None):
    """Add 'toy', an all-layer frame family: layer k carries class signal of strength k (layer 0 is noise);
    utterances in `skip` are left out. Layer `shifted` puts each class's signal one dimension further on (a cue
    that holds in this store only)."""
    from featbench.store import FamilyMeta, StoreWriter, read_corpus

    table = read_corpus(store)
    labels = sorted(table.label.unique())
    rng = np.random.default_rng(seed)
    meta = FamilyMeta("toy", "synthetic layers", {}, "toyhash", {}, {}, 16000, 50.0,
                      [f"L{k}_{d}" for k in range(LAYERS) for d in range(dim)], rows="frames", layers=LAYERS)
    kept = [u for u in table.id if u not in skip]
    with StoreWriter(store) as writer:
        writer.prepare(meta)
        for uid, label in zip(table.id, table.label):
            x = rng.normal(size=(frames, LAYERS, dim))
            for k in range(LAYERS):
                x[:, k, (labels.index(label) + (k == shifted)) % dim] += 1.2 * k
            if uid in kept:
                writer.add("toy", uid, "h" + uid, x.reshape(frames, -1).astype(np.float32))
        writer.consolidate("toy", kept)


def store_copy_with(demo_store, tmp_path_factory, name: str, add_family) -> Path:
    """A copy of demo_store (egemaps-func, egemaps-lld) in a fresh folder, with `add_family(store)` applied."""
    store = tmp_path_factory.mktemp(name) / "store"
    shutil.copytree(demo_store, store)
    add_family(store)
    return store


@pytest.fixture(scope="session")
def layered(demo_store, tmp_path_factory):
    """A copy of demo_store (egemaps-func, egemaps-lld) with the synthetic all-layer family 'toy'."""
    return store_copy_with(demo_store, tmp_path_factory, "layered", add_layered_family)


def dead_and_live_folders(parent: Path, prefix: str, marker: str) -> tuple[Path, Path]:
    """Two folders '<prefix><pid>-…' in `parent`, each holding a file `marker`: one named by the pid of a process
    that has ended (stale), one by this process's (live); what a killed run and a running one leave."""
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale, live = parent / f"{prefix}{dead.pid}-abc", parent / f"{prefix}{os.getpid()}-def"
    for folder in (stale, live):
        folder.mkdir()
        (folder / marker).write_text("x")
    return stale, live


@pytest.fixture
def fold_0_only(monkeypatch):
    """`run_training` trains the tasks of fold 0 alone: for tests that read fold 0's rows only (the other folds'
    tasks run the same code on other test speakers, and were thrown away unread). Rows and protocol are unchanged:
    they still name all the folds."""
    from featbench.train import runner

    every = runner._missing_tasks
    monkeypatch.setattr(runner, "_missing_tasks", lambda *args: [t for t in every(*args) if t.fold.index == 0])


# The expensive tests, marked `slow` here in one place: `make test-fast` (pytest -m "not slow") leaves them out for
# the inner loop; `make test` and CI run every test. A module, or one test of it, with what makes it expensive.
SLOW = {
    "tests/test_dask.py": "local Dask clusters, Ctrl-C and kill -9 of their clients and workers",
    "tests/test_faults.py": "kill -9 and Ctrl-C of child command lines at chosen moments",
    "tests/test_store_damage.py": "damaged stores read in child processes under time limits",
    "tests/test_selection.py": "grids with choices on validation speakers, the label-permutation check",
    "tests/test_transfer.py": "two-corpus grids on RAVDESS and the demo corpus",
    "tests/test_two_corpus_selection.py": "two-corpus grids with choices on either side",
    "tests/test_normalisation.py": "per-speaker normalisation grids and their reports",
    "tests/test_dimensional.py": "regression grids and sequence models on a target",
    "tests/test_fusion.py": "attention fusion and sequence models",
    "tests/test_iemocap_recipe.py": "the IEMOCAP recipe end to end",
    "tests/test_plugins.py": "a plug-in package installed with pip, and the chain on it",
    "tests/test_script_guard.py": "library scripts whose worker processes import them again",
    "tests/test_report_html.py": "report.html rendered in Chromium",
    "tests/hostile/test_plugins.py": "generated plug-ins, each imported in child processes",
    "tests/hostile/test_model_folders.py": "generated model folders, LightGBM texts parsed in child processes",
    "tests/hostile/test_checkpoints.py": "generated checkpoints and the CLI on crafted ones",
    "tests/hostile/test_import_sources.py": "generated import sources, Ctrl-C and memory-bound CLI runs",
    "tests/hostile/test_report_names.py": "whole reports rendered with hostile names",
    "tests/test_whisper_generation_config.py": "the real whisper-base",
    "tests/test_transcribe.py::test_real_whisper_base_on_ravdess_clips": "the real whisper-base on RAVDESS",
    "tests/test_pretrained_families.py::test_real_whisper_base": "the real whisper-base",
    "tests/test_pretrained_families.py::test_whisper_layer_4_is_layer_L4_of_every_layer": "the real whisper-base",
    "tests/test_docs.py::test_your_own_corpus_walkthrough_runs_as_written": "the walkthrough on four RAVDESS actors",
    # the slowest of the others in a run of the fast tier (seconds on 2 cores at load 5.7, about 2.4x a quiet run)
    "tests/test_transcribe.py::test_ctrl_c_and_kill_9_then_resume_give_the_text_of_an_uninterrupted_run": "39 s",
    "tests/test_train.py::test_same_seed_same_numbers_and_parallel": "37 s",
    "tests/test_report.py::test_compare_end_to_end": "26 s",
    "tests/test_extract.py::test_parallel_equals_serial": "19 s",
    "tests/test_extract.py::test_resume_after_kill_gives_identical_arrays": "18 s, two kill moments",
    "tests/test_executors.py::test_the_old_jobs_keyword_still_works_with_a_deprecation_warning": "18 s",
    "tests/test_storage.py::test_training_on_a_pooled_store_gives_the_same_rows": "16 s",
    "tests/test_results_schema.py::test_baseline_is_a_view_and_a_normalisation_and_a_typo_gets_the_closest_entry": "12 s",
    "tests/test_model.py::test_saved_model_predicts_in_a_fresh_process_as_in_memory": "12 s",
    "tests/test_report_model.py::test_summary_is_best_first_and_protocol_is_said_in_words": "11 s",
    "tests/test_report_model.py::test_headline_figure_draws_the_baseline_and_at_most_four_honest_entries": "11 s",
    "tests/test_transcribe.py::test_language_detected_per_clip_and_forcing_another_transcribes_again": "10 s",
}


# `make test` runs the suite in two pytest-xdist workers (Makefile: -n, --dist loadgroup). The modules below keep
# all their tests on one worker, one after another (an xdist_group): a module-scoped fixture that takes seconds is
# built once, not once per worker; and the modules that kill or interrupt child processes at chosen moments and
# time them ("children") never run beside each other, so that two of them never compete for the two cores.
CHILDREN = "children"
TOGETHER = {
    "tests/test_dask.py": CHILDREN,  # local Dask clusters (module fixture), kill -9 and Ctrl-C at moments
    "tests/test_faults.py": CHILDREN,
    "tests/test_store_damage.py": CHILDREN,
    "tests/test_transcribe.py": CHILDREN,
    "tests/test_extract.py": CHILDREN,
    "tests/test_study.py": CHILDREN,
    "tests/test_attentive_pooling.py": CHILDREN,  # Ctrl-C during an attention fit
    "tests/hostile/test_import_sources.py": CHILDREN,
    "tests/hostile/test_plugins.py": CHILDREN,
    "tests/test_normalisation.py": "test_normalisation",  # module fixtures of 3 to 10 s on a busy machine
    "tests/test_report_html.py": "test_report_html",
    "tests/test_transfer.py": "test_transfer",
    "tests/test_two_corpus_selection.py": "test_two_corpus_selection",
    "tests/test_plugins.py": "test_plugins",
    "tests/test_front_door.py": "test_front_door",
    "tests/test_storage.py": "test_storage",
    "tests/test_shared_clips.py": "test_shared_clips",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        test = item.nodeid.split("[")[0]
        if test in SLOW or test.split("::")[0] in SLOW:
            item.add_marker(pytest.mark.slow)
        group = TOGETHER.get(test.split("::")[0])
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def tiny_asr_whisper(tmp_path_factory) -> Path:
    """A tiny randomly initialised Whisper that `featbench transcribe` loads (tests.test_transcribe._save_tiny_whisper),
    made once per session; skipped without whisper-base, whose tokenizer it copies."""
    from tests.test_transcribe import WHISPER_BASE, _save_tiny_whisper

    if not WHISPER_BASE.is_dir():
        pytest.skip(f"the tokenizer files come from whisper-base, not found at {WHISPER_BASE}")
    return _save_tiny_whisper(tmp_path_factory.mktemp("tiny-whisper"))
