"""Entries in plain words, for the claims table and the headline figure: one formatter from the typed results columns
(results.Setup: view, layer choice, design, other corpus, normalisation, pooling, validation) and the entry's classifier,
never from parsing a display name.

>>> from featbench.results import TRANSFER, Normalisation, Setup
>>> plain_name(Setup("whisper@weighted"))
'Whisper encoder, learned weighted sum of layers'
>>> plain_name(Setup("egemaps-func", normalisation=Normalisation("per-speaker")))
'eGeMAPS functionals, per-speaker normalisation'
>>> plain_name(Setup("whisper@L6+text", TRANSFER, "crema"), "selected(logreg+svm)")
'Whisper encoder layer 6 + transcript text, plus every label of crema, classifier chosen on validation speakers among logistic regression and SVM'
>>> plain_name(Setup("ensemble(whisper@L4,egemaps-func)"))
'ensemble of Whisper encoder layer 4, eGeMAPS functionals (weights chosen on validation speakers)'
>>> plain_name(Setup("fbank"), "svm", oracle=True)
'log-Mel filter banks, SVM picked on the test folds (oracle)'
>>> from featbench.protocol.pooling import Pooling
>>> plain_name(Setup("whisper@L2", pooling=Pooling("mean")))
'Whisper encoder layer 2, mean pooling'
>>> report_title({"corpus": "ravdess", "n_classes": 8, "metric": "UA (balanced accuracy)"},
...              Setup("egemaps-func", normalisation=Normalisation("per-speaker")))
'ravdess, 8 classes, per-speaker normalisation'
"""
from __future__ import annotations

from featbench.layers import layer_number
from featbench.results import CCC_METRIC, CROSS, SELECTED, SOURCE, TRANSFER, Setup, is_selected

FAMILIES = {
    "egemaps-func": "eGeMAPS functionals", "egemaps-lld": "eGeMAPS frame descriptors",
    "compare-lld": "ComParE frame descriptors", "fbank": "log-Mel filter banks", "raw": "raw waveform",
    "whisper": "Whisper encoder", "hf": "pretrained encoder", "fairseq": "wav2vec 2.0 / HuBERT encoder",
    "wav2vec1": "wav2vec (2019) encoder", "text": "transcript text",
}
"""What each built-in family is, in words; any other family is shown by its own name."""

CLASSIFIERS = {
    "logreg": "logistic regression", "svm": "SVM", "lgbm": "LightGBM", "mlp": "MLP", "seq": "sequence model",
    "fusion": "attention fusion", "ridge": "ridge regression", "svr": "SVR",
}

LAYER_CHOICES = {"auto": "layer chosen on validation speakers", "weighted": "learned weighted sum of layers"}


def _part(part: str) -> str:
    """One part of a view ('whisper@L4', 'whisper@auto', 'text') in words."""
    family, _, choice = part.partition("@")
    name = FAMILIES.get(family, family)
    if not choice:
        return name
    layer = layer_number(choice)
    return f"{name} layer {layer}" if layer is not None else f"{name}, {LAYER_CHOICES.get(choice, choice)}"


def _among(classifier: str) -> str:
    """The candidates of a `selected` entry in words: 'among logistic regression and SVM', 'among every classifier'."""
    if classifier == SELECTED:
        return "among every classifier"
    names = [CLASSIFIERS.get(c, c) for c in classifier[len(SELECTED) + 1:-1].split("+")]
    return "among " + (" and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1])


def classifier_name(classifier: str, oracle: bool = False, short: bool = False) -> str:
    """'SVM', 'classifier chosen on validation speakers among ...', 'SVM picked on the test folds (oracle)'; `short`
    for a table column that says what a classifier is ('chosen on validation speakers among ...', 'SVM (oracle)').
    Two `selected` entries of other candidates never read alike.

    >>> classifier_name("selected(logreg+svm)"), classifier_name("selected", short=True)
    ('classifier chosen on validation speakers among logistic regression and SVM', 'chosen on validation speakers among every classifier')
    >>> classifier_name("lgbm", oracle=True), classifier_name("svm", True, True)
    ('LightGBM picked on the test folds (oracle)', 'SVM (oracle)')
    """
    if is_selected(classifier):
        return ("chosen on validation speakers " if short else "classifier chosen on validation speakers ") + _among(classifier)
    name = CLASSIFIERS.get(classifier, classifier)
    if oracle:
        return f"{name} (oracle)" if short else f"{name} picked on the test folds (oracle)"
    return name


def plain_name(setup: Setup, classifier: str | None = None, oracle: bool = False) -> str:
    """The entry of `setup` (and, when given, its `classifier`) in words; see the module's examples."""
    if setup.view.startswith("ensemble(") and setup.view.endswith(")"):  # train.ensemble
        words = ["ensemble of " + ", ".join(_part(m) for m in setup.view[len("ensemble("):-1].split(","))
                 + " (weights chosen on validation speakers)"]
    else:
        words = [" + ".join(_part(p) for p in setup.view.split("+"))]
    if setup.design == TRANSFER:
        words.append(f"plus every label of {setup.other}")
    elif setup.design == CROSS:
        words.append(f"trained on {setup.other} only")
    if not setup.normalisation.on_training_rows:
        words.append(setup.normalisation.label)
    if not setup.pooling.is_default:
        words.append(setup.pooling.label)
    if setup.normalisation.per_speaker and setup.confounded:
        words.append("speakers confounded with classes")
    if setup.validation != SOURCE:
        words.append(f"choices validated on the {setup.validation} corpus")
    if classifier is not None:
        words.append(classifier_name(classifier, oracle))
    return ", ".join(words)


def entry_names(entries: dict, setups: dict[str, Setup]) -> dict[str, str]:
    """family -> its entry (report.entries.Entry) in plain words, the one name reports give it: the classifier named
    unless chosen on validation speakers; an oracle pick said so. Two entries that would read alike keep their
    codes in brackets.

    >>> from featbench.report.entries import ONLY_ONE, ORACLE, SELECTED_ON_VALIDATION, Entry
    >>> e = {"whisper@auto": Entry("whisper@auto", "selected", SELECTED_ON_VALIDATION), "fbank": Entry("fbank", "svm", ORACLE),
    ...      "x": Entry("x", "lr", ONLY_ONE), "log-Mel filter banks": Entry("log-Mel filter banks", "svm", ORACLE)}
    >>> list(entry_names(e, {f: Setup(f) for f in e}).values())[:3]
    ['Whisper encoder, layer chosen on validation speakers', 'log-Mel filter banks, SVM picked on the test folds (oracle) [fbank]', 'x, lr']
    """
    from featbench.report.entries import SELECTED_ON_VALIDATION

    words = {f: plain_name(setups[f], None if e.how == SELECTED_ON_VALIDATION else e.classifier, oracle=not e.honest)
             for f, e in entries.items()}
    seen = list(words.values())
    return {f: f"{w} [{f}]" if seen.count(w) > 1 else w for f, w in words.items()}


def report_title(protocol: dict, baseline: Setup) -> str:
    """What a report is about, for its title and its figures' titles: the corpus (the rows' `corpus`), its classes
    (or dimensional target) and the baseline's normalisation where it is not on the training rows."""
    what = (f"target {protocol.get('classes', '')}" if protocol.get("metric") == CCC_METRIC
            else f"{protocol['n_classes']} classes")
    merged = ", merged classes" if protocol.get("merge") else ""
    normalised = f", {baseline.normalisation_label}" if not baseline.normalisation.on_training_rows else ""
    return f"{protocol['corpus']}, {what}{merged}{normalised}"
