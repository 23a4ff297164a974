"""Every number of one protocol's report, computed once from its results rows: the entries, the baseline, the
efficiency ratios (against the baseline, and each entry against its counterpart: the view trained within the
corpus, or normalised on the training rows), the label-budget plans, the cross-corpus checks, the choices made on
validation speakers and who the model fails. Sections (report.sections), tables and figures read it; none
computes a number of its own.

Example: ``analyse(["results.csv"], baseline="egemaps-func")`` (see `featbench.report.compare`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.report.aggregate import aggregate, protocol_of, read_one_protocol, unit_matrix
from featbench.report.breakdown import by_gender, by_speaker
from featbench.report.choices import choice_table, layer_weight_table
from featbench.report.conditions import TRAIN, by_training, own_rows, with_conditions
from featbench.report.crosscorpus import cross_corpus
from featbench.report.curvefit import plan_budget
from featbench.report.efficiency import Efficiency
from featbench.report.groups import Groups, groups_of
from featbench.report.intervals import t_bounds
from featbench.report.entries import Entry, family_entries, headline_families, setups_of
from featbench.report.names import entry_names, plain_name
from featbench.report.pairing import Pair, Pairing
from featbench.report.plots import caption
from featbench.report.pool import Pool, pool_of
from featbench.report.scale import UA, Scale, scale_of
from featbench.results import SOURCE, TRANSFER, WITHIN, Normalisation, Setup, budget_order


@dataclass
class Analysis:
    """What `analyse` computed; see the module docstring. `baseline_budgets[reference]` is the reference budget."""

    results: list[str]
    rows: pd.DataFrame
    notes: list[str]
    protocol: dict
    scale: Scale
    agg: pd.DataFrame
    entries: dict[str, Entry]
    setups: dict[str, Setup]
    baseline: str
    baseline_budgets: list[str]
    reference: int
    target: float
    target_given: bool
    ratios: list[Pair]
    transfer: list[Pair]
    normalised: list[Pair]
    plans: list[dict]
    planning_chance: str  # why no label budget is planned ('' when one is): a target at chance
    cross_sentences: list[str]
    recall: pd.DataFrame
    honest: list[str]
    apart: list[str]
    cross: list[str]
    every: pd.DataFrame | None = None  # the rows of every test condition (`rows`: each entry's own; report.conditions)
    n_boot: int = 2000

    @property
    def best(self) -> dict[str, str]:
        """family -> its entry's classifier."""
        return {f: e.classifier for f, e in self.entries.items()}

    @property
    def labels(self) -> dict[str, str]:
        """family -> its entry's label ('egemaps-func (selected)')."""
        return {f: e.label for f, e in self.entries.items()}

    @property
    def oracle(self) -> set[str]:
        return {f for f, e in self.entries.items() if not e.honest}

    @property
    def caption(self) -> str:
        return caption(self.protocol)

    @property
    def corpus(self) -> str:
        return str(self.protocol["corpus"])

    @property
    def reference_budget(self) -> str:
        return self.baseline_budgets[self.reference]

    @property
    def headline(self) -> list[str]:
        """The ratio sentences of the honest headline entries."""
        by_family = {p.family: p.sentence for p in self.ratios}
        return [by_family[f] for f in self.honest if f in by_family]

    @cached_property
    def names(self) -> dict[str, str]:
        """family -> its entry in plain words (report.names.entry_names): the one name every section and figure gives
        it; the codes (`labels`) are in the legend."""
        return entry_names(self.entries, self.setups)

    @cached_property
    def groups(self) -> Groups | None:
        """Whether test speakers and genders are confounded with the classes (report.groups); None: not recorded."""
        return groups_of(self.rows)

    @cached_property
    def pool(self) -> Pool | None:
        """The training pool behind 'all' (report.pool): balanced or not, its largest balanced budget."""
        return pool_of(self.rows)

    def name_of(self, family: str, classifier: str) -> str:
        """The plain name of `family` trained with `classifier`: its entry's (`names`), or the view and that
        classifier in words."""
        return self.names[family] if self.best.get(family) == classifier else plain_name(self.setups[family], classifier)

    @property
    def shown(self) -> set[tuple[str, str]]:
        """(family, classifier) of the entries the breakdowns show: the baseline and the headline's, else all."""
        return {(f, self.best[f]) for f in ([self.baseline, *self.honest] if self.honest else self.best)}

    def efficiency_rows(self) -> list[dict]:
        """efficiency.csv: each ratio against the baseline, with the entry's classifier, pick and sentence."""
        return [p.eff.__dict__ | {"classifier": self.best[p.family], "pick": self.entries[p.family].how,
                                  "entry_words": self.names[p.family], "sentence": p.sentence} for p in self.ratios]

    def headline_note(self) -> str:
        """What stands behind the headline, or why there is none."""
        best, oracle, names = self.best, self.oracle, self.names
        others = [f for f in best if f != self.baseline]
        if not others:
            return ("No headline: these results hold the baseline alone; train other families or views on the same "
                    "folds to compare them with it.")
        same = [f for f in others if f not in self.cross and f not in self.apart]
        if not self.headline and self.baseline not in oracle and not same:
            return (f"No headline: every other entry ({'; '.join(names[f] for f in others)}) is under another protocol "
                    "than the baseline's (another normalisation, validation or training corpus); compare entries of "
                    "one protocol, or read their own sections.")
        if not self.headline:
            why = (f"the baseline's classifier ({names[self.baseline]}) was picked on the test folds"
                   if self.baseline in oracle
                   else "no other family under the baseline's protocol has an entry chosen without the test speakers")
            return (f"No honest headline: {why}. Train with '--classifiers selected' (classifier chosen on "
                    "validation speakers), a single classifier, or '@auto'/'@weighted' views; oracle ratios are "
                    "listed under Data efficiency, labelled.")
        return ("Every choice behind these entries (layer, classifier, hyper-parameters) was made on "
                "validation speakers drawn from the training speakers of each fold.")

    @cached_property
    def robustness(self):
        """The Robustness section's numbers (report.robustness), from the rows of every test condition."""
        from featbench.report.robustness import robustness_of

        return robustness_of(self)

    @cached_property
    def significance(self):
        """The Statistics section's numbers (report.significance): speaker intervals, fold pairs, condition ranks."""
        from featbench.report.significance import significance_of

        return significance_of(self)

    @cached_property
    def breakdowns(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(per speaker, per gender) of every entry, for by_speaker.csv and by_gender.csv."""
        everyone = list(self.best.items())
        return by_speaker(self.rows, everyone), by_gender(self.rows, everyone)

    @cached_property
    def choices(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(choices made on validation speakers, learned layer weights)."""
        return choice_table(self.rows), layer_weight_table(self.rows)


def transfer_sentence(eff: Efficiency, other: str, corpus: str, view: str, scale: Scale = UA,
                      names: tuple[str, str] | None = None) -> str:
    """'other saves corpus's labels for view: N× fewer labels (interval). <the efficiency sentence>'; `names` the
    entry and its counterpart in words (report.names)."""
    if eff.at_chance:
        return eff.sentence(scale, names)
    if eff.ratio is None:
        saves = f"{other} does not save {corpus}'s labels for {view} within the measured budgets"
    else:
        saves = f"{other} saves {corpus}'s labels for {view}: {eff.saved()}"
    return f"{saves}. {eff.sentence(scale, names)}"


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
    >>> find_baseline({k: v for k, v in s.items() if not v.normalisation.on_training_rows}, "egemaps-func")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: baseline 'egemaps-func' has no entry with training normalisation in these results (its entries: egemaps-func [per-speaker normalisation]); pick one with --baseline-norm per-speaker, e.g. --baseline egemaps-func --baseline-norm per-speaker
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
    kinds = list(dict.fromkeys(s.normalisation.text for s in setups.values() if s.view == baseline))
    if kinds:  # the view is there, under other normalisations: say which, and the option that picks one
        raise FeatbenchError(f"baseline '{baseline}' has no entry with {wanted.text} normalisation in these results "
                             f"(its entries: {', '.join(k for k, s in setups.items() if s.view == baseline)}); pick one "
                             f"with --baseline-norm {' or '.join(kinds)}, e.g. --baseline {baseline} --baseline-norm {kinds[0]}")
    asked = baseline if normalisation is None else Setup(baseline, normalisation=normalisation).label
    names = list(setups) + [v for v in dict.fromkeys(s.view for s in setups.values()) if v not in setups]
    close = difflib.get_close_matches(asked, [n for n in names if n != asked], n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise FeatbenchError(f"baseline '{asked}' is not among the entries in the results{hint} "
                         f"(entries: {', '.join(setups)})")


def _against_baseline(pair: Pairing, setups: dict[str, Setup], baseline: str, reference: int) -> list[Pair]:
    """Each entry of the baseline's protocol and trained on the same corpus's labels, against the baseline."""
    base, out = setups[baseline], []
    for family in pair.entries:
        setup = setups[family]
        if family == baseline or setup.protocol != base.protocol or setup.trained_on != base.trained_on:
            continue  # per-speaker statistics or not, another corpus's labels: never one ratio
        if (eff := pair(family, baseline, reference)) is not None:
            out.append(Pair(family, baseline, eff, pair.sentence(eff, family, baseline)))
    return out


def _against_twins(pair: Pairing, setups: dict[str, Setup], corpus: str) -> tuple[list[Pair], list[Pair]]:
    """(transfer: 'view [+other]' against 'view'; normalised: 'view [per-speaker ...]' against 'view'), each
    entry against its counterpart's full-data score."""
    transfer, normalised, names = [], [], pair.names
    entry_of = {s: name for name, s in setups.items()}  # each counterpart found by its typed setup, not its words
    for family in pair.entries:
        setup = setups[family]
        within = entry_of.get(setup.within())
        if setup.design == TRANSFER and within in pair.entries and (eff := pair(family, within, -1)) is not None:
            other = setup.other + (f" ({setup.normalisation_label})" if not setup.normalisation.on_training_rows else "")
            transfer.append(Pair(family, within, eff, transfer_sentence(eff, other, corpus, names[within], pair.scale,
                                                                        (names[family], names[within]))))
        plain = entry_of.get(replace(setup, normalisation=Normalisation(), confounded=False))
        if setup.per_speaker and plain in pair.entries and (eff := pair(family, plain, -1)) is not None:
            normalised.append(Pair(family, plain, eff, transfer_sentence(eff, setup.normalisation_label, corpus,
                                                                          names[plain], pair.scale, (names[family], names[plain]))))
    return transfer, normalised


def target_chance(target: float, given: bool, base_units: np.ndarray, scale: Scale) -> str:
    """Why no label budget is planned for `target` ('' when one is): a given target at or below chance, or the
    baseline's reference score (`base_units`: one per fold) whose 95% interval holds chance.

    >>> from featbench.report.scale import scale_of
    >>> target_chance(0.26, False, np.array([0.22, 0.30, 0.26]), scale_of({"n_classes": 4}))
    "the baseline's score 26.0% is not above chance (25.0%; its 95% interval 16.1% to 35.9%)"
    >>> target_chance(0.2, True, np.array([0.6, 0.7]), scale_of({"n_classes": 4}))
    'the target 20.0% is at or below chance'
    """
    if given:
        return f"the target {scale.said(target)} is at or below {scale.chance_name}" if target <= scale.chance else ""
    std = float(base_units.std(ddof=1)) if len(base_units) > 1 else 0.0
    low, high = (float(v) for v in t_bounds(target, std, len(base_units), scale.bounds))
    if (low <= scale.chance) if low == low else target <= scale.chance:
        return (f"the baseline's score {scale.said(target)} is not above {scale.chance_name} ({scale.fmt(scale.chance)}; "
                f"its 95% interval {scale.interval(low, high)})")
    return ""


def _plans(rows: pd.DataFrame, entries: dict[str, Entry], target: float, scale: Scale, names: dict[str, str],
           chance: str) -> list[dict]:
    """planning.csv: each entry's label budget for `target`, with its sentence; none toward a target at chance (the
    reason, `chance`, said for each entry)."""
    plans = []
    for family, entry in entries.items():
        if chance:
            plans.append({"family": family, "classifier": entry.classifier, "target": target,
                          "sentence": f"{names[family]}: no label budget planned: {chance}"})
            continue
        x, units, _ = unit_matrix(rows, family, entry.classifier)
        clf = entry.classifier if entry.honest else f"{entry.classifier}, oracle"
        try:
            plan = plan_budget(x, units, target, family, clf)
        except RuntimeError as err:
            plans.append({"family": family, "classifier": entry.classifier, "target": target,
                          "sentence": f"{names[family]}: curve fit failed ({err})"})
            continue
        plans.append({**plan.__dict__, "params": json.dumps(plan.params), "at_bound": "; ".join(plan.at_bound),
                      "sentence": plan.sentence(scale, names[family])})
    return plans


def _baseline(rows, setups, protocol, baseline, normalisation, reference_budget) -> tuple[str, list[str], int]:
    """(the baseline entry, its budgets, the reference budget's index), or a one-line error."""
    if baseline is None and normalisation is not None:
        raise FeatbenchError("--baseline-norm says which entry of the --baseline view; give --baseline too")
    normalisation = None if normalisation is None else Normalisation.parse(normalisation)
    baseline = find_baseline(setups, baseline, normalisation) if baseline is not None else protocol["families"][0]
    budgets = budget_order(rows[rows.family == baseline])
    if reference_budget is not None and reference_budget not in budgets:
        raise FeatbenchError(f"reference budget '{reference_budget}' is not measured for {baseline} "
                             f"(budgets: {', '.join(budgets)})")
    return baseline, budgets, budgets.index(reference_budget) if reference_budget else len(budgets) - 1


def analyse(results: list[str | Path], baseline: str | None = None, target_ua: float | None = None,
            reference_budget: str | None = None, n_boot: int = 2000,
            baseline_normalisation: Normalisation | str | None = None) -> Analysis:
    """Read one protocol's results (every row checked first: a damaged one is one error line) and compute every
    number of its report. `baseline`: an entry's display name, or a view whose `baseline_normalisation` entry is
    meant (see find_baseline); default the first family."""
    rows, notes = read_one_protocol(results)
    return analyse_rows(rows, notes, [str(r) for r in results], baseline, target_ua, reference_budget, n_boot,
                        baseline_normalisation)


def analyse_rows(every: pd.DataFrame, notes: list[str], results: list[str], baseline: str | None = None,
                 target_ua: float | None = None, reference_budget: str | None = None, n_boot: int = 2000,
                 baseline_normalisation: Normalisation | str | None = None) -> Analysis:
    """`analyse` of rows as `read_one_protocol` returns them (checked; `family` each entry's display name), read
    from the files named `results`: every test condition's rows (report.conditions), each section choosing its own."""
    every = by_training(with_conditions(every))
    rows = own_rows(every).reset_index(drop=True)  # every other section: each entry under its own condition
    if rows.empty:
        raise FeatbenchError(f"no row of {', '.join(map(str, results))} is tested under its entry's own training "
                             "condition (clean for clean training); a report needs those rows")
    protocol, agg = protocol_of(rows), aggregate(rows)
    scale, entries, setups = scale_of(protocol), family_entries(agg), setups_of(agg)
    baseline, budgets, reference = _baseline(rows, setups, protocol, baseline, baseline_normalisation, reference_budget)
    _, units_b, _ = unit_matrix(rows, baseline, entries[baseline].classifier)
    target = target_ua if target_ua is not None else float(units_b[:, reference].mean())
    chance = target_chance(target, target_ua is not None, units_b[:, reference], scale)
    names = entry_names(entries, setups)
    pair = Pairing(rows, entries, scale, n_boot, names)
    base = setups[baseline]
    cross = [f for f in entries if setups[f].trained_on != base.trained_on]  # budgets counting another corpus's labels
    trains = rows.groupby("family")[TRAIN].first()
    elsewhere = [f for f in entries if trains[f] != trains[baseline]]  # trained (and tested) under another condition
    transfer, normalised = _against_twins(pair, setups, str(protocol["corpus"]))
    labels, best = {f: e.label for f, e in entries.items()}, {f: e.classifier for f, e in entries.items()}
    cross_sentences, recall = cross_corpus(rows, agg, best, labels, scale, str(protocol["corpus"]), names)
    return Analysis(
        results=list(results), rows=rows, notes=notes, protocol=protocol, scale=scale, agg=agg,
        entries=entries, setups=setups, baseline=baseline, baseline_budgets=budgets, reference=reference,
        target=target, target_given=target_ua is not None,
        ratios=[p for p in _against_baseline(pair, setups, baseline, reference) if p.family not in elsewhere],
        transfer=transfer, normalised=normalised, plans=_plans(rows, entries, target, scale, names, chance),
        planning_chance=chance,
        cross_sentences=cross_sentences, recall=recall,
        honest=[f for f in headline_families(entries, baseline, setups) if f not in cross and f not in elsewhere],
        apart=[f for f in entries if setups[f].protocol != base.protocol or f in elsewhere], cross=cross, every=every,
        n_boot=n_boot)
