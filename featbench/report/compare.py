"""`featbench compare`: results rows -> learning curves, summary tables, efficiency ratios, budget plans,
the choices made on validation speakers, and who the model fails (per gender, per test speaker).

Each family is represented by one entry (see report.entries): its `selected` classifier, else its only
classifier, else the oracle pick, labelled as such. The headline holds honest entries only. Every score is
the rows' metric (report.scale): UA, or CCC for a dimensional target (budgets in training utterances, no
confusion matrices); results of different metrics are different protocols, never compared together.

Example: ``compare(["results.csv"], "report/", baseline="egemaps-func", target_ua=0.6)`` writes
summary.csv/.md, efficiency.csv, planning.csv, choices.csv, layer_weights.csv, by_gender.csv,
by_speaker.csv, learning_curves*.png/.svg, confusion_matrices.png/.svg, protocol.json, report.md and
report.html into report/ (and cross_corpus_recall.csv where entries are trained on another corpus). Every row is
checked first (report.rows): a damaged row is one error line, and nothing is written.
"""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.results import SOURCE, TRANSFER, TRAINING, WITHIN, Normalisation, Setup, budget_order
from featbench.report.aggregate import aggregate, protocol_of, read_one_protocol, unit_matrix
from featbench.report.breakdown import breakdown_markdown, by_gender, by_speaker, spread_sentences
from featbench.report.choices import choice_table, choices_markdown, layer_weight_table
from featbench.report.crosscorpus import INTRO as CROSS_INTRO, cross_corpus
from featbench.report.curvefit import plan_budget
from featbench.report.efficiency import efficiency_ratio
from featbench.report.entries import family_entries, headline_families, setups_of
from featbench.report.html import HtmlParts, write_report_html
from featbench.report.plots import caption, confusion_matrices, learning_curves, learning_points
from featbench.report.scale import UA, Scale, scale_of
from featbench.report.tables import budget_note, summary_markdown, summary_table


TRANSFER_INTRO = ("Each 'view [+other]' entry trains on this corpus's budget plus every utterance of the other corpus, "
                  "under this corpus's speaker folds (its test speakers are used for the test only); the ratio is how "
                  "many fewer of this corpus's labels reach the view's full-data score, 95% bootstrap interval over folds.")

NORMALISATION_INTRO = ("Each 'view [per-speaker normalisation]' entry standardises every speaker's pooled features on the "
                       "mean and std of all that speaker's clips (labels unread; the test speakers' clips included, so it "
                       "assumes unlabelled audio of each speaker before predicting). The ratio is how many fewer labels it "
                       "needs to reach the plain view's full-data score, 95% bootstrap interval over folds.")


def transfer_sentence(eff, other: str, corpus: str, view: str, scale: Scale = UA) -> str:
    """'other saves N x of corpus's labels for view (interval): <the efficiency sentence>'."""
    if eff.at_chance:
        return eff.sentence(scale)
    if eff.ratio is None:
        saves = f"{other} does not save {corpus}'s labels for {view} within the measured budgets"
    else:
        what = f" of {corpus}'s labels for {view}"
        saves = f"{other} saves {eff.saved(what=what)}"
    return f"{saves}: {eff.sentence(scale)}"


