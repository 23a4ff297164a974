from pathlib import Path

import pandas as pd
import pytest

from featbench.corpus import load_corpus, parse_merge, select_labels
from featbench.corpus.loaders import find_problems
from featbench.corpus.table import make_table, summary_text
from featbench.errors import FeatbenchError
from tests.conftest import RAVDESS, needs_ravdess, write_wav


def test_ravdess_layout(tmp_path):
    for name in ["03-01-05-02-01-01-07", "03-01-01-01-01-01-08", "03-02-05-01-01-01-07", "01-01-05-01-01-01-07"]:
        write_wav(tmp_path / f"Actor_{name[-2:]}" / f"{name}.wav")
    table = load_corpus("ravdess", tmp_path)
    assert list(table.id) == ["03-01-01-01-01-01-08", "03-01-05-02-01-01-07"]  # song and video files skipped
    assert list(table.label) == ["neutral", "angry"]
    assert list(table.speaker) == ["ravdess_08", "ravdess_07"]
    assert (table.duration > 0.5).all()


def test_emodb_layout(tmp_path):
    for name in ["03a01Fa", "03a01Wa", "16b10Td", "readme"]:
        write_wav(tmp_path / "wav" / f"{name}.wav")
    table = load_corpus("emodb", tmp_path)
    assert dict(zip(table.id, table.label)) == {"03a01Fa": "happy", "03a01Wa": "angry", "16b10Td": "sad"}
    assert set(table.speaker) == {"emodb_03", "emodb_16"}


def test_cremad_layout(tmp_path):
    for name in ["1001_DFA_ANG_XX", "1091_WSI_NEU_XX", "1002_IEO_HAP_HI"]:
        write_wav(tmp_path / "AudioWAV" / f"{name}.wav")
    table = load_corpus("cremad", tmp_path, classes=["angry", "happy"])
    assert list(table.label) == ["angry", "happy"]
    assert list(table.speaker) == ["cremad_1001", "cremad_1002"]


def test_tess_layout(tmp_path):
    for folder, name in [("OAF_angry", "OAF_back_angry"), ("YAF_pleasant_surprised", "YAF_bean_ps"), ("OAF_Fear", "OAF_dog_fear")]:
        write_wav(tmp_path / "TESS Toronto emotional speech set data" / folder / f"{name}.wav")
    table = load_corpus("tess", tmp_path)
    assert dict(zip(table.id, table.label)) == {"OAF_back_angry": "angry", "YAF_bean_ps": "surprised", "OAF_dog_fear": "fearful"}
    assert set(table.speaker) == {"tess_OAF", "tess_YAF"}


def _iemocap_tree(root: Path) -> None:
    """Two sessions in the release layout, with the quirks of the real files."""
    labels = {
        1: [("Ses01F_impro01_F000", "neu"), ("Ses01F_impro01_M000", "exc"), ("Ses01F_impro01_F001", "fru"), ("Ses01F_impro01_M001", "xxx")],
        2: [("Ses02M_script01_1_F000", "hap"), ("Ses02M_script01_1_M003", "ang"), ("Ses02M_script01_1_F001", "sad")],
    }
    for session, items in labels.items():
        base = root / f"Session{session}"
        dialog = items[0][0].rsplit("_", 1)[0]
        lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        trans = []
        for i, (utt, code) in enumerate(items):
            lines += [f"[{i}.1000 - {i}.9000]\t{utt}\t{code}\t[2.5000, 3.0000, 3.5000]", "C-E2:\tNeutral;\t()", "A-F1:\tval 3; act 2; dom  3;\t()", ""]
            trans.append(f"{utt} [00{i}.1000-00{i}.9000]: Sentence number {i}.")
            write_wav(base / "sentences" / "wav" / dialog / f"{utt}.wav", seconds=0.8)
        (base / "dialog" / "EmoEvaluation" / "Categorical").mkdir(parents=True)
        (base / "dialog" / "EmoEvaluation" / f"{dialog}.txt").write_text("\n".join(lines))
        (base / "dialog" / "EmoEvaluation" / "Categorical" / f"{dialog}_e1_cat.txt").write_text(f"{items[0][0]} :Anger; ()\n")
        (base / "dialog" / "transcriptions").mkdir(parents=True)
        (base / "dialog" / "transcriptions" / f"{dialog}.txt").write_text("\n".join(trans + ["M: [BREATHING]"]))


