"""Two stores that share a clip are refused, whatever the copy's format, rate, file names or speaker names
(issue 26, defect 2: a FLAC copy of the target's clips passed the byte-hash check; UA 0.667 -> 0.94)."""
from __future__ import annotations

import re
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from typer.testing import CliRunner

from featbench.cli import app
from featbench.clip_fingerprint import Fingerprints, near_duplicates
from featbench.corpus import load_corpus
from featbench.errors import FeatbenchError
from featbench.extract import run_extraction
from featbench.train import Experiment, run_training
from featbench.train.shared_clips import shared_by_hash
from tests.conftest import RAVDESS, RAVDESS_48K, needs_ravdess_48k

FEATURES = [("egemaps-func", {})]


def _copy(corpus_table: pd.DataFrame, folder, rate: int, fmt: str) -> pd.DataFrame:
    """The corpus's clips decoded and written again as `fmt` at `rate` Hz under new names and new speakers."""
    import librosa

    folder.mkdir(parents=True)
    rows = []
    for k, row in enumerate(corpus_table.itertuples()):
        samples, native = sf.read(row.path, dtype="float32")
        if rate != native:
            samples = librosa.resample(samples, orig_sr=native, target_sr=rate)
        path = folder / f"take_{k:03d}.{fmt}"
        sf.write(path, samples, rate, subtype="PCM_16")
        rows.append(dict(id=f"take_{k:03d}", path=str(path), label=row.label, speaker=f"reader_{row.speaker}"))
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    return load_corpus("csv", folder / "manifest.csv")


@pytest.fixture(scope="module")
def flac_copy(demo_corpus_master, tmp_path_factory):
    """The demo clips as 16 kHz FLAC (the same samples), renamed, as a store."""
    root = tmp_path_factory.mktemp("flac")
    run_extraction(_copy(load_corpus("demo", demo_corpus_master), root / "clips", 16000, "flac"), FEATURES,
                   root / "copy", progress=False)
    return root / "copy"


def _exp(store, **kw) -> Experiment:
    return Experiment(store=store, families=["egemaps-func"], classifiers=["logreg"], budgets=[2], seeds=[0], n_folds=2,
                      **kw)


def test_a_flac_copy_of_the_target_is_refused_naming_both_stores_and_a_pair(demo_store, flac_copy, tmp_path):
    """On main the copy passed (other file bytes) and the target's test speakers were trained on."""
    n = len(pd.read_csv(demo_store / "corpus.csv"))
    for exp, first, second in ((_exp(demo_store, add_store=flac_copy), "demo", "copy"),
                               (_exp(demo_store, test_store=flac_copy), "copy", "demo")):  # the test store first
        with pytest.raises(FeatbenchError) as err:
            run_training(exp, tmp_path / "r.csv", progress=False)
        message = str(err.value)
        assert f"{first} and {second} share {n} clip(s)" in message, message
        assert re.search(rf"e\.g\. '\w+' of {first} is '\w+' of {second}", message), message
    assert not (tmp_path / "r.csv").exists()


