"""Per-speaker normalisation (`train --normalise per-speaker`): each speaker's pooled features standardised on
all that speaker's clips, labels unread; rows and reports say so, and compare keeps it apart from the plain
protocol."""
import shutil

import numpy as np
import pandas as pd

from featbench.results import labels
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.errors import FeatbenchError
from featbench.results import Normalisation, Setup
from featbench.train.runner import Experiment, prepare_grid, run_training
from tests.conftest import store_copy_with

PS = " [per-speaker normalisation]"


def per_speaker(view: str, clips: int | None = None) -> Setup:
    """The Setup that keys a per-speaker view in GridData.views (typed, never its display name)."""
    return Setup(view, normalisation=Normalisation("per-speaker", clips))


def _add_voice_family(store, dim=6, frames=10, shift=6.0, seed=0):
    """Add 'voice', a frame family whose class signal (1.5 on the label's dimension) sits under a large offset
    per speaker (std `shift`), as voices differ more than emotions do."""
    from featbench.store import FamilyMeta, StoreWriter, read_corpus

    table = read_corpus(store)
    labels = sorted(table.label.unique())
    rng = np.random.default_rng(seed)
    offsets = {s: rng.normal(scale=shift, size=dim) for s in sorted(table.speaker.unique())}
    meta = FamilyMeta("voice", "synthetic voices", {}, "voicehash", {}, {}, 16000, 50.0, [f"v{d}" for d in range(dim)],
                      rows="frames")
    with StoreWriter(store) as writer:
        writer.prepare(meta)
        for uid, label, speaker in zip(table.id, table.label, table.speaker):
            x = rng.normal(size=(frames, dim)) + offsets[speaker]
            x[:, labels.index(label) % dim] += 1.5
            writer.add("voice", uid, "h" + uid, x.astype(np.float32))
        writer.consolidate("voice", list(table.id))


@pytest.fixture(scope="module")
def voices(demo_store, tmp_path_factory):
    return store_copy_with(demo_store, tmp_path_factory, "voices", _add_voice_family)


def _exp(store, **kw):
    base = dict(store=store, families=["voice", "egemaps-func"], classifiers=["logreg"], budgets=[1, 2, "all"],
                seeds=[0, 1], n_folds=4, corpus="demo")
    return Experiment(**{**base, **kw})


@pytest.fixture(scope="module")
def both_protocols(voices, tmp_path_factory):
    """One results file (read only) with `_exp(voices)` trained twice: plainly, then with per-speaker normalisation."""
    out = tmp_path_factory.mktemp("protocols") / "r.csv"
    run_training(_exp(voices), out, progress=False)
    run_training(_exp(voices, normalisation="per-speaker"), out, progress=False)
    return out


def test_per_speaker_normalisation_removes_a_speaker_offset_and_names_its_rows(both_protocols):
    rows = pd.read_csv(both_protocols)
    assert set(labels(rows)) == {"voice", "egemaps-func", "voice" + PS, "egemaps-func" + PS}
    assert set(rows.normalisation) == {"training", "per-speaker"} and set(rows.family) == {"voice", "egemaps-func"}
    full = rows[rows.budget == "all"].groupby(labels(rows)).ua.mean()
    assert full["voice" + PS] > 0.9 > 0.6 > full["voice"], full  # unseen voices hide the emotion; their own mean shows it


