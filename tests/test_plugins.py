"""Plug-in families (the featbench.families entry-point group) and `featbench families --check`.

The plug-in package kept in tests/plugin_package (one good family, energy-zcr, and deliberately broken entry
points) is pip-installed into a temporary folder, never into the venv: subprocesses get it on PYTHONPATH, and
tests in this process put it on sys.path for their own duration (`with_plugin`).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from featbench.cli import app
from featbench.store import FamilyIndex, family_path
from tests.conftest import REPO

PACKAGE = Path(__file__).parent / "plugin_package"
runner = CliRunner()


def _invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """tests/plugin_package installed (no dependencies, no network) into a temporary folder; that folder."""
    base = tmp_path_factory.mktemp("plugin")
    shutil.copytree(PACKAGE, base / "src")  # pip builds inside the source folder: keep tests/ clean
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", "--disable-pip-version-check", "--target", str(base / "site"), str(base / "src")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return base / "site"


@pytest.fixture
def with_plugin(plugin_site, monkeypatch):
    """The installed plug-in importable in this process and discovered afresh; forgotten after the test."""
    from featbench.features.plugins import discover

    monkeypatch.syspath_prepend(str(plugin_site))
    discover.cache_clear()
    yield plugin_site
    discover.cache_clear()


def _cli(site: Path, *args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO)])}
    return subprocess.run([sys.executable, "-m", "featbench", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_families_lists_the_plugin_with_its_origin_and_each_unusable_one_in_one_line(plugin_site, tmp_path):
    done = _cli(plugin_site, "families", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("energy-zcr ") and line.endswith("[plug-in: featbench-plugin-demo 0.1.0]") for line in lines), done.stdout
    assert any(line.startswith("fbank ") and "log-Mel" in line and "plug-in" not in line for line in lines)  # the built-in
    origin = "(from featbench-plugin-demo 0.1.0, "
    expected = {"broken-import": "cannot be imported (ModuleNotFoundError: No module named 'featbench_plugin_demo.not_there')",
                "fbank": "is refused: 'fbank' is a built-in family (the built-in one is used)",
                "not-a-family": "is not a featbench FeatureFamily subclass (it is a function)"}
    for name, why in expected.items():
        found = [line for line in lines if line.startswith(f"plug-in family '{name}' {origin}")]
        assert len(found) == 1 and why in found[0], (name, done.stdout)
    assert "Traceback" not in done.stdout + done.stderr


def test_an_unusable_plugin_is_one_line_when_asked_for_and_never_shadows_a_builtin(with_plugin, demo_corpus_master, tmp_path):
    from featbench.features import build_family
    from featbench.features.fbank import Fbank

    assert type(build_family("fbank")) is Fbank
    result = _invoke("extract", "demo", demo_corpus_master, "--features", "broken-import", "--out", tmp_path / "s")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        "featbench: error: plug-in family 'broken-import' (from featbench-plugin-demo 0.1.0, "
        "featbench_plugin_demo.not_there:Family) cannot be imported (ModuleNotFoundError: No module named "
        "'featbench_plugin_demo.not_there')"]
    assert not (tmp_path / "s").exists()


def test_check_passes_on_the_plugin_and_on_fbank(with_plugin):
    for name in ("energy-zcr", "fbank"):
        result = _invoke("families", "--check", name)
        assert result.exit_code == 0, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 13 and all(line.startswith("  pass  ") for line in lines[1:-1]), result.output
        assert lines[-1] == f"{name}: conforms (11 checks passed)"


def test_check_fails_the_broken_plugin_one_line_per_failure(with_plugin):
    result = _invoke("families", "--check", "broken-energy")
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    failed = {line.split(":")[0].removeprefix("  FAIL  "): line for line in lines if line.startswith("  FAIL  ")}
    assert set(failed) == {"shapes", "dtype", "deterministic", "pickles", "batch", "config hash",
                           "Ctrl-C inside the family", "Ctrl-C during extraction"}, result.output
    assert "shape (48, 2), declared (rows, 3)" in failed["shapes"] and "float64" in failed["dtype"]
    assert "gives other features but the same config hash 000000000000" in failed["config hash"]
    assert "broken.py:" in failed["Ctrl-C inside the family"] and "was swallowed" in failed["Ctrl-C inside the family"]
    assert len(lines) == 13 and lines[-1] == "broken-energy: does not conform (8 of 11 checks failed)"


def test_a_plugin_family_and_imported_embeddings_run_train_compare_fit_predict(with_plugin, demo_corpus_master, tmp_path):
    """The plug-in extracted, embeddings imported beside it (alone and fused), then the whole chain through the CLI."""
    from featbench.corpus import load_corpus
    from tests.test_import import write_embeddings

    store, fused, plugin = tmp_path / "store", tmp_path / "fused", tmp_path / "plugin"
    write_embeddings(load_corpus("demo", demo_corpus_master), tmp_path / "emb", extra=())
    views = "energy-zcr,toy-enc@L2,energy-zcr+toy-enc@L2"
    steps = [("extract", "demo", demo_corpus_master, "--features", "energy-zcr", "--out", store, "--no-progress"),
             ("import", store, "--family", "toy-enc", "--from", tmp_path / "emb", "--describe", "toy encoder"),
             ("train", store, "--features", views, "--classifiers", "logreg", "--budgets", "2,all", "--seeds", "0",
              "--folds", "2", "--out", tmp_path / "r.csv", "--no-progress"),
             ("compare", tmp_path / "r.csv", "--out", tmp_path / "report"),
             ("fit", store, "--features", "energy-zcr+toy-enc@L2", "--classifier", "logreg", "--out", fused),
             ("predict", fused, demo_corpus_master, "--layout", "demo", "--store", store, "--out", tmp_path / "f.csv",
              "--no-progress"),
             ("fit", store, "--features", "energy-zcr", "--classifier", "logreg", "--out", plugin),
             ("predict", plugin, demo_corpus_master, "--layout", "demo", "--out", tmp_path / "p.csv", "--no-progress")]
    for step in steps:
        result = _invoke(*step)
        assert result.exit_code == 0, (step[0], result.output)
    meta = FamilyIndex.read(family_path(store, "energy-zcr")).meta
    assert meta.columns == ["log_energy", "zcr"] and meta.versions["featbench-plugin-demo"] == "0.1.0"
    results = pd.read_csv(tmp_path / "r.csv")
    assert (tmp_path / "report" / "report.md").is_file() and sorted(results["view"].unique()) == sorted(views.split(","))
    assert json.loads((plugin / "manifest.json").read_text())["families"][0]["config_hash"] == meta.config_hash
    assert len(pd.read_csv(tmp_path / "f.csv")) == 32 and len(pd.read_csv(tmp_path / "p.csv")) == 32
    refused = _invoke("predict", fused, demo_corpus_master, "--layout", "demo", "--out", tmp_path / "x.csv")
    assert refused.exit_code == 1 and "which featbench cannot extract" in refused.output


def test_two_distributions_claiming_one_name_are_both_refused(tmp_path, monkeypatch):
    from featbench.features import FAMILIES, all_families
    from featbench.features.plugins import discover

    for dist in ("dist-a", "dist-b"):
        info = tmp_path / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text("[featbench.families]\nsame = featbench.features.raw:RawWaveform\n"
                                               f"renamed-{dist} = featbench.features.raw:RawWaveform\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    discover.cache_clear()
    try:
        plugins = {(p.name, p.distribution): p for p in discover(frozenset(FAMILIES))}
        assert plugins[("same", "dist-a")].problem == "is refused: dist-b 1.0 declares a family 'same' too"
        assert plugins[("same", "dist-b")].problem == "is refused: dist-a 1.0 declares a family 'same' too"
        assert plugins[("renamed-dist-a", "dist-a")].problem == \
            "names itself 'raw' (class attribute `name`); its entry point calls it 'renamed-dist-a'"
        assert all(p.family is None for p in plugins.values()) and set(all_families()) == set(FAMILIES)
    finally:
        discover.cache_clear()


def test_the_plugin_in_the_docs_is_the_one_the_tests_install():
    """docs/plugins.md shows tests/plugin_package's module verbatim, and its entry point, so the example runs."""
    doc = (REPO / "docs" / "plugins.md").read_text()
    module = (PACKAGE / "featbench_plugin_demo" / "__init__.py").read_text()
    assert f"```python\n{module}```" in doc
    assert 'energy-zcr = "featbench_plugin_demo:EnergyZcr"' in (PACKAGE / "pyproject.toml").read_text()
    assert '[project.entry-points."featbench.families"]\nenergy-zcr = "featbench_plugin_demo:EnergyZcr"\n' in doc
