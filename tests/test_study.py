"""`featbench study`: a small study on the demo corpus planned, run, killed with SIGKILL in the middle of training and
run again (no finished cell recomputed, scores identical to an uninterrupted run), and a family's option edited (only
its cells run again)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from featbench.errors import FeatbenchError
from featbench.results import read_results
from featbench.results.columns import KEY
from featbench.study import inventory, load_study, resolve, run_study

SCORES = ["ua", "wa", "macro_f1", "confusion", "val_ua", "choice", "ua_by_speaker", "hparams"]


def study_text(root: Path, out: str, stores: str, n_mfcc: int = 13) -> str:
    return f"""
[study]
name = "small"
out = "{out}"
stores = "{stores}"

[corpora.demo]
layout = "demo"
root = "{root}"

[families.mfcc]
n_mfcc = {n_mfcc}

[families.fbank]
n_mels = 24

[protocol]
folds = 4
seeds = [0, 1]
budgets = [4, "all"]
classifiers = ["logreg"]

[[grids]]
name = "main"
corpus = "demo"
features = ["mfcc", "fbank"]

[[reports]]
name = "main"
results = ["main"]
baseline = "fbank"
"""


def write_study(folder: Path, root: Path, out: str = "out", stores: str = "stores", **kw) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "small.toml"
    path.write_text(study_text(root, out, stores, **kw))
    return path


def scores(path: Path) -> pd.DataFrame:
    rows = read_results(path, dtype=str).rows
    return rows[KEY + SCORES].sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def finished(demo_corpus_master, tmp_path_factory):
    """The study run once, uninterrupted: (study file, its results)."""
    folder = tmp_path_factory.mktemp("study")
    path = write_study(folder, demo_corpus_master)
    outcome = run_study(load_study(path), progress=False)
    assert not outcome.failed, outcome.summary()
    return path, folder / "out" / "main" / "results.csv"


def test_run_does_every_cell_and_writes_the_reports(finished):
    path, results = finished
    inv = inventory(resolve(load_study(path)))
    assert inv.counts("train").total == 2 * 4 * 2 * 2 == inv.counts("train").done
    assert inv.counts("extract").missing == 0
    assert len(read_results(results).rows) == 32
    study_report = (path.parent / "out" / "study" / "report.md").read_text()
    assert "Claims per corpus" in study_report and "mfcc x logreg" in study_report
    assert (path.parent / "out" / "main" / "report.md").is_file()
    said: list[str] = []
    assert run_study(load_study(path), progress=False, say=said.append).steps_run == ["report main", "report study"]
    assert [line.split(": ")[1].split(" ")[0] for line in said] == ["started", "done"] * 2, said
    assert said[0].startswith("report main: started") and said[-1].startswith("report study: done in")
    from featbench.study.run import report_study

    assert report_study(load_study(path)).steps_run == ["report main", "report study"]


def _rows(path: Path) -> int:
    try:
        return max(0, len(path.read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


def test_sigkill_in_training_then_rerun_recomputes_nothing(finished, tmp_path):
    path, reference = finished
    stores = path.parent / "stores"  # extraction done: this run starts with training
    killed = write_study(tmp_path, load_study(path).corpora["demo"].root, out="out", stores=str(stores))
    results = tmp_path / "out" / "main" / "results.csv"
    child = subprocess.Popen([sys.executable, "-m", "featbench", "study", "run", str(killed), "--no-progress"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while _rows(results) < 8 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    before = _rows(results)
    assert 0 < before < 32, f"the kill came at {before} of 32 rows; the test needs it mid-training"
    kept = read_results(results, dtype=str).rows
    outcome = run_study(load_study(killed), progress=False)
    assert "train main" in outcome.steps_run and not outcome.failed
    after = read_results(results, dtype=str).rows
    assert len(after) == 32  # every cell once: nothing recomputed, nothing lost
    assert after.iloc[: len(kept)][KEY].equals(kept[KEY])  # the finished rows kept as they were
    pd.testing.assert_frame_equal(scores(results), scores(reference))  # byte-identical scores


def test_editing_one_family_reruns_only_its_cells(finished, tmp_path):
    path, reference = finished
    edited = write_study(tmp_path, load_study(path).corpora["demo"].root, out="out", stores=str(tmp_path / "stores"))
    import shutil

    shutil.copytree(path.parent / "stores", tmp_path / "stores")
    (tmp_path / "out" / "main").mkdir(parents=True)
    shutil.copyfile(reference, tmp_path / "out" / "main" / "results.csv")
    edited.write_text(study_text(load_study(path).corpora["demo"].root, "out", str(tmp_path / "stores"), n_mfcc=20))
    resolved = resolve(load_study(edited))
    clips = len(resolved.tables["demo"])
    missing = {re.sub(r" \(\d+ clips\)", "", line.what): line.counts.missing for line in inventory(resolved).lines}
    assert missing == {"mfcc": clips, "fbank": 0, "mfcc x logreg": 16, "fbank x logreg": 0}, missing
    old_hash = read_results(reference, dtype=str).rows.query("view == 'mfcc'")["family_config_hash"].iloc[0]
    from featbench.study.text import render

    said = [line for line in render(resolved, inventory(resolved), "plan").splitlines() if "x logreg" in line]
    assert f"16 missing (16 held under config hash {old_hash}:" in next(line for line in said if "mfcc" in line)
    assert "held under" not in next(line for line in said if "fbank" in line)
    outcome = run_study(load_study(edited), progress=False)
    rows = read_results(tmp_path / "out" / "main" / "results.csv", dtype=str).rows
    added = rows.iloc[32:]
    assert len(added) == 16 and set(added["view"]) == {"mfcc"}, outcome.summary()
    assert added["family_config_hash"].nunique() == 1
    assert added["family_config_hash"].iloc[0] not in set(rows.iloc[:32]["family_config_hash"])


def test_a_second_run_of_a_study_refuses_while_one_runs(finished):
    from featbench.locking import exclusive

    study = load_study(finished[0])
    with exclusive(study.out, f"study '{study.name}'"), pytest.raises(FeatbenchError, match="another featbench process"):
        run_study(study, progress=False)


def test_plan_runs_nothing_and_says_what_is_missing(demo_corpus_master, tmp_path):
    path = write_study(tmp_path, demo_corpus_master)
    out = subprocess.run([sys.executable, "-m", "featbench", "study", "plan", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "training cells (grid x view x classifier x budget x fold x seed x test condition): 32: 32 missing" in out.stdout
    assert not (tmp_path / "out").exists() and not (tmp_path / "stores").exists()


def test_ctrl_c_in_training_exits_130_in_one_line_and_keeps_the_rows(finished, tmp_path):
    path, _ = finished
    study = write_study(tmp_path, load_study(path).corpora["demo"].root, out="out", stores=str(path.parent / "stores"))
    results = tmp_path / "out" / "main" / "results.csv"
    child = subprocess.Popen([sys.executable, "-m", "featbench", "study", "run", str(study), "--no-progress"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while _rows(results) < 4 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert len([line for line in err.splitlines() if line.strip()]) == 1, err
    kept = _rows(results)
    assert 0 < kept < 32
    assert len(read_results(results).rows) == kept  # every stored row whole


def test_study_claims_say_per_condition_and_where_each_holds():
    from featbench.study.claims import claims_section, condition_claims_section

    def robust(verdict: str, test: str) -> dict:
        return {"entry": "fbank", "baseline": "egemaps-func", "train_condition": "clean", "test_condition": test,
                "budget": "all", "entry_drop": 0.1, "baseline_drop": 0.2, "difference": -0.1, "ci_low": -0.15,
                "ci_high": -0.05, "verdict": verdict}

    protocols = {"r8": {"claims": [{"entry": "w", "counterpart": "e", "verdict": "supported", "ratio": 4.0,
                                    "ci_low": 2.0, "ci_high": 8.0}],
                        "robustness_claims": [robust("supported", "white:10"), robust("supported", "telephone")]},
                 "n6": {"claims": [{"entry": "w", "counterpart": "e", "verdict": "not reached", "ratio": None}],
                        "robustness_claims": [robust("larger drop", "white:10")]}}
    section = condition_claims_section(protocols)
    table = next(b for b in section.blocks if hasattr(b, "rows"))
    assert [[c.text for c in row][:4] for row in table.rows] == [
        ["r8", "fbank", "egemaps-func", "clean -> white:10"], ["r8", "fbank", "egemaps-func", "clean -> telephone"],
        ["n6", "fbank", "egemaps-func", "clean -> white:10"]]
    said = [item for b in section.blocks for item in getattr(b, "items", [])]
    assert said == ["fbank against egemaps-func under white:10: holds in r8; fails in n6 (larger drop)"]
    holds = [item for b in claims_section(protocols).blocks for item in getattr(b, "items", [])]
    assert holds == ["w against e: holds in r8; fails in n6 (not reached)"]
    assert condition_claims_section({"r8": {"claims": []}}) is None


def test_a_corpus_with_a_whisper_folder_is_transcribed_first_once(demo_corpus_master, tiny_asr_whisper, tmp_path):
    whisper = tiny_asr_whisper
    text = study_text(demo_corpus_master, "out", "stores").replace(
        'root = "', f'transcribe = "{whisper}"\ntranscribe_language = "en"\nroot = "', 1)
    text = text.replace('features = ["mfcc", "fbank"]', 'features = ["mfcc"]\nbudgets = ["all"]\nseeds = [0]')
    text = text.split("[[reports]]")[0].replace("[families.fbank]\nn_mels = 24", "")  # no compare: seconds
    path = tmp_path / "small.toml"
    path.write_text(text)
    before = inventory(resolve(load_study(path)))
    assert before.counts("transcribe").missing == before.counts("transcribe").total > 0
    outcome = run_study(load_study(path), progress=False)
    assert not outcome.failed and outcome.steps_run[:2] == ["transcribe demo", "extract demo"], outcome.summary()
    transcripts = pd.read_csv(tmp_path / "stores" / "demo" / "transcripts.csv")
    assert len(transcripts) == before.counts("transcribe").total and set(transcripts["language"]) == {"en"}
    assert inventory(resolve(load_study(path))).counts("transcribe").done == before.counts("transcribe").total
    assert "transcribe demo" not in run_study(load_study(path), progress=False).steps_run


@pytest.mark.parametrize("lines, needle", [
    ('transcribe = "no-such-whisper"\n', "small.toml:9: [corpora.demo] transcribe"),
    ('transcribe_language = "en"\n', "small.toml:9: [corpora.demo] transcribe_language needs transcribe"),
])
def test_a_bad_transcribe_setting_is_one_line_with_its_line(demo_corpus_master, tmp_path, lines, needle):
    path = tmp_path / "small.toml"
    path.write_text(study_text(demo_corpus_master, "out", "stores").replace('root = "', lines + 'root = "', 1))
    with pytest.raises(FeatbenchError) as err:
        load_study(path)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_a_grid_with_its_own_jobs_runs_in_its_own_workers(demo_corpus_master, tmp_path):
    """A grid's `jobs` (train's --jobs) overrides the study's for that grid: a sequence grid whose workers each hold
    every clip's frames can run one at a time while the rest use both cores. With a scheduler it is refused."""
    text = study_text(demo_corpus_master, "out", "stores").replace('name = "small"', 'name = "small"\njobs = 2')
    path = tmp_path / "small.toml"
    path.write_text(text.replace('features = ["mfcc", "fbank"]', 'features = ["mfcc", "fbank"]\njobs = 1'))
    study = load_study(path)
    assert study.jobs == 2 and study.grids[0].jobs == 1
    outcome = run_study(study, progress=False)
    assert not outcome.failed and "train main" in outcome.steps_run, outcome.summary()
    assert len(read_results(tmp_path / "out" / "main" / "results.csv").rows) == 2 * 4 * 2 * 2
    path.write_text(text.replace("jobs = 2", 'scheduler = "tcp://127.0.0.1:8786"').replace(
        'features = ["mfcc", "fbank"]', 'features = ["mfcc", "fbank"]\njobs = 1'))
    with pytest.raises(FeatbenchError) as err:
        load_study(path)
    assert "small.toml:" in str(err.value) and "grid 'main': jobs is for local worker processes" in str(err.value)
