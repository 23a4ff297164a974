"""report.html opens offline in a real browser: headless Chromium renders it (non-blank screenshot, no console error)
and its DOM holds the claims table, the table of contents and a headline figure of at most five series, for a fresh
demo report and for the committed results/ravdess/8class report. Skipped with a reason where Chromium is not
installed (.ci/run installs Debian's chromium when it is missing). Screenshots are kept in FEATBENCH_SCREENSHOTS
(default: a `screenshots` folder in pytest's base temporary folder); the test prints where."""
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from featbench.report.figures import HEADLINE_SERIES, SERIES_ID
from featbench.report.sections.claims import MEANING

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"]
COMMITTED = Path(__file__).resolve().parents[1] / "results" / "ravdess" / "8class" / "report.html"


@pytest.fixture(scope="module")
def report(demo_store, tmp_path_factory):
    from featbench.report import compare
    from featbench.train import Experiment, run_training

    out = tmp_path_factory.mktemp("html")
    run_training(Experiment(demo_store, ["egemaps-func", "egemaps-lld"], ["logreg"], [1, 2, 4, "all"], [0], n_folds=4,
                            corpus="demo"), out / "r.csv", progress=False)
    made = compare([out / "r.csv"], out / "report", baseline="egemaps-func", n_boot=200)
    return made.out / "report.html"


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("FEATBENCH_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_report_html_is_self_contained(report):
    page = report.read_text()
    assert page.count("<svg") >= 3 and "<script" not in page
    for reference in ("src=\"http", "href=\"http", "src=\"/", "url(http"):  # nothing fetched: it opens offline
        assert reference not in page
    assert 'id="claims"' in page and "egemaps-lld (logreg)" in page


def _headline_series(dom: str) -> set[str]:
    """The series ids drawn inside the headline figure of a dumped DOM."""
    figure = dom.split('<figure id="fig-learning_curves">', 1)[1].split("</figure>", 1)[0]
    return set(re.findall(rf'id="({SERIES_ID}\d+)"', figure))


@needs_chromium
@pytest.mark.parametrize("which", ["demo", "committed 8class"])
def test_report_html_renders_in_chromium(which, report, screenshots):
    page = report if which == "demo" else COMMITTED
    shot = screenshots / f"{which.replace(' ', '_')}.png"
    shot.unlink(missing_ok=True)
    run = subprocess.run([CHROMIUM, *FLAGS, "--window-size=1200,2400", "--enable-logging=stderr", "--v=0",
                          f"--screenshot={shot}", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.is_file(), run.stderr[-2000:]
    print(f"screenshot of the {which} report: {shot}")
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))[..., :3]
    assert pixels.std() > 0.05 and (pixels < 0.5).mean() > 0.005  # not blank: text, tables and curves drawn
    dom = subprocess.run([CHROMIUM, *FLAGS, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert '<table id="claims">' in dom and '<nav id="toc">' in dom and "<details open" in dom
    claims = dom.split('<table id="claims">', 1)[1].split("</table>", 1)[0]
    words = "|".join(map(re.escape, MEANING))  # a verdict word in a cell of its own
    assert re.search(rf"<td><strong>({words})</strong></td>", claims), claims[:2000]
    series = _headline_series(dom)
    assert 2 <= len(series) <= HEADLINE_SERIES, series
    assert "Who it fails" in dom and "UA (%) per test speaker" in dom
    if which == "demo":  # the demo's entry against the baseline, named in words
        assert "eGeMAPS frame descriptors, logistic regression" in html.unescape(claims)
