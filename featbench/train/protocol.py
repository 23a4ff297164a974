"""The evaluation protocol: speaker/session-independent folds and nested, stratified per-class budgets.

Folds (see `folds`) are fixed by the corpus, not by the seed, and put every class in every test and
training part. Seeds change the budget subsets (and the classifiers' initialisation). A budget is the number of labelled examples per class the learner
gets (training and validation together); subsets are nested (the 16-per-class subset is inside the
32-per-class one), stratified, fixed by (seed, fold) and identical for every feature family. For a
dimensional target (`train.target`: the table has a VALUE column, its labels are quantile bins) a budget
counts utterances instead: one interleaved order of the training utterances, each bin's seeded order
spread evenly through it, whose prefixes are the subsets (nested, every prefix within one utterance of
proportional per bin).

>>> import pandas as pd
>>> t = pd.DataFrame({"id": [f"u{i}" for i in range(24)], "label": list("ab") * 12,
...                   "group": [f"g{i // 4}" for i in range(24)], "gender": ["f", "m"] * 12})
>>> folds = make_folds(t, 3)
>>> [sorted(f.test_groups) for f in folds]
[['g0', 'g3'], ['g1', 'g4'], ['g2', 'g5']]
>>> small, large = (budget_subset(t, folds[0], b, seed=0) for b in (2, 4))
>>> set(small) <= set(large), len(small), len(large)
(True, 4, 8)
>>> t[VALUE] = range(24)  # a dimensional target: budgets in utterances
>>> five, six = (budget_subset(t, folds[0], b, seed=0) for b in (5, 6))
>>> len(five), set(five) < set(six)
(5, True)
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from featbench.errors import FeatbenchError
from featbench.options import is_whole, parse_int
from featbench.protocol.budgets import ALL, VALUE, budget_subset, validation_split  # noqa: F401 (re-exported: their home is the protocol)
from featbench.train.folds import Fold, check_folds, default_n_folds, make_folds, per_fold_test_clips

__all__ = ["ALL", "Fold", "budget_subset", "check_budgets", "check_budgets_fit", "check_folds", "check_seeds", "default_n_folds",
           "make_folds", "parse_budgets", "parse_seeds", "validation_split"]

MAX_SEED = 2 ** 32 - 1  # the largest seed numpy's RandomState (and so scikit-learn) takes


def largest_budget(table: pd.DataFrame, folds: list[Fold]) -> int:
    """The largest per-class count every fold's training part can serve (utterances, for a dimensional target).

    >>> t = pd.DataFrame({"label": list("aab") * 4, "group": list("xxxyyyzzzwww")})
    >>> largest_budget(t, make_folds(t, 2))
    2
    """
    return _smallest_pool(table, folds)[0]


def _smallest_pool(table: pd.DataFrame, folds: list[Fold]) -> tuple[int, str]:
    """(the size of the smallest training pool a budget draws from over `folds`, which pool that is in words)."""
    pools = []
    for fold in folds:
        train = table[~fold.test_mask(table)]
        if VALUE in table:
            pools.append((len(train), f"the training groups of fold {fold.index}"))
        else:
            counts = train["label"].value_counts()
            pools += [(int(n), f"class '{label}' in the training groups of fold {fold.index}") for label, n in counts.items()]
            pools += [(0, f"class '{label}' in the training groups of fold {fold.index}")
                      for label in sorted(set(table["label"]) - set(counts.index))]
    return min(pools, key=lambda pool: pool[0]) if pools else (0, "no fold")


def check_budgets_fit(table: pd.DataFrame, folds: list[Fold], budgets: list) -> None:
    """One line, before any work, if a count in `budgets` is more than some fold's training part holds, naming the
    largest budget every fold can serve (not the first fold's limit, which a second try would then exceed).

    >>> t = pd.DataFrame({"label": list("aab") * 4, "group": list("xxxyyyzzzwww")})
    >>> check_budgets_fit(t, make_folds(t, 2), [2, 3, ALL])
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: budget 3 per class is larger than class 'b' in the training groups of fold 0 (2 utterances), the smallest of all folds: the largest budget every fold can serve is 2 per class; use at most 2 or 'all'
    """
    top, where = _smallest_pool(table, folds)
    too_big = [b for b in budgets if isinstance(b, int) and not isinstance(b, bool) and b > top]
    if too_big:
        unit = "utterances" if VALUE in table else "per class"
        raise FeatbenchError(f"budget {too_big[0]} {unit} is larger than {where} ({top} utterances), the smallest "
                             f"of all folds: the largest budget every fold can serve is {top} {unit}; use at most "
                             f"{top} or 'all'")


def default_budgets(table: pd.DataFrame, folds: list[Fold]) -> list:
    """Powers of two from 4 up to what every training part can serve, then 'all'.

    >>> t = pd.DataFrame({"label": list("ab") * 40, "group": [f"g{i % 4}" for i in range(80)]})
    >>> default_budgets(t, make_folds(t, 4))
    [4, 8, 16, 'all']
    """
    top = largest_budget(table, folds)
    return [2 ** k for k in range(2, 64) if 2 ** k <= top] + [ALL]


def preview(table: pd.DataFrame) -> str:
    """What `train` would do with its defaults: per class the speaker groups and utterances, the folds, and
    the largest budget every fold can serve (or why no protocol exists)."""
    lines = ["protocol preview (train's defaults):"]
    for label, part in table.groupby("label"):
        lines.append(f"  {label}: {part['group'].nunique()} groups, {len(part)} utterances")
    try:
        folds = make_folds(table)
        check_folds(table, folds)
    except FeatbenchError as err:
        return "\n".join([*lines, f"  no protocol: {err}"])
    scheme = f"{len(folds)} folds ({folds[0].scheme})"
    lines.append(f"  folds: {scheme}; test groups: " + " | ".join(" ".join(f.test_groups) for f in folds))
    lines.append("  test clips per fold (rows) x class (columns):")
    lines += ["    " + line for line in per_fold_test_clips(table, folds).to_string(index=False).splitlines()]
    lines.append(f"  largest budget every fold can serve: {largest_budget(table, folds)} per class; "
                 f"default budgets: {','.join(map(str, default_budgets(table, folds)))}")
    return "\n".join(lines)


def parse_budgets(spec: str) -> list[int | float | str]:
    """'8,16,all' -> [8, 16, 'all']: examples per class (integers) or fractions of each class's training
    pool (0 < f < 1, e.g. 0.25), not both, plus 'all'. Sorted; a repeated budget is refused.

    >>> parse_budgets("32, 8, all")
    [8, 32, 'all']
    >>> parse_budgets("8, 0.5")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: budgets mix counts (8) and fractions (0.5): the subsets of one kind are not nested in the other's; use one kind
    """
    budgets: list = []
    for item in (s.strip().lower() for s in spec.split(",") if s.strip()):
        try:
            number = float(item)
        except ValueError:
            number = None
        if item == ALL:
            value: int | float | str = ALL
        elif is_whole(item) and int(item) > 0:
            value = int(item)
        elif number is not None and 0 < number < 1:
            value = number
        else:
            raise FeatbenchError(f"budget '{item}' is not a positive number of examples per class, "
                                 "a fraction between 0 and 1, or 'all'")
        budgets.append(value)
    return check_budgets(budgets)


def check_budgets(budgets: list) -> list:
    """Budgets sorted (counts or fractions, then 'all'); empty, repeated or mixed lists are refused."""
    if not budgets:
        raise FeatbenchError("no budgets given")
    repeated = sorted({str(b) for b in budgets if budgets.count(b) > 1})
    if repeated:
        raise FeatbenchError(f"budget {repeated[0]} is given twice; each budget once")
    counts = sorted(b for b in budgets if isinstance(b, int) and not isinstance(b, bool))
    fractions = sorted(b for b in budgets if isinstance(b, float))
    if counts and fractions:
        raise FeatbenchError(f"budgets mix counts ({counts[0]}) and fractions ({fractions[0]}): the subsets of one kind "
                             "are not nested in the other's; use one kind")
    strange = [b for b in budgets if b != ALL and b not in counts and b not in fractions]
    strange += [b for b in counts if b < 1] + [b for b in fractions if not 0 < b < 1]
    if strange:
        raise FeatbenchError(f"budget {strange[0]!r} is not a positive count, a fraction between 0 and 1, or 'all'")
    return counts + fractions + ([ALL] if ALL in budgets else [])


def parse_seeds(spec: str) -> list[int]:
    """'0,1,2' -> [0, 1, 2]; non-negative integers, each once.

    >>> parse_seeds("2, 0")
    [2, 0]
    """
    return check_seeds([parse_int(item, "seed", maximum=MAX_SEED) for item in spec.split(",") if item.strip()])


def check_seeds(seeds: list[int]) -> list[int]:
    """Seeds as given; empty or repeated lists, and seeds out of 0..MAX_SEED, are refused."""
    if not seeds:
        raise FeatbenchError("no seeds given")
    bad = [s for s in seeds if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0]
    if bad:
        raise FeatbenchError(f"seed {bad[0]!r} is not a non-negative integer")
    seeds = [int(s) for s in seeds]
    if max(seeds) > MAX_SEED:
        raise FeatbenchError(f"seed {max(seeds)} is above {MAX_SEED}")
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise FeatbenchError(f"seed {repeated[0]} is given twice; each seed once")
    return list(seeds)