def test_iemocap_layout_and_standard_four_classes(tmp_path):
    _iemocap_tree(tmp_path)
    table = load_corpus("iemocap", tmp_path)
    assert len(table) == 7
    four = load_corpus("iemocap", tmp_path, ["neutral", "happy", "sad", "angry"], parse_merge("excited=happy"))
    assert sorted(four.label) == ["angry", "happy", "happy", "neutral", "sad"]
    row = four.set_index("id").loc["Ses01F_impro01_M000"]
    assert (row.label, row.speaker, row.group) == ("happy", "Ses01M", "Session1")
    assert row.transcript == "Sentence number 1."
    assert Path(row.path).is_file()
    assert set(four.group) == {"Session1", "Session2"}


def test_csv_manifest_relative_paths_and_optional_columns(tmp_path):
    write_wav(tmp_path / "clips" / "a.wav")
    write_wav(tmp_path / "clips" / "b.wav")
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "m.csv").write_text("path,emotion,speaker,group,transcript\n../clips/a.wav,sad,s1,g1,hello\n../clips/b.wav,happy,s2,,\n")
    table = load_corpus("csv", tmp_path / "meta" / "m.csv")
    assert list(table.group) == ["g1", "s2"]
    assert list(table.transcript) == ["hello", ""]
    assert all(Path(p).is_file() for p in table.path)


def test_csv_manifest_missing_column_is_one_line_error(tmp_path):
    (tmp_path / "m.csv").write_text("file,emotion\na.wav,sad\n")
    with pytest.raises(FeatbenchError, match=r"m.csv: no column 'path'"):
        load_corpus("csv", tmp_path / "m.csv")


def test_select_and_merge():
    table = make_table([dict(id=str(i), path=f"/{i}.wav", label=lab, speaker="s") for i, lab in enumerate(["calm", "neutral", "sad", "angry"])])
    out = select_labels(table, ["neutral", "sad"], {"calm": "neutral"})
    assert sorted(out.label) == ["neutral", "neutral", "sad"]
    with pytest.raises(FeatbenchError, match="class 'happy' has no utterance"):
        select_labels(table, ["happy"])
    with pytest.raises(FeatbenchError, match="not of the form"):
        parse_merge("excited-happy")


def test_unknown_layout_and_empty_folder(tmp_path):
    with pytest.raises(FeatbenchError, match="unknown corpus layout"):
        load_corpus("voxceleb", tmp_path)
    with pytest.raises(FeatbenchError, match="no audio files"):
        load_corpus("ravdess", tmp_path)


def test_find_problems(tmp_path):
    a = write_wav(tmp_path / "a.wav")
    (tmp_path / "b.wav").write_bytes(a.read_bytes())
    (tmp_path / "c.wav").write_text("not audio")
    write_wav(tmp_path / "d.wav", seconds=0.05)
    rows = [dict(id=n, path=str(tmp_path / f"{n}.wav"), label="x", speaker="s") for n in "abcde"]
    from featbench.corpus.loaders import probe_durations

    problems = dict(find_problems(probe_durations(make_table(rows))).values)
    assert "byte-identical" in problems[str(tmp_path / "b.wav")]
    assert problems[str(tmp_path / "c.wav")] == "unreadable audio header"
    assert "too short" in problems[str(tmp_path / "d.wav")]
    assert problems[str(tmp_path / "e.wav")] == "missing file"
    assert str(a) not in problems


def test_demo_corpus_is_deterministic(tmp_path):
    from featbench.corpus import synthetic

    m1 = synthetic.generate(tmp_path / "one", per_class=1, speakers=2)
    m2 = synthetic.generate(tmp_path / "two", per_class=1, speakers=2)
    assert m1.read_text() == m2.read_text()
    for rel in pd.read_csv(m1).path:
        assert (m1.parent / rel).read_bytes() == (m2.parent / rel).read_bytes()
    table = load_corpus("demo", tmp_path / "one")
    assert len(table) == 8 and table.label.nunique() == 4 and table.speaker.nunique() == 2


@needs_ravdess
def test_real_ravdess():
    table = load_corpus("ravdess", RAVDESS)
    assert len(table) == 1440
    assert table.speaker.nunique() == 24
    counts = table.label.value_counts()
    assert counts["neutral"] == 96 and (counts.drop("neutral") == 192).all()
    assert abs(table.duration.sum() / 60 - 88.8) < 0.2
    four = load_corpus("ravdess", RAVDESS, ["neutral", "happy", "sad", "angry"])
    assert len(four) == 96 + 3 * 192
    text = summary_text(four, find_problems(four))
    assert "problems found: 1" in text and "byte-identical" in text