def test_statistics_cover_every_clip_of_the_speaker_and_read_no_label(voices, tmp_path):
    """The matrix a classifier sees: each speaker's rows standardised on all that speaker's clips, whatever
    --classes keeps; shuffling every label (within speakers) leaves it unchanged."""
    from featbench.store import read_corpus, read_family
    from featbench.train.pooling import pool

    two = ["angry", "happy"]
    data, *_ = prepare_grid(_exp(voices, families=["voice"], classes=two, normalisation="per-speaker"))
    corpus, fs = read_corpus(voices), read_family(voices, "voice")
    pooled = pd.DataFrame(pool(fs.features, fs.offsets, fs.lengths), index=fs.ids)
    assert set(corpus.label) > set(two)
    expected = []
    for uid in data.table.id:
        speaker_rows = pooled.loc[corpus.id[corpus.speaker == corpus.set_index("id").speaker[uid]]]
        expected.append((pooled.loc[uid] - speaker_rows.mean()) / speaker_rows.std(ddof=0))
    np.testing.assert_allclose(data.views[per_speaker("voice")].X, np.array(expected), rtol=1e-4, atol=1e-5)

    shuffled = tmp_path / "shuffled"
    shutil.copytree(voices, shuffled)
    table = pd.read_csv(shuffled / "corpus.csv", dtype=str, keep_default_na=False)
    rng = np.random.default_rng(0)
    for speaker in table.speaker.unique():
        mask = table.speaker == speaker
        table.loc[mask, "label"] = rng.permutation(table.loc[mask, "label"].to_numpy())
    table.to_csv(shuffled / "corpus.csv", index=False)
    assert (pd.read_csv(shuffled / "corpus.csv").label != corpus.label).any()
    a, *_ = prepare_grid(_exp(voices, families=["voice"], normalisation="per-speaker"))
    b, *_ = prepare_grid(_exp(shuffled, families=["voice"], normalisation="per-speaker"))
    np.testing.assert_array_equal(a.views[per_speaker("voice")].X, b.views[per_speaker("voice")].X)


