"""Surface: names inside results rows (class labels, test speakers, genders, the corpus, views, classifiers, the other
corpus of a transfer) as the report writes them: report.md, summary.md, report.html, protocol.json, the figures.

The contract: the report is rendered with every name escaped (no tag, attribute, link, emphasis or table cell made
by a name: report.escape), every table keeps its column count in Markdown and in HTML, every name still reads in
the page, protocol.json reads back; or the rows are refused in one line naming the file. In-process cases build the
report model from generated rows without drawing figures (report.compare.build_report(figures=False)) and render
it; a few tests run the whole `compare` (figures in SVG, files) and the command line.
"""

from __future__ import annotations

import csv
import html
import json
import random
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

from hostile.contract import HOSTILE_NAMES, Case, Surface, assert_one_line_error, campaign, cases_budget, run_cli

EXTRA_NAMES = (
    "a $\\alpha$ b",
    "$\\notacommand$",
    "x\x1b[31mred",
    "-->",
    "]]>",
    "{: onclick=alert(1) }",
    "# x",
    "1. x",
    "&amp;",
    "<b>",
    "`code`",
    "a\\|b",
    "<!-- x",
)
NAMES = HOSTILE_NAMES + EXTRA_NAMES
ROLES = ("label", "speaker", "gender", "corpus", "view", "classifier", "other")
BUDGETS, X = ["4", "8", "all"], [4.0, 8.0, 20.0]
CURVES = {0: [0.40, 0.50, 0.55], 1: [0.50, 0.58, 0.62]}  # the second entry reaches the baseline's score: no curve fit
SAFE_TAGS = {
    "p",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "strong",
    "ul",
    "li",
    "h1",
    "h2",
    "h3",
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "nav",
    "ol",
    "a",
    "section",
    "details",
    "summary",
    "caption",
    "figure",
    "figcaption",
    "footer",
    "span",
    "em",
}


def results_rows(names: dict[str, str], folds: int = 3) -> pd.DataFrame:
    """Results rows of two entries (the baseline first), `names` put in their roles (ROLES)."""
    from featbench.results import RESULT_COLUMNS, TRANSFER, Setup

    labels = [names.get("label", "angry"), "happy", "neutral", "sad"]
    views = ["egemaps-func", names.get("view", "whisper@auto")]
    rows = []
    for k, view in enumerate(views):
        setup = Setup(view, TRANSFER, names["other"]) if "other" in names and k == 1 else Setup(view)
        for fold in range(folds):
            speaker = f"{names.get('speaker', 's')}{fold}"
            for budget, x, ua in zip(BUDGETS, X, CURVES[k]):
                ua = ua + 0.01 * (fold - 1)
                row = dict.fromkeys(RESULT_COLUMNS, "") | setup.columns()
                right = round(ua * 10)
                row.update(
                    corpus=names.get("corpus", "syn"),
                    classes=",".join(labels),
                    n_classes=4,
                    n_folds=folds,
                    fold_scheme="k-group-folds",
                    fold=fold,
                    test_groups=speaker,
                    seed=0,
                    budget=budget,
                    examples_per_class=x,
                    n_train=int(4 * x),
                    n_test=40,
                    family_config_hash="h",
                    level="utterance",
                    classifier=names.get("classifier", "logreg") if k else "logreg",
                    hparams="{}",
                    hp_selection="defaults",
                    metric="UA (balanced accuracy)",
                    ua=ua,
                    wa=ua,
                    macro_f1=ua,
                    fit_seconds=0.1,
                    predict_seconds=0.01,
                    featbench_version="0.3",
                    choice="{}",
                    labels=json.dumps(labels),
                    ua_by_speaker=json.dumps({speaker: ua}),
                    ua_by_gender=json.dumps({names.get("gender", "F"): ua, "M": ua}),
                    confusion=json.dumps(
                        [
                            [right if i == j else (10 - right if j == (i + 1) % 4 else 0) for j in range(4)]
                            for i in range(4)
                        ]
                    ),
                )
                rows.append(row)
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def write_rows(rows: pd.DataFrame, path: Path) -> Path:
    """The rows as a results CSV, every field quoted (how a carriage return in a cell is written is the results
    CSV surface's business, not this one's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    return path


class _Page(HTMLParser):
    """The tags and attributes of a page, and the number of cells of each table row (per table)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.tables, self.svg, self.links = set(), set(), [], 0, []

    def handle_starttag(self, tag, attrs):
        self.svg += tag == "svg"
        if self.svg:
            return  # matplotlib's figures: their own markup, checked apart
        attrs = dict(attrs)
        if tag == "img" and re.fullmatch(r"[a-z_]+\.png", attrs.get("src") or ""):
            tag = "figure"  # a report figure, by its file name; any other image is a name's doing
            attrs.pop("src")
        self.tags.add(tag)
        self.attributes |= set(attrs)
        self.links += [v for k, v in attrs.items() if k == "href" and not (v or "").startswith("#")]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append(0)
        elif tag in ("td", "th"):
            self.tables[-1][-1] += 1

    def handle_endtag(self, tag):
        self.svg -= tag == "svg"


