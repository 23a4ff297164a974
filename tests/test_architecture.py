"""The house rules of ARCHITECTURE.md and issue 20, checked on the source (see tests/house.py for the figures)."""
import house

# Rooms a room must never import: data flows corpus -> audio -> features -> store -> train -> results -> report.
FORBIDDEN = {
    "corpus": {"features", "store", "train", "report", "model", "extract", "transcribe", "cli"},
    "audio": {"features", "store", "train", "report", "model", "extract", "cli"},
    "features": {"store", "train", "report", "model", "extract", "cli"},
    "store": {"features", "train", "report", "model", "extract", "cli"},
    "train": {"report", "model", "extract", "transcribe", "cli"},
    "results": {"report", "model", "cli"},
    "report": {"train", "store", "features", "extract", "model", "cli"},
    "model": {"report", "cli"},
}


def test_no_room_imports_against_the_flow():
    broken = sorted((a, b) for a, b in house.arrows() if b in FORBIDDEN.get(a, ()))
    assert not broken, broken


def test_no_import_circles():
    assert house.circles(house.room_graph()) == []
    assert house.circles(house.import_graph()) == []


def test_no_module_over_400_lines():
    assert house.oversized_modules() == {}


def test_no_function_over_60_lines():
    assert house.long_functions() == {}


def test_house_sees_an_arrow_against_the_flow(tmp_path, monkeypatch):
    # the checker itself can fail: a store module importing a feature family is an arrow it reports
    (tmp_path / "featbench" / "store").mkdir(parents=True)
    (tmp_path / "featbench" / "features").mkdir()
    (tmp_path / "featbench" / "__init__.py").write_text("")
    (tmp_path / "featbench" / "features" / "__init__.py").write_text("from featbench.store import x\n")
    (tmp_path / "featbench" / "store" / "__init__.py").write_text("def f():\n    from featbench.features import fbank\n")
    monkeypatch.setattr(house, "PACKAGE", tmp_path / "featbench")
    assert ("store", "features") in house.arrows()
    assert house.circles(house.room_graph()) == [["features", "store"]]