def test_compare_keeps_the_protocols_apart_and_says_what_normalisation_saves(both_protocols, tmp_path):
    result = CliRunner().invoke(app, ["compare", str(both_protocols), "--baseline", "egemaps-func" + PS,
                                      "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    report = (tmp_path / "rep" / "report.md").read_text()
    claims = report.split("## Claims")[1].split("## Summary")[0]
    rows = [line.split(" | ")[:2] for line in claims.splitlines() if line.startswith("| ") and " of " in line + "n/a"]
    rows = [(entry.lstrip("| "), against) for entry, against in rows if entry != "| entry"]
    assert ("voice, per-speaker normalisation, logistic regression",
            "eGeMAPS functionals, per-speaker normalisation, logistic regression") in rows
    for entry, against in rows:  # a plain entry is never set against a normalised baseline
        assert "per-speaker normalisation" in entry or "per-speaker normalisation" not in against, (entry, against)
    efficiency = report.split("## Data efficiency")[1].split("## ")[0]  # entries by their plain names, never codes
    assert "voice, per-speaker normalisation" in efficiency and "voice (" not in efficiency
    assert "egemaps-func" not in efficiency
    section = report.split("## Normalisation: labels per-speaker statistics save")[1].split("## ")[0]
    assert ("per-speaker normalisation saves" in section and "for voice, logistic regression:" in section
            or "against voice, logistic regression: baseline at chance: no ratio" in section)  # plain voice: near chance
    assert "Normalisation: labels per-speaker statistics save" in (tmp_path / "rep" / "report.html").read_text()


def test_statistics_of_k_clips_per_speaker(voices):
    """per-speaker:K standardises each speaker on K of their clips, the same K clips for every view and seed."""
    from featbench.store import read_corpus

    exp = _exp(voices, families=["voice", "egemaps-func"], normalisation="per-speaker:3")
    data, *_ = prepare_grid(exp)
    assert set(data.views) == {per_speaker("voice", 3), per_speaker("egemaps-func", 3)}  # typed keys, not display names
    assert [s.label for s in data.views] == ["voice [per-speaker normalisation on 3 clips]",
                                             "egemaps-func [per-speaker normalisation on 3 clips]"]
    X = data.views[per_speaker("voice", 3)].X
    full, *_ = prepare_grid(_exp(voices, families=["voice"], normalisation="per-speaker"))
    assert not np.allclose(X, full.views[per_speaker("voice")].X, atol=1e-3)  # 3 clips are not all 8 of a speaker
    speakers = read_corpus(voices).set_index("id").speaker[data.table.id].to_numpy()
    for speaker in np.unique(speakers):  # exactly 3 rows per speaker were the reference: they alone have mean 0, std 1
        rows = X[speakers == speaker]
        hits = [set(c) for c in __import__("itertools").combinations(range(len(rows)), 3)
                if np.allclose(rows[list(c)].mean(0), 0, atol=1e-4) and np.allclose(rows[list(c)].std(0), 1, atol=1e-3)]
        assert len(hits) == 1, speaker
    again, *_ = prepare_grid(_exp(voices, families=["voice"], normalisation="per-speaker:3", seeds=[5]))
    np.testing.assert_array_equal(X, again.views[per_speaker("voice", 3)].X)


def test_a_speaker_with_one_clip_is_named_in_a_note(voices, tmp_path):
    thin = tmp_path / "thin"
    shutil.copytree(voices, thin)
    table = pd.read_csv(thin / "corpus.csv", dtype=str, keep_default_na=False)
    lone = table.speaker.iloc[0]
    drop = table.index[table.speaker == lone][1:]
    table.drop(index=drop).to_csv(thin / "corpus.csv", index=False)
    report = run_training(_exp(thin, families=["voice"], budgets=["all"], seeds=[0], n_folds=2,
                               normalisation="per-speaker"), tmp_path / "r.csv", progress=False)
    assert f"1 speaker(s) have fewer than 2 usable clips ({lone})" in report.summary()


def test_a_k_no_speaker_reaches_is_named_in_a_note(voices, tmp_path):
    report = run_training(_exp(voices, families=["voice"], budgets=["all"], seeds=[0], normalisation="per-speaker:100"),
                          tmp_path / "r.csv", progress=False)
    assert "no speaker has more than 8 usable clips, so every speaker's statistics use all of theirs" in report.summary()


def test_compare_says_why_there_is_no_headline_across_protocols(both_protocols, tmp_path):
    rows = pd.read_csv(both_protocols, dtype=str, keep_default_na=False)  # egemaps-func's rows alone, as they were
    rows[rows.family == "egemaps-func"].to_csv(tmp_path / "r.csv", index=False)
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "r.csv"), "--baseline", "egemaps-func",
                                      "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    headline = (tmp_path / "rep" / "report.md").read_text().split("## Claims")[1].split("## Summary")[0]
    assert "is under another protocol than the baseline's (another normalisation" in headline
    assert "Train with" not in headline


def test_the_old_per_corpus_spelling_still_works(voices):
    assert Experiment(voices, ["voice"], ["logreg"], ["all"], [0], per_corpus=True).normalisation.text == "per-corpus"
    with pytest.raises(FeatbenchError, match="disagree"):
        Experiment(voices, ["voice"], ["logreg"], ["all"], [0], per_corpus=True, normalisation="per-speaker")


@pytest.mark.parametrize("args, message", [
    (["--normalise", "per-speaker:²"], "per-speaker:K (the statistics of K >= 2 clips per speaker)"),
    (["--normalise", "per-speaker:1"], "per-speaker:K (the statistics of K >= 2 clips per speaker)"),
    (["--normalise", "per-corpus:4"], "--normalise per-corpus:4: choose"),
    (["--normalise", "per-voice"], "--normalise per-voice: choose training, per-corpus, per-speaker or per-speaker:K"),
    (["--normalise", "per-speaker", "--features", "voice", "--classifiers", "seq"], "per-speaker normalisation applies to pooled"),
])
def test_configuration_errors_are_one_line(voices, tmp_path, args, message):
    result = CliRunner().invoke(app, ["train", str(voices), "--out", str(tmp_path / "never.csv"), "--no-progress", *args])
    assert result.exit_code == 1 and message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not (tmp_path / "never.csv").exists()


def test_the_library_refuses_an_unknown_normalisation(voices, tmp_path):
    with pytest.raises(FeatbenchError, match="choose training, per-corpus, per-speaker"):
        prepare_grid(_exp(voices, normalisation="speaker"))


CONFOUNDED = " [per-speaker normalisation, speakers confounded]"


def _one_emotion_each(store):
    """Keep one emotion per speaker (angry or sad, two speakers each): speakers confounded with the labels."""
    table = pd.read_csv(store / "corpus.csv", dtype=str, keep_default_na=False)
    kept = {s: ("angry", "sad")[i % 2] for i, s in enumerate(sorted(table.speaker.unique()))}
    table[table.label == table.speaker.map(kept)].to_csv(store / "corpus.csv", index=False)


@pytest.fixture(scope="module")
def confounded(voices, tmp_path_factory):
    return store_copy_with(voices, tmp_path_factory, "confounded", _one_emotion_each)


def _train(store, tmp_path, *args):
    return CliRunner().invoke(app, ["train", str(store), "--out", str(tmp_path / "r.csv"), "--no-progress", "--features",
                                    "voice", "--classifiers", "logreg", "--budgets", "all", "--folds", "2", "--seeds", "0",
                                    *args])


def test_per_speaker_normalisation_of_speakers_confounded_with_the_labels_is_refused_in_one_line(confounded, tmp_path):
    result = _train(confounded, tmp_path, "--normalise", "per-speaker")
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert f"{confounded}: per-speaker normalisation refused: 4 of 4 speakers (100%)" in result.output
    assert "--confounded-ok" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "r.csv").exists()
    result = _train(confounded, tmp_path, "--normalise", "per-speaker:2")  # the K clips drawn are one class too
    assert result.exit_code == 1 and "per-speaker normalisation refused" in result.output, result.output
    assert _train(confounded, tmp_path).exit_code == 0  # the plain protocol is not concerned