def page_problems(page: str) -> list[str]:
    """What is wrong with an HTML page made of hostile names: foreign tags, event attributes, ragged tables."""
    parser = _Page()
    parser.feed(page)
    problems = [f"tag <{t}>" for t in parser.tags - SAFE_TAGS]
    problems += [f"attribute {a}" for a in parser.attributes if a.startswith("on") or a == "src"]
    problems += [f"link {h}" for h in parser.links]
    problems += [f"table {k} rows of {sorted(set(t))} cells" for k, t in enumerate(parser.tables) if len(set(t)) > 1]
    return problems


def markdown_cells(line: str) -> int:
    """The cells of a Markdown table line: `|` not escaped by a backslash."""
    count, escaped = 0, False
    for ch in line.strip():
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            count += 1
    return count - 1


def markdown_problems(text: str) -> list[str]:
    """Ragged Markdown tables (by their own `|`), and what Python-Markdown (the docs site's renderer, with the
    site's extensions) makes of the text: page_problems of its HTML."""
    problems, header = [], None
    for line in text.splitlines():
        if line.startswith("|"):
            header = header if header is not None else markdown_cells(line)
            if markdown_cells(line) != header:
                problems.append(f"table row of {markdown_cells(line)} cells under {header}: {line[:120]!r}")
        else:
            header = None
    import markdown

    rendered = markdown.markdown(text, extensions=["tables", "attr_list", "admonition", "pymdownx.details"])
    return problems + page_problems(rendered)


def render_all(path: Path) -> dict[str, str]:
    """The report of one results file, rendered in memory without figures: Markdown, summary.md, HTML, JSON."""
    from featbench.report.analysis import analyse
    from featbench.report.compare import build_report, render_json
    from featbench.report.html import render_html
    from featbench.report.markdown import blocks_markdown, render_markdown

    report = build_report(analyse([path], n_boot=20), path.parent, figures=False)
    return {
        "md": render_markdown(report),
        "summary": blocks_markdown(report.section("summary").blocks),
        "html": render_html(report),
        "json": render_json(report),
    }


def check_rendered(out: dict[str, str], names: dict[str, str]) -> bool:
    """Escaped, structure intact, every name still readable in the page, protocol.json read back."""
    from featbench.report.escape import visible

    problems = markdown_problems(out["md"]) + markdown_problems(out["summary"]) + page_problems(out["html"])
    page = html.unescape(re.sub(r"<[^>]+>", "", out["html"]))
    problems += [
        f"{role} name {name!r} not in the page"
        for role, name in names.items()
        if visible(name).strip() and visible(name).strip() not in page
    ]
    json.loads(out["json"])
    assert not problems, problems[:5]
    return True


