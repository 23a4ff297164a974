"""report.html opens offline in a real browser: headless Chromium renders it (non-blank screenshot, no
console error, the headline present). Skipped with a reason where Chromium is not installed (.ci/run
installs Debian's chromium when it is missing)."""
import html
import re
import shutil
import subprocess

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"]


@pytest.fixture(scope="module")
def report(demo_store, tmp_path_factory):
    from featbench.report import compare
    from featbench.train import Experiment, run_training

    out = tmp_path_factory.mktemp("html")
    run_training(Experiment(demo_store, ["egemaps-func", "egemaps-lld"], ["logreg"], [1, 2, 4, "all"], [0], n_folds=4,
                            corpus="demo"), out / "r.csv", progress=False)
    made = compare([out / "r.csv"], out / "report", baseline="egemaps-func", n_boot=200)
    return made.out / "report.html"


def test_report_html_is_self_contained(report):
    page = report.read_text()
    assert page.count("<svg") >= 3 and "<script" not in page
    for reference in ("src=\"http", "href=\"http", "src=\"/", "url(http"):  # nothing fetched: it opens offline
        assert reference not in page
    assert 'id="headline"' in page and "egemaps-lld (logreg)" in page


@needs_chromium
def test_report_html_renders_in_chromium(report, tmp_path):
    shot = tmp_path / "shot.png"
    run = subprocess.run([CHROMIUM, *FLAGS, "--window-size=1200,1600", "--enable-logging=stderr", "--v=0",
                          f"--screenshot={shot}", report.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.is_file(), run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.std() > 0.05 and (pixels < 0.5).mean() > 0.005  # not blank: text, tables and curves drawn
    dom = subprocess.run([CHROMIUM, *FLAGS, "--dump-dom", report.as_uri()], capture_output=True, text=True, timeout=120).stdout
    block = report.read_text().split('id="headline">', 1)[1].split("</div>", 1)[0]
    items = re.findall(r"<li>(.*?)</li>", block)  # honest entries: each family trained with one classifier
    assert items and all(html.unescape(item) in html.unescape(dom) for item in items)
    assert "Who it fails" in dom and "UA (%) per test speaker" in dom