def test_the_override_tags_every_row_and_the_report(confounded, tmp_path):
    result = _train(confounded, tmp_path, "--normalise", "per-speaker", "--confounded-ok")
    assert result.exit_code == 0, result.output
    assert "4 of 4 speakers (100%)" in result.output and "speakers_confounded" in result.output
    rows = pd.read_csv(tmp_path / "r.csv")
    assert set(labels(rows)) == {"voice" + CONFOUNDED} and rows.speakers_confounded.all()
    report = CliRunner().invoke(app, ["compare", str(tmp_path / "r.csv"), "--out", str(tmp_path / "rep")])
    assert report.exit_code == 0, report.output
    text = (tmp_path / "rep" / "report.md").read_text()  # in plain words, and its code in the legend
    assert "voice, per-speaker normalisation, speakers confounded with classes" in text
    assert "voice \\[per-speaker normalisation, speakers confounded\\]" in text


def test_a_balanced_corpus_passes_and_its_measure_is_noted(voices, tmp_path):
    result = _train(voices, tmp_path, "--normalise", "per-speaker", "--confounded-ok")
    assert result.exit_code == 0, result.output
    assert "0 of 4 speakers (0%) dominated by one class" in result.output
    assert "speaker-label mutual information 0.0% of the label entropy" in result.output
    assert set(labels(pd.read_csv(tmp_path / "r.csv"))) == {"voice" + PS}  # nothing to tag: the flag only permits


def _other_clips(store):
    """Make `store` another corpus: its own clips (ids 'o_...', audio hashes and rows no other store shares, and
    no audio files: the two-store check would otherwise find the same clips)."""
    from featbench.store import StoreWriter, read_corpus, read_family

    table = read_corpus(store)
    voice = read_family(store, "voice")
    for path in store.glob("*.h5"):
        path.unlink()
    moved = table.assign(id="o_" + table["id"], path="/nowhere/o_" + table["id"] + ".wav")
    moved.to_csv(store / "corpus.csv", index=False)
    with StoreWriter(store) as writer:
        writer.prepare(voice.meta)
        for uid in table["id"]:
            writer.add("voice", "o_" + uid, "o" + uid, voice.get(uid) + 1.0)
        writer.consolidate("voice", ["o_" + u for u in table["id"]])