def report_cases(rng: random.Random, workdir: Path):
    i = 0
    while True:
        roles = rng.sample(ROLES, rng.randrange(1, 4))
        names = {role: rng.choice(NAMES) for role in roles}
        path = write_rows(results_rows(names), workdir / f"r{i}" / "results.csv")
        i += 1
        yield Case(
            f"{path.parent.name}: {names!r}"[:200],
            lambda path=path: render_all(path),
            check=lambda out, names=names: check_rendered(out, names),
            names=[str(path)],
            seconds=30,
        )


SURFACE = Surface("report names", report_cases)


def test_hostile_names_are_escaped_in_every_report(tmp_path):
    campaign(SURFACE, cases_budget(20), tmp_path).assert_clean(at_least=20)


def test_every_hostile_name_in_every_role(tmp_path):
    """Each name of HOSTILE_NAMES (and EXTRA_NAMES) once in every role (a report per name, the other roles holding
    the next names): rendered, escaped, tables intact, every name readable."""
    for k in range(len(NAMES)):
        names = {role: NAMES[(k + j) % len(NAMES)] for j, role in enumerate(ROLES)}
        check_rendered(render_all(write_rows(results_rows(names), tmp_path / f"r{k}" / "results.csv")), names)


def test_whole_compare_with_hostile_names_writes_escaped_files_and_figures(tmp_path, recwarn):
    """Figures too (matplotlib SVG inlined in report.html): no raw markup, no mathtext error, no warning per glyph."""
    from featbench.report import compare

    names = {
        "label": "<script>alert(1)</script>",
        "speaker": "<img src=x onerror=alert(1)>",
        "gender": "a|b|c",
        "corpus": "日本語 $\\notacommand$",
        "view": "**bold** _x_ [link](javascript:alert(1))",
        "other": "\u202eevil",
        "classifier": "x\x1b[31m",
    }
    path = write_rows(results_rows(names), tmp_path / "results.csv")
    made = compare([path], tmp_path / "rep", n_boot=20)
    out = {
        "md": (made.out / "report.md").read_text(),
        "summary": (made.out / "summary.md").read_text(),
        "html": (made.out / "report.html").read_text(),
        "json": (made.out / "protocol.json").read_text(),
    }
    check_rendered(out, {k: v for k, v in names.items() if k != "label"})  # labels show in figures and the protocol
    for svg in made.out.glob("*.svg"):
        text = svg.read_text()
        assert "<script" not in text and "onerror=" not in text.replace("onerror=alert(1)&gt;", ""), svg.name
    assert not [w for w in recwarn if "Glyph" in str(w.message)], [str(w.message) for w in recwarn][:3]


def test_compare_command_with_hostile_names_is_quiet(tmp_path):
    """The command line: exit 0, nothing on stderr (no warning of matplotlib, numpy or sklearn), the report written."""
    path = write_rows(
        results_rows({"corpus": "日本語", "label": "<script>x</script>", "view": "tab\there"}), tmp_path / "results.csv"
    )
    result = run_cli(["compare", str(path), "--out", str(tmp_path / "rep")], seconds=120)
    assert result.code == 0 and not result.stderr.strip(), result.stderr[-2000:]
    assert "<script>" not in (tmp_path / "rep" / "report.md").read_text()


def test_damaged_rows_with_a_hostile_name_are_refused_in_one_line(tmp_path):
    path = tmp_path / "results.csv"
    rows = results_rows({"label": "<script>alert(1)</script>"})
    rows.loc[3, "budget"] = "<img src=x onerror=alert(1)>"
    write_rows(rows, path)
    line = assert_one_line_error(
        run_cli(["compare", str(path), "--out", str(tmp_path / "rep")], seconds=60), naming=str(path)
    )
    assert "line 5" in line and not (tmp_path / "rep").exists()