def find_baseline(setups: dict, baseline: str, normalisation: Normalisation | None = None) -> str:
    """The entry `baseline` names: a display name as reports show it ('egemaps-func [per-speaker normalisation]'),
    or a view with `normalisation` (default: the view's plain entry, trained within the corpus, normalised on the
    training rows); else one line naming the closest entries (difflib).

    >>> s = {x.label: x for x in [Setup("egemaps-func"), Setup("egemaps-func", normalisation=Normalisation("per-speaker"))]}
    >>> find_baseline(s, "egemaps-func", Normalisation("per-speaker"))
    'egemaps-func [per-speaker normalisation]'
    >>> find_baseline(s, "egemaps-fnc")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: baseline 'egemaps-fnc' is not among the entries in the results; did you mean 'egemaps-func'? (entries: egemaps-func, egemaps-func [per-speaker normalisation])
    """
    import difflib

    if normalisation is None and baseline in setups:
        return baseline
    wanted = normalisation or Normalisation()
    found = [label for label, s in setups.items() if s.view == baseline and s.normalisation == wanted]
    plain = [label for label in found if setups[label].design == WITHIN and setups[label].validation == SOURCE
             and not setups[label].confounded]
    if len(found) == 1 or len(plain) == 1:
        return (plain or found)[0]
    if found:
        raise FeatbenchError(f"baseline '{baseline}' with {wanted.text} normalisation names {len(found)} entries "
                             f"({', '.join(found)}); give one of them as --baseline")
    asked = baseline if normalisation is None else Setup(baseline, normalisation=normalisation).label
    names = list(setups) + [v for v in dict.fromkeys(s.view for s in setups.values()) if v not in setups]
    close = difflib.get_close_matches(asked, names, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise FeatbenchError(f"baseline '{asked}' is not among the entries in the results{hint} "
                         f"(entries: {', '.join(setups)})")


def compare(results: list[str | Path], out: str | Path, baseline: str | None = None, target_ua: float | None = None,
            reference_budget: str | None = None, n_boot: int = 2000,
            baseline_normalisation: Normalisation | str | None = None) -> dict:
    """Write every report artefact for one protocol's results into `out`; return their paths and texts. `baseline`:
    an entry's display name, or a view whose `baseline_normalisation` entry is meant (see find_baseline)."""
    out = Path(out)
    rows, notes = read_one_protocol(results)  # every row checked: a damaged one stops here, before any file is written
    protocol = protocol_of(rows)
    scale = scale_of(protocol)
    agg = aggregate(rows)
    entries, setups = family_entries(agg), setups_of(agg)
    best = {family: entry.classifier for family, entry in entries.items()}
    labels = {family: entry.label for family, entry in entries.items()}
    oracle = {family for family, entry in entries.items() if not entry.honest}
    if baseline is None and baseline_normalisation is not None:
        raise FeatbenchError("--baseline-norm says which entry of the --baseline view; give --baseline too")
    normalisation = None if baseline_normalisation is None else Normalisation.parse(baseline_normalisation)
    baseline = find_baseline(setups, baseline, normalisation) if baseline is not None else protocol["families"][0]
    cap = caption(protocol)

    x_b, units_b, keys_b = unit_matrix(rows, baseline, best[baseline])
    budgets_b = budget_order(rows[rows.family == baseline])
    if reference_budget is not None and reference_budget not in budgets_b:
        raise FeatbenchError(f"reference budget '{reference_budget}' is not measured for {baseline} (budgets: {', '.join(budgets_b)})")
    ref_index = budgets_b.index(reference_budget) if reference_budget else len(budgets_b) - 1
    def paired(family: str, base: str, reference: int):
        """The efficiency ratio of `family` against `base` over the folds both have (None when they share none)."""
        x_a, units_a, keys_a = unit_matrix(rows, family, best[family])
        x_base, units_base, keys_base = unit_matrix(rows, base, best[base])
        common = [k for k in keys_a if k in set(keys_base)]
        if not common:
            return None
        ia, ib = [keys_a.index(k) for k in common], [keys_base.index(k) for k in common]
        return efficiency_ratio(x_a, units_a[ia], x_base, units_base[ib], labels[family], labels[base],
                                reference=reference, n_boot=n_boot, scale=scale)

    efficiency, sentences, by_family = [], [], {}
    base = setups[baseline]
    apart = [f for f in best if setups[f].protocol != base.protocol]
    # budgets counting another corpus's labels than the baseline's: no ratio (see report.crosscorpus)
    cross = [f for f in best if setups[f].trained_on != base.trained_on]
    for family, clf in best.items():  # per-speaker statistics or not: two protocols, never one ratio
        if family == baseline or family in apart or family in cross:
            continue
        eff = paired(family, baseline, ref_index)
        if eff is None:
            continue
        efficiency.append(eff.__dict__ | {"classifier": clf, "pick": entries[family].how, "sentence": eff.sentence(scale)})
        sentences.append(eff.sentence(scale))
        by_family[family] = eff.sentence(scale)

    transfer, normalised = [], []
    for family in best:  # each entry against its counterpart: what the other corpus / the normalisation saves
        setup = setups[family]
        within = setup.within().label  # 'view [+other]' against 'view': the labels of this corpus the other one saves
        if setup.design == TRANSFER and within in best and (eff := paired(family, within, -1)) is not None:
            other = setup.other + (f" ({setup.normalisation_label})" if setup.normalisation.kind != TRAINING else "")
            transfer.append(transfer_sentence(eff, other, str(protocol["corpus"]), labels[within], scale))
        # 'view [per-speaker normalisation]' against 'view', validated alike
        plain = replace(setup, normalisation=Normalisation(), confounded=False).label
        if (setup.per_speaker and plain in best
                and (eff := paired(family, plain, -1)) is not None):
            normalised.append(transfer_sentence(eff, setup.normalisation_label, str(protocol["corpus"]), labels[plain],
                                                scale))

    plans = []
    target = target_ua if target_ua is not None else float(units_b[:, ref_index].mean())
    for family, clf in best.items():
        x, units, _ = unit_matrix(rows, family, clf)
        try:
            plan = plan_budget(x, units, target, family, clf if family not in oracle else f"{clf}, oracle")
        except RuntimeError as err:
            plans.append({"family": family, "classifier": clf, "target": target, "sentence": f"{labels[family]}: curve fit failed ({err})"})
            continue
        plans.append({**plan.__dict__, "params": json.dumps(plan.params), "at_bound": "; ".join(plan.at_bound),
                      "sentence": plan.sentence(scale)})

    cross_sentences, recall = cross_corpus(rows, agg, best, labels, scale, str(protocol["corpus"]))
    honest = [f for f in headline_families(entries, baseline, setups) if f not in cross]
    headline = [by_family[f] for f in honest if f in by_family]
    same_protocol = [f for f in best if f != baseline and f not in cross
                     and setups[f].normalisation == base.normalisation]
    if not headline and baseline not in oracle and not same_protocol:
        headline_note = (f"No headline: every other entry is under another normalisation than the baseline's "
                         f"({', '.join(f for f in best if f != baseline)}), another protocol; compare entries of one "
                         "normalisation, or read their own sections.")
    elif not headline:
        why = (f"the baseline's classifier ({best[baseline]}) was picked on the test folds" if baseline in oracle
               else "no other family under the baseline's normalisation has an entry chosen without the test speakers")
        headline_note = (f"No honest headline: {why}. Train with `--classifiers selected` (classifier chosen on "
                         "validation speakers), a single classifier, or `@auto`/`@weighted` views; oracle ratios are "
                         "listed under Data efficiency, labelled.")
    else:
        headline_note = ("Every choice behind these entries (layer, classifier, hyper-parameters) was made on "
                         "validation speakers drawn from the training speakers of each fold.")
    choices, weights = choice_table(rows), layer_weight_table(rows)
    all_entries = [(f, best[f]) for f in best]
    speakers, genders = by_speaker(rows, all_entries), by_gender(rows, all_entries)
    shown = {(f, best[f]) for f in ([baseline, *honest] if honest else best)}  # the baseline and headline entries
    speakers_shown, genders_shown = (  # a boolean array, also when empty (an empty list would select no columns)
        frame[np.array([(f, c) in shown for f, c in zip(frame.family, frame.classifier)], dtype=bool)]
        for frame in (speakers, genders))
    chance = scale.chance

    out.mkdir(parents=True, exist_ok=True)
    summary_table(agg, best, oracle, scale).to_csv(out / "summary.csv", index=False)
    markdown = summary_markdown(agg, best, cap, oracle, scale)
    (out / "summary.md").write_text(markdown)
    pd.DataFrame(efficiency).to_csv(out / "efficiency.csv", index=False)
    pd.DataFrame(plans).to_csv(out / "planning.csv", index=False)
    agg.to_csv(out / "curves.csv", index=False)
    choices.to_csv(out / "choices.csv", index=False)
    weights.to_csv(out / "layer_weights.csv", index=False)
    speakers.to_csv(out / "by_speaker.csv", index=False)
    if not recall.empty:
        recall.to_csv(out / "cross_corpus_recall.csv", index=False)
    genders.to_csv(out / "by_gender.csv", index=False)
    figures = (learning_curves(agg, best, protocol, out, labels) + learning_points(rows, agg, best, protocol, out, labels)
               + confusion_matrices(rows, best, protocol, out, labels))
    (out / "protocol.json").write_text(json.dumps({
        **protocol, "caption": cap, "baseline": labels[baseline], "reference_budget": budgets_b[ref_index],
        "target_ua": target, "entries": {f: {"classifier": e.classifier, "pick": e.how} for f, e in entries.items()},
        "headline_families": honest, "results": [str(r) for r in results]}, indent=2) + "\n")
    target_note = "the baseline's score at its reference budget" if target_ua is None else "given"
    efficiency_intro = (
        f"{'' if scale.percent else f'Scores are {scale.metric}; budgets count training utterances. '}"
        f"Baseline {labels[baseline]} at budget {budgets_b[ref_index]}; each family with its entry (its `selected` "
        "classifier, else its only one, else the best on the test folds, marked 'oracle': biased upwards); 95% "
        "bootstrap interval over folds (test speaker groups, seeds averaged within a fold), paired; both ends always "
        "stated. '>=' marks a ratio (or an interval end) reached at the smallest budget tried (a lower bound), '<' one "
        "never reached (an upper bound). Beside each ratio, the labels saved against where the baseline stops "
        f"improving: its smallest budget whose mean {scale.name} reaches the 95% t-interval of its reference score "
        "(a flat baseline inflates the first ratio, not this one). A baseline whose interval holds "
        f"{scale.chance_name} ({scale.fmt(scale.chance)}) gives no ratio."
        + (f" The budgets of {', '.join(f for f in best if setups[f].design == TRANSFER)} count this corpus's labels "
           "only; every utterance of the other corpus comes on top." if any(setups[f].design == TRANSFER for f in best)
           else "")
        + (f" Not compared with the baseline, being under another protocol (per-speaker normalisation or not, or validated elsewhere): "
           f"{', '.join(apart)}{'; see Normalisation' if normalised else ''}." if apart else "")
        + (f" Not compared with the baseline, their budgets counting another corpus's labels: {', '.join(cross)}"
           f"{'; see Cross-corpus' if cross_sentences else ''}." if cross else ""))
    planning_intro = (
        f"Target {scale.name} {scale.fmt(target)} ({target_note}); read off the measured curve where it reaches the target, else an "
        "inverse power law fitted per family (at least 3 budgets; no extrapolation from a fit pinned at a bound), "
        "bootstrap over folds." + (f" {budget_note(agg, scale)}" if budget_note(agg, scale) else ""))
    report = "\n".join([
        f"# featbench report: {protocol['corpus']}", "", f"Protocol: {cap}.", "",
        "## Headline", "", *([f"- {h}" for h in headline] or [headline_note]), "", *([headline_note, ""] if headline else []),
        "## Summary", "", markdown, "## Data efficiency", "", efficiency_intro, "",
        *[f"- {s}" for s in sentences], "",
        *(["## Cross-corpus: trained on another corpus", "", CROSS_INTRO, "", *[f"- {s}" for s in cross_sentences], ""]
          if cross_sentences else []),
        *(["## Transfer: labels another corpus saves", "", TRANSFER_INTRO, "", *[f"- {s}" for s in transfer], ""]
          if transfer else []),
        *(["## Normalisation: labels per-speaker statistics save", "", NORMALISATION_INTRO, "",
           *[f"- {s}" for s in normalised], ""] if normalised else []),
        "## Label-budget planning", "", planning_intro, "",
        *[f"- {p['sentence']}" for p in plans], "",
        "## Choices made on validation speakers", "", choices_markdown(choices, weights, scale),
        "## Who it fails", "", breakdown_markdown(speakers_shown, genders_shown, scale),
        "## Figures", "", "![learning curves](learning_curves.png)", "",
        "![learning curves with every fold x seed point](learning_points.png)", "",
        "![learning curves by classifier](learning_curves_by_classifier.png)", "",
        *([] if scale.dimensional else ["![confusion matrices](confusion_matrices.png)", ""]),
        "A browsable, self-contained version of this report: report.html.", "",
    ])
    (out / "report.md").write_text(report)
    sidecar = json.loads((out / "protocol.json").read_text())
    write_report_html(out, HtmlParts(
        corpus=str(protocol["corpus"]), caption=cap, headline=headline, headline_note=headline_note,
        efficiency_intro=efficiency_intro, efficiency=sentences, planning_intro=planning_intro,
        plans=[p["sentence"] for p in plans], agg=agg, best=best, oracle=oracle, protocol=sidecar,
        choices=choices, weights=weights, speakers=speakers_shown, genders=genders_shown,
        breakdown=spread_sentences(speakers_shown, genders_shown, scale), chance=chance, transfer=transfer,
        cross_corpus=cross_sentences, cross_corpus_intro=CROSS_INTRO,
        normalised=normalised, scale=scale), {
        "Learning curves, each family's entry, with every fold x seed result": out / "learning_points.svg",
        "Learning curves by classifier": out / "learning_curves_by_classifier.svg",
        **({} if scale.dimensional else {"Confusion matrices at the largest budget": out / "confusion_matrices.svg"}),
    })
    return {"out": out, "notes": notes, "figures": figures, "headline": headline, "efficiency": sentences, "transfer": transfer,
            "cross_corpus": cross_sentences,
            "normalised": normalised,
            "plans": [p["sentence"] for p in plans], "report": report}
