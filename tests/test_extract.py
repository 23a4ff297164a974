import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest

from featbench.executors import Local
from featbench.corpus import load_corpus
from featbench.extract import run_extraction
from featbench.store import read_family
from tests.conftest import write_wav

FAMILIES = [("egemaps-lld", {}), ("fbank", {})]


def assert_same_store(a, b, families=("egemaps-lld", "fbank")):
    for name in families:
        fa, fb = read_family(a, name), read_family(b, name)
        assert list(fa.ids) == list(fb.ids)
        np.testing.assert_array_equal(fa.lengths, fb.lengths)
        np.testing.assert_array_equal(fa.features, fb.features)


@pytest.fixture(scope="module")
def serial_store(demo_corpus_master, tmp_path_factory):
    """FAMILIES of the demo corpus, extracted serially in one uninterrupted run: the reference of the tests below
    (read only; `demo_corpus` is a copy of the same clips)."""
    store = tmp_path_factory.mktemp("serial") / "store"
    run_extraction(load_corpus("demo", demo_corpus_master), FAMILIES, store, progress=False)
    return store


@pytest.mark.parametrize("kill_after_shards", [1, 4])
def test_resume_after_kill_gives_identical_arrays(demo_corpus, serial_store, tmp_path, kill_after_shards):
    table = load_corpus("demo", demo_corpus)

    store = tmp_path / "killed"
    script = textwrap.dedent(f"""
        from featbench.corpus import load_corpus
        from featbench.extract import run_extraction
        if __name__ == "__main__":
            run_extraction(load_corpus("demo", {str(demo_corpus)!r}), {FAMILIES!r}, {str(store)!r},
                           progress=False, flush_utterances=1)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if len(list((store / ".pending" / "fbank").glob("*.h5"))) >= kill_after_shards:
            break
        time.sleep(0.005)
    assert proc.poll() is None, "extraction finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    partial = read_family(store, "fbank")  # readable right after the kill
    assert 0 < len(partial.ids) < len(table)
    report = run_extraction(table, FAMILIES, store, progress=False)
    assert report.already_done >= len(partial.ids) - 1 and report.extracted + report.already_done == len(table)
    assert_same_store(serial_store, store)


@pytest.mark.parametrize("batch_size", [1, 4])
def test_bad_clips_are_reported_and_the_rest_extracted(demo_corpus, tmp_path, batch_size):
    manifest = demo_corpus / "manifest.csv"
    rows = pd.read_csv(manifest)
    bad = {"corrupt": "corrupt.wav", "empty": "empty.wav", "text": "notes.wav", "missing": "missing.wav",
           "silent": "silent.wav"}
    header = (demo_corpus / rows.path[0]).read_bytes()[:12]
    (demo_corpus / "corrupt.wav").write_bytes(header + np.random.default_rng(0).bytes(4000))
    write_wav(demo_corpus / "empty.wav", seconds=0.0)
    (demo_corpus / "notes.wav").write_text("not audio\n" * 100)
    import soundfile as sf

    sf.write(demo_corpus / "silent.wav", np.zeros(16000, np.float32), 16000)
    extra = pd.DataFrame([dict(id=k, path=v, label="sad", speaker="demo_f1") for k, v in bad.items()])
    pd.concat([rows, extra]).to_csv(manifest, index=False)

    table = load_corpus("demo", demo_corpus)
    report = run_extraction(table, FAMILIES, tmp_path / "store", progress=False, batch_size=batch_size)
    assert report.partial and report.failed == len(bad)
    assert report.extracted == len(rows)
    errors = pd.read_csv(tmp_path / "store" / "errors.csv")
    reasons = errors.drop_duplicates("id").set_index("id").reason
    assert set(reasons.index) == set(bad)
    assert reasons["missing"] == "missing file"
    assert "silent" in reasons["silent"] and "empty" in reasons["empty"]
    assert "unreadable" in reasons["text"] and "unreadable" in reasons["corrupt"]
    assert set(read_family(tmp_path / "store", "fbank").ids) == set(rows.id)


def test_changed_config_and_changed_audio_are_extracted_again(demo_corpus, tmp_path):
    table = load_corpus("demo", demo_corpus)
    store = tmp_path / "store"
    run_extraction(table, FAMILIES, store, progress=False)
    assert run_extraction(table, FAMILIES, store, progress=False).extracted == 0

    changed = run_extraction(table, [("fbank", {"n_mels": 40})], store, progress=False)
    assert changed.extracted == len(table)
    assert read_family(store, "fbank").features.shape[1] == 40

    target = table.iloc[3]
    write_wav(demo_corpus / os.path.relpath(target.path, demo_corpus), seconds=1.0, freq=300)
    again = run_extraction(table, FAMILIES, store, progress=False)
    assert again.extracted == 1 and again.already_done == len(table) - 1
    lld = read_family(store, "egemaps-lld")
    from featbench.audio import load
    from featbench.features import build_family

    fresh = build_family("egemaps-lld").extract(load(target.path), 16000)
    np.testing.assert_array_equal(lld.get(target.id), fresh)  # the new clip's features, not the old ones


def test_parallel_equals_serial(demo_corpus, serial_store, tmp_path):
    run_extraction(load_corpus("demo", demo_corpus), FAMILIES, tmp_path / "parallel", executor=Local(2), progress=False)
    assert_same_store(serial_store, tmp_path / "parallel")