def test_each_corpus_of_a_two_store_run_is_checked(voices, confounded, tmp_path_factory, tmp_path):
    other = store_copy_with(confounded, tmp_path_factory, "other", _other_clips)
    result = _train(voices, tmp_path, "--normalise", "per-speaker", "--classes", "angry,sad", "--add-store", str(other))
    assert result.exit_code == 1 and f"{other}: per-speaker normalisation refused" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_fit_refuses_it_too(confounded, tmp_path):
    result = CliRunner().invoke(app, ["fit", str(confounded), "--features", "voice", "--classifier", "logreg",
                                      "--normalise", "per-speaker", "--out", str(tmp_path / "model")])
    assert result.exit_code == 1 and "per-speaker normalisation refused" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_fit_takes_the_override_and_records_it(confounded, tmp_path):
    import json

    result = CliRunner().invoke(app, ["fit", str(confounded), "--features", "voice", "--classifier", "logreg",
                                      "--normalise", "per-speaker", "--confounded-ok", "--out", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
    assert "--confounded-ok" in result.output
    assert json.loads((tmp_path / "model" / "manifest.json").read_text())["training"]["speakers_confounded_ok"] is True


def test_the_override_without_per_speaker_normalisation_is_an_error(voices, tmp_path):
    result = _train(voices, tmp_path, "--confounded-ok")
    assert result.exit_code == 1 and "--confounded-ok" in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_normalisation_kinds_answer_for_themselves():
    """Each kind is exactly one of on_training_rows / per_corpus / per_speaker, and `apply` acts as that kind: X
    untouched on the training rows, each key (corpus, speaker) standardised on its own reference rows otherwise."""
    from featbench.protocol.normalisation import NORMALISATIONS, Normalisation, standardise_within

    X, keys = np.array([[1.0, 5.0], [3.0, 5.0], [10.0, 0.0], [30.0, 2.0]]), np.array(["a", "a", "b", "b"])
    for text in NORMALISATIONS + ("per-speaker:4",):
        n = Normalisation.parse(text)
        assert [n.on_training_rows, n.per_corpus, n.per_speaker].count(True) == 1, text
        if n.on_training_rows:
            assert n.apply(X, keys) is X
        else:
            np.testing.assert_array_equal(n.apply(X, keys), standardise_within(X, keys))
            np.testing.assert_array_equal(n.apply(X[:1], keys[:1], X, keys), standardise_within(X, keys)[:1])


def test_normalisation_kinds_are_decided_in_the_protocol_only():
    """No module outside featbench.protocol.normalisation compares a normalisation's kind (or a --normalise text)
    with a kind: they ask it (per_speaker, per_corpus, on_training_rows), so a new kind touches one module."""
    import ast
    from pathlib import Path

    from featbench.protocol.normalisation import NORMALISATIONS

    package = Path(__file__).parents[1] / "featbench"
    home = package / "protocol" / "normalisation.py"
    kinds = {"TRAINING", "PER_CORPUS", "PER_SPEAKER"}
    found = []
    for path in sorted(package.rglob("*.py")):
        if path == home:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            about = any("normalis" in ast.unparse(side) or "kind" in ast.unparse(side) for side in sides)
            kind = any((isinstance(s, ast.Name) and s.id in kinds) or (isinstance(s, ast.Constant) and s.value in NORMALISATIONS)
                       or (isinstance(s, ast.Tuple) and any(isinstance(e, ast.Name) and e.id in kinds for e in s.elts))
                       for s in sides)
            if about and kind:
                found.append(f"{path.relative_to(package)}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