def test_file_name_ids_keep_the_extension_only_where_stems_clash(tmp_path):
    actor = tmp_path / "Actor_01"
    for i, name in enumerate(["03-01-01-01-01-01-01.wav", "03-01-01-01-01-01-01.flac", "03-01-05-02-01-01-01.wav"]):
        write_wav(actor / name, freq=200.0 + 50 * i)
    table = load_corpus("ravdess", tmp_path)
    assert list(table.id) == ["03-01-01-01-01-01-01.flac", "03-01-01-01-01-01-01.wav", "03-01-05-02-01-01-01"]
    assert list(table.label) == ["neutral", "neutral", "angry"]
    problems = dict(find_problems(table).values)
    assert problems == {str(actor / "03-01-01-01-01-01-01.wav"):
                        f"same name as {actor / '03-01-01-01-01-01-01.flac'} with another extension"}
    assert "same name" in summary_text(table, find_problems(table))


def test_csv_default_ids_keep_the_extension_only_where_paths_clash(tmp_path):
    for name in ["a.wav", "a.flac", "b.wav"]:
        write_wav(tmp_path / "clips" / name)
    (tmp_path / "m.csv").write_text("path,label,speaker\nclips/a.wav,sad,s1\nclips/a.flac,sad,s1\nclips/b.wav,sad,s2\n")
    table = load_corpus("csv", tmp_path / "m.csv")
    assert list(table.id) == ["clips/a.flac", "clips/a.wav", "clips/b"]


def test_duplicate_ids_are_one_line_naming_the_id_and_both_paths(tmp_path):
    write_wav(tmp_path / "a.wav")
    write_wav(tmp_path / "b.wav")
    (tmp_path / "m.csv").write_text("id,path,label,speaker\nx,a.wav,sad,s1\nx,b.wav,sad,s1\n")
    with pytest.raises(FeatbenchError) as err:
        load_corpus("csv", tmp_path / "m.csv")
    message = str(err.value)
    assert "\n" not in message
    assert f"duplicate utterance id 'x' ({tmp_path / 'a.wav'} and {tmp_path / 'b.wav'})" in message
    for layout_root in ("Actor_01", "Actor_02"):  # same file name in two folders: still a duplicate id
        write_wav(tmp_path / "rav" / layout_root / "03-01-01-01-01-01-01.wav")
    with pytest.raises(FeatbenchError, match=r"duplicate utterance id '03-01-01-01-01-01-01' \(.*Actor_01.* and .*Actor_02"):
        load_corpus("ravdess", tmp_path / "rav")


def _manifest(tmp_path: Path, lines: list[str]) -> Path:
    (tmp_path / "m.csv").write_text("path,label,speaker\n" + "\n".join(lines) + "\n")
    return tmp_path / "m.csv"


def test_csv_manifest_problems_are_one_line_with_spreadsheet_rows(tmp_path):
    for name in "abc":
        write_wav(tmp_path / f"{name}.wav")
    manifest = _manifest(tmp_path, ["a.wav,sad,s1", "b.wav,,s1", "gone.wav,sad,s1", "", "./a.wav,happy,s2", "c.wav, ,s2"])
    with pytest.raises(FeatbenchError) as err:
        load_corpus("csv", manifest)
    assert str(err.value) == (f"{manifest}: empty label in rows 3, 7; missing audio file in row 4 (gone.wav); "
                              "duplicate path in rows 2, 6 (a.wav)")


@pytest.mark.parametrize("lines, expected", [
    ([f"a{i}.wav,,s1" for i in range(13)], "empty label in rows 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 3 more"),
    (["a0.wav,sad,s1", ",sad,s1"], "missing audio file in row 3 (blank path)"),
    (["a0.wav,sad,s1", "a1.wav,sad,s1", "a0.wav,happy,s2", "a1.wav,sad,s3"], "duplicate path in rows 2, 3, 4, 5 (a0.wav)"),
])
def test_csv_manifest_each_problem_alone(tmp_path, lines, expected):
    for i in range(13):
        (tmp_path / f"a{i}.wav").write_bytes(b"never decoded: checked before any audio is read")
    manifest = _manifest(tmp_path, lines)
    with pytest.raises(FeatbenchError) as err:
        load_corpus("csv", manifest, probe=False)
    assert str(err.value) == f"{manifest}: {expected}"


