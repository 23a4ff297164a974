"""What features cost (issue 21): extraction records its seconds per family in the store (timings.csv), training
writes the seconds per hour of audio and the store's megabytes per hour of audio into the rows' optional cost columns,
and the report shows them beside each entry; results files of schema 3 without those columns are still read (costs
'n/a'), and appended to after `featbench results upgrade` (schema 4)."""
from __future__ import annotations

import pandas as pd
import pytest

from featbench.report.cost import cost_text, entry_costs
from featbench.errors import FeatbenchError
from featbench.results import COST_COLUMNS, CORE_COLUMNS, RESULT_COLUMNS, ResultsFile, read_results, upgrade_file
from featbench.store.timings import read_timings
from featbench.train.runner import Experiment, run_training


def test_extraction_records_its_seconds_per_family(demo_store):
    timings = read_timings(demo_store)
    corpus = pd.read_csv(demo_store / "corpus.csv")
    assert set(timings.family) == {"egemaps-func", "egemaps-lld"}
    for row in timings.itertuples():
        assert row.clips == len(corpus) and row.extract_seconds > 0
        assert row.audio_seconds == pytest.approx(corpus.duration.sum(), rel=1e-3)


@pytest.fixture(scope="module")
def trained(demo_store, tmp_path_factory):
    path = tmp_path_factory.mktemp("costs") / "r.csv"
    run_training(Experiment(demo_store, ["egemaps-func", "egemaps-lld"], ["logreg"], [2, "all"], [0], n_folds=2), path,
                 progress=False)
    return path


def test_training_rows_say_what_their_features_cost(trained, demo_store):
    rows = read_results(trained).rows
    assert list(pd.read_csv(trained, nrows=0).columns) == RESULT_COLUMNS and (rows[COST_COLUMNS] > 0).all().all()
    lld = rows[rows.family == "egemaps-lld"].iloc[0]
    hours = pd.read_csv(demo_store / "corpus.csv").duration.sum() / 3600
    assert lld.store_mb_per_audio_hour == pytest.approx((demo_store / "egemaps-lld.h5").stat().st_size / 1e6 / hours,
                                                        rel=1e-3)
    text = cost_text(entry_costs(rows, {"egemaps-lld": "logreg"})["egemaps-lld"])
    assert "n/a" not in text and text.endswith("MB/h")


def test_a_schema_3_file_without_costs_is_read_and_appended_to_after_an_upgrade(trained, demo_store, tmp_path):
    old = pd.read_csv(trained, dtype=str, keep_default_na=False)[CORE_COLUMNS]
    path = tmp_path / "old.csv"
    old[old.budget == "2"].to_csv(path, index=False)
    rows = read_results(path).rows
    assert list(rows.columns) == RESULT_COLUMNS and rows[COST_COLUMNS].isna().all().all()
    assert "extract n/a · store n/a" in cost_text(entry_costs(rows, {"egemaps-func": "logreg"})["egemaps-func"])
    exp = Experiment(demo_store, ["egemaps-func", "egemaps-lld"], ["logreg"], [2, "all"], [0], n_folds=2)
    with pytest.raises(FeatbenchError, match="results schema 3 .*featbench results upgrade"):  # schema 4: conditions
        run_training(exp, path, progress=False)
    upgrade_file(path)  # costs and conditions columns added (empty costs, clean conditions)
    run_training(exp, path, progress=False)  # the budget 'all' rows appended
    assert list(pd.read_csv(path, nrows=0).columns) == RESULT_COLUMNS
    assert len(read_results(path).rows) == len(old)
    with ResultsFile(path) as results:
        assert results.n_rows == len(old)