def test_a_resampled_renamed_wav_copy_is_refused_on_the_command_line(demo_corpus_master, demo_store, tmp_path):
    """48 kHz WAV, other names, other speakers: only the decoded signal tells; one line, exit 1, no rows."""
    clips = load_corpus("demo", demo_corpus_master)
    clips = clips[clips.speaker.isin(sorted(set(clips.speaker))[:2])]  # a copy of two speakers is enough to leak
    run_extraction(_copy(clips, tmp_path / "clips", 48000, "wav"), FEATURES, tmp_path / "wav48", progress=False)
    result = CliRunner().invoke(app, ["train", str(demo_store), "--add-store", str(tmp_path / "wav48"), "--features",
                                      "egemaps-func", "--classifiers", "logreg", "--budgets", "2", "--seeds", "0",
                                      "--folds", "2", "--out", str(tmp_path / "r.csv"), "--no-progress"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert f"share {len(clips)} clip(s)" in result.output and "the same signal once decoded" in result.output
    assert not (tmp_path / "r.csv").exists()


def test_a_copy_without_its_audio_is_refused_by_its_feature_rows(demo_store, flac_copy, tmp_path):
    """A store moved without its corpus: the FLAC copy's rows are the target's rows (the same samples); a note says
    which clips could not be decoded, and the run is refused all the same."""
    moved = tmp_path / "moved"
    shutil.copytree(flac_copy, moved)
    corpus = pd.read_csv(moved / "corpus.csv", dtype=str, keep_default_na=False)
    corpus["path"] = "/nowhere/" + corpus["id"] + ".flac"
    corpus.to_csv(moved / "corpus.csv", index=False)
    with pytest.raises(FeatbenchError, match=r"share \d+ clip\(s\).*identical 'egemaps-func' rows"):
        run_training(_exp(demo_store, add_store=moved), tmp_path / "r.csv", progress=False)


def test_transcripts_shared_by_two_corpora_are_not_shared_clips():
    """A text family's per-clip hash is its transcript's: two corpora reading one sentence share it, not a clip."""
    def family(rows, texts):
        return SimpleNamespace(ids=["u"], hashes=["h"], meta=SimpleNamespace(rows=rows), texts=texts)

    text = ({"text": family("tokens", ["kids are talking"])}, {"text": family("tokens", ["kids are talking"])})
    assert shared_by_hash(text, (["u"], ["u"])) == []
    audio = ({"f": family("utterance", None)}, {"f": family("utterance", None)})
    assert shared_by_hash(audio, (["u"], ["u"])) == [("u", "u", "the same file bytes")]


@needs_ravdess_48k
def test_a_48khz_ravdess_original_and_its_16khz_flac_are_one_clip():
    originals = sorted(RAVDESS_48K.glob("*/*.wav"))
    flacs = [RAVDESS / p.parent.name / f"{p.stem}.flac" for p in originals]
    if not all(p.is_file() for p in flacs):
        pytest.skip(f"the 16 kHz RAVDESS copies of {RAVDESS_48K}'s clips are not all in {RAVDESS}")
    a = Fingerprints.of_files([p.stem for p in originals], originals)
    b = Fingerprints.of_files([p.stem for p in flacs], flacs)
    assert not a.problems and not b.problems
    assert [(m.left, m.right) for m in near_duplicates(a, b)] == [(k, k) for k in range(len(originals))]
    assert near_duplicates(a) == [] and near_duplicates(b) == []  # and no two distinct clips of them match


def test_distinct_takes_do_not_match(demo_corpus_master):
    """The demo corpus's clips (one voice per speaker, the same sentences) are all told apart."""
    clips = load_corpus("demo", demo_corpus_master)
    prints = Fingerprints.of_files(clips["id"], clips["path"])
    assert len(prints.ids) == len(clips) and near_duplicates(prints) == []
    louder = Fingerprints.of([prints.ids[0]], [np.clip(sf.read(clips.path.iloc[0], dtype="float32")[0] * 2, -1, 1)])
    assert [m.left for m in near_duplicates(louder, prints)] == [0]


def _family_set(rows: np.ndarray, prefix: str):
    from featbench.store import FamilyMeta, FeatureSet

    meta = FamilyMeta("f", "utterance", {}, "h", {}, {}, 16000, 0.0, [f"c{k}" for k in range(rows.shape[1])])
    n = len(rows)
    return FeatureSet(meta, np.array([f"{prefix}{k}" for k in range(n)]), np.arange(n), np.ones(n, int),
                      np.array([""] * n), rows.astype(np.float32))


def test_feature_rows_within_float_rounding_are_one_clip_and_a_constant_family_is_not_compared():
    """The same clip extracted on another device or batch size differs by float rounding; a family whose rows are
    alike for many clips of one store (a constant plug-in) tells nothing and is left out."""
    from featbench.train.shared_clips import shared_by_rows

    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 24))
    b = np.vstack([a[:3] * (1 + 1e-6), rng.normal(size=(30, 24))])
    found = shared_by_rows("f", (_family_set(a, "a"), _family_set(b, "b")), ([f"a{k}" for k in range(40)],
                                                                          [f"b{k}" for k in range(33)]), ({}, {}))
    assert [(x, y) for x, y, _ in found] == [("a0", "b0"), ("a1", "b1"), ("a2", "b2")]
    constant = np.ones((40, 24))
    assert shared_by_rows("f", (_family_set(constant, "a"), _family_set(constant[:5], "b")),
                          ([f"a{k}" for k in range(40)], [f"b{k}" for k in range(5)]), ({}, {})) == []