def _corpus_command(*args):
    from typer.testing import CliRunner

    from featbench.cli import app

    result = CliRunner().invoke(app, ["corpus", *map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def test_corpus_says_why_per_speaker_normalisation_is_refused_where_speakers_hold_one_emotion(demo_corpus):
    manifest = pd.read_csv(demo_corpus / "manifest.csv", dtype=str, keep_default_na=False)
    kept = {s: ("angry", "sad")[i % 2] for i, s in enumerate(sorted(manifest.speaker.unique()))}
    manifest[manifest.label == manifest.speaker.map(kept)].to_csv(demo_corpus / "confounded.csv", index=False)
    text = _corpus_command("csv", demo_corpus / "confounded.csv")
    assert "speakers dominated by one class: 4 of 4 (100%)" in text
    assert "speaker-label mutual information: 100.0% of the label entropy" in text
    assert "train --normalise per-speaker refuses it" in text
    balanced = _corpus_command("demo", demo_corpus)
    assert "speakers dominated by one class: 0 of 4 (0%)" in balanced
    assert "speaker-label mutual information: 0.0% of the label entropy" in balanced
    assert "refuses" not in balanced


@needs_ravdess
def test_ravdess_actors_are_not_confounded_with_the_emotions():
    from featbench.corpus.balance import speaker_balance

    for classes in (None, ["neutral", "happy", "sad", "angry"]):
        table = load_corpus("ravdess", RAVDESS, classes, probe=False)
        balance = speaker_balance(table.speaker, table.label)
        assert balance.speakers == 24 and not balance.dominated and abs(balance.information) < 1e-12
        assert not balance.confounded


def test_symlinked_actor_folders_are_followed_once_and_loops_end(tmp_path):
    """A corpus folder of links to actor folders kept elsewhere (`Actor_01 -> /elsewhere/Actor_01`) is read through
    the links; a link back up the tree and a second link to the same folder add nothing."""
    elsewhere, corpus = tmp_path / "elsewhere", tmp_path / "corpus"
    write_wav(elsewhere / "Actor_07" / "03-01-01-01-01-01-07.wav")
    write_wav(elsewhere / "Actor_08" / "03-01-05-01-01-01-08.wav")
    corpus.mkdir()
    for actor in ("Actor_07", "Actor_08"):
        (corpus / actor).symlink_to(elsewhere / actor, target_is_directory=True)
    (corpus / "again").symlink_to(elsewhere / "Actor_08", target_is_directory=True)  # the same folder twice
    (elsewhere / "Actor_07" / "loop").symlink_to(corpus, target_is_directory=True)  # back up the tree
    table = load_corpus("ravdess", corpus)
    assert sorted(zip(table.speaker, table.label)) == [("ravdess_07", "neutral"), ("ravdess_08", "angry")]
    assert all(Path(path).is_relative_to(corpus) for path in table.path)


def test_corpus_shows_test_clips_per_class_per_fold_and_clips_that_are_one_clip_once_decoded(demo_corpus, tmp_path):
    """Issue 26: `corpus` shows each fold's test clips per class (a class resting on one speaker per test fold
    shows), and the same clip under another speaker, name, format and rate, within the corpus or in a second one."""
    import librosa
    import soundfile as sf

    manifest = pd.read_csv(demo_corpus / "manifest.csv", dtype=str, keep_default_na=False)
    text = _corpus_command("demo", demo_corpus)
    table = text.split("test clips per fold (rows) x class (columns):\n")[1].splitlines()
    assert table[0].split() == ["fold", "angry", "happy", "neutral", "sad", "total"]
    assert [line.split() for line in table[1:5]] == [[str(k), "2", "2", "2", "2", "8"] for k in range(4)]
    assert "near-duplicate clips (the same signal once decoded): none" in text
    first = manifest.iloc[0]
    samples, rate = sf.read(demo_corpus / first.path, dtype="float32")
    sf.write(tmp_path / "retake.flac", librosa.resample(samples, orig_sr=rate, target_sr=48000), 48000)
    copy = pd.DataFrame([dict(id="retake", path=str(tmp_path / "retake.flac"), label=first.label, speaker="someone")])
    manifest["path"] = [str(demo_corpus / p) for p in manifest.path]
    pd.concat([manifest, copy]).to_csv(tmp_path / "leaky.csv", index=False)
    text = _corpus_command("csv", tmp_path / "leaky.csv")
    assert "near-duplicate clips (the same signal once decoded): 1 pair(s), 1 across speaker groups" in text
    assert f"'{first.id}' (group {first.speaker}) ~ 'retake' (group someone)" in text
    copy.to_csv(tmp_path / "copy.csv", index=False)
    text = _corpus_command("csv", tmp_path / "copy.csv", "--against", "demo", demo_corpus)
    assert "(the same signal once decoded): 1 of 1;" in text
    assert f"'retake' ({tmp_path / 'retake.flac'}) ~ '{first.id}'" in text
