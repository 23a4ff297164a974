"""Benchmark: does a study file reproduce the committed results? For the grids named, each grid is run again (the
very `run_training` call `featbench study run` makes, into a scratch results file) and every row is compared with
the committed row of the same key: the scores (UA, WA, macro-F1, confusion, validation UA, choices, per-speaker UA,
hyper-parameters) must be byte-identical (a column the committed rows never wrote, e.g. per-speaker UA in rows of
featbench 0.2, is not compared); timings and the featbench version may differ. Where the rerun's family config hash
differs from the committed rows' (a library version in the family's identity changed, e.g. transformers for
Whisper), rows are matched on the rest of their key, which says whether the recomputed features give the same scores. Also printed: how many
of the study's training cells the committed files already hold (every cell of a grid whose family config has not
changed since its rows were written).

    .venv/bin/python benchmarks/study_reproduces.py results/studies/ravdess.toml 4class-selected-egemaps 8class-clips-4-egemaps

With --from-run CHECKOUT, nothing is rerun here: every grid's results file as `featbench study run` wrote it in
another checkout (one whose results files were deleted first, so that the run computed every cell) is compared
row by row with this checkout's committed file, per grid and family.

    .venv/bin/python benchmarks/study_reproduces.py results/studies/ravdess.toml --from-run /tmp/fresh-checkout

Last run (2026-12-06, 2-core machine shared with other jobs; store /tmp/featbench-study/ravdess): 9,078 training
cells, 5,112 held by the committed files (the Whisper cells' config hash changed since featbench 0.1.0);
4class-selected-egemaps: 108 rows rerun in 241 s, 108 byte-identical; 8class-clips-4-egemaps: 18 rows in 311 s,
18 byte-identical.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

SCORES = ["ua", "wa", "macro_f1", "confusion", "val_ua", "choice", "ua_by_speaker", "ua_by_gender", "hparams", "n_train",
          "n_test", "examples_per_class"]


def main() -> None:
    from featbench.results import read_results
    from featbench.study import inventory, load_study, resolve
    from featbench.study.cells import experiment_of
    from featbench.train import run_training

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study")
    parser.add_argument("grids", nargs="*")
    parser.add_argument("--from-run", type=Path, help="compare the results files written by a from-scratch run in "
                        "this other checkout, instead of rerunning grids")
    parser.add_argument("--features", help="only these views of each grid (comma list), e.g. whisper@L3")
    parser.add_argument("--classifiers", help="only these classifiers (comma list)")
    parser.add_argument("--budgets", help="only these budgets (comma list), e.g. all")
    parser.add_argument("--seeds", help="only these seeds (comma list)")
    args = parser.parse_args()
    resolved = resolve(load_study(args.study))
    train = inventory(resolved).counts("train")
    print(f"{args.study}: {train.total} training cells, {train.done} held by the committed results files")
    grids = {g.name: g for g in resolved.study.grids}
    if args.from_run:
        _compare_run(resolved, args.from_run.resolve())
        return
    for name in args.grids:
        grid = _narrowed(grids[name], args)
        scratch = Path(tempfile.mkdtemp(prefix="featbench-reproduce-")) / "results.csv"
        start = time.perf_counter()
        run_training(experiment_of(grid, resolved.study.corpora), scratch, progress=False)
        seconds = time.perf_counter() - start
        new_rows, old_rows = read_results(scratch, dtype=str).rows, read_results(grid.results, dtype=str).rows
        new, old, same = _compared(new_rows, old_rows)
        print(f"grid {name}: {len(new)} rows rerun in {seconds:.0f} s, {len(same)} found in {grid.results.name}, "
              f"{int(same.sum())} with byte-identical scores")
        for k in list(same[~same].index)[:3]:
            differs = [c for c in SCORES if str(old.loc[k, c]) not in ('', 'nan', str(new.loc[k, c]))]
            print(f"  differs: {dict(zip(new.index.names, k))} in {differs}")


def _compared(new_rows, old_rows):
    """(new, old, same): both row sets indexed by their shared key, and per shared key whether the scores are
    byte-identical (a column the older rows never wrote is not compared)."""
    from featbench.results.columns import KEY

    key = _key(new_rows, old_rows, KEY)
    new, old = new_rows.set_index(key), old_rows.set_index(key)
    shared = new.index.intersection(old.index)
    now, then = new.loc[shared, SCORES].fillna(""), old.loc[shared, SCORES].fillna("")
    return new, old, ((now == then) | (then == "")).all(axis=1)


def _compare_run(resolved, checkout: Path) -> None:
    """Each results file of the study as another checkout's run wrote it, against this checkout's, per family."""
    from featbench.results import read_results

    here = Path.cwd().resolve()
    for results in dict.fromkeys(g.results for g in resolved.study.grids):
        other = checkout / results.resolve().relative_to(here)
        if not other.is_file():
            print(f"{results.relative_to(here)}: not written by the run in {checkout}")
            continue
        new_rows, old_rows = read_results(other, dtype=str).rows, read_results(results, dtype=str).rows
        print(f"{results.relative_to(here)}: {len(new_rows)} rows made by the run, {len(old_rows)} committed")
        for family, rows in new_rows.groupby("family", sort=True):
            new, old, same = _compared(rows, old_rows[old_rows["family"] == family])
            unmatched = len(new) - len(same)
            print(f"  {family}: {len(new)} rows, {len(same)} matched, {int(same.sum())} byte-identical"
                  + (f", {unmatched} with no committed row" if unmatched else ""))
            for k in list(same[~same].index)[:2]:
                differs = [c for c in SCORES if str(old.loc[k, c]) not in ('', 'nan', str(new.loc[k, c]))]
                print(f"    differs: {dict(zip(new.index.names, k))} in {differs}")


def _narrowed(grid, args):
    """The grid with only the views, classifiers, budgets and seeds asked for (its rows keep their keys)."""
    from dataclasses import replace

    def listed(text: str | None, kind=str):
        return tuple(kind(v) if v != "all" else v for v in text.split(",")) if text else None

    changes = {"features": listed(args.features), "classifiers": listed(args.classifiers),
               "budgets": listed(args.budgets, lambda v: float(v) if "." in v else int(v)), "seeds": listed(args.seeds, int)}
    return replace(grid, **{k: v for k, v in changes.items() if v is not None})


def _key(new, old, key: list[str]) -> list[str]:
    """The row key to match on: the results' own key, or that key without the family config hash where the
    hashes of the rerun differ from the committed rows' (a library version in the family's identity changed), said."""
    hashes_new, hashes_old = set(new["family_config_hash"]), set(old["family_config_hash"])
    if hashes_new <= hashes_old:
        return key
    print(f"  family config hash {sorted(hashes_new - hashes_old)} is new (committed rows: {sorted(hashes_old)}): "
          "rows matched on the rest of their key, so that the scores of recomputed features are compared")
    return [c for c in key if c != "family_config_hash"]


if __name__ == "__main__":
    main()
