"""MkDocs hook: the RAVDESS study's numbers come from the committed files in results/, never typed by hand.

- ``on_files``: every report of ``results/ravdess`` and ``results/studies`` (``report.md``, its figures, ``report.html``, the fit/predict
  README) joins the site under the same path, so a page links ``results/ravdess/8class/report.md``.
- ``on_page_markdown``: a line ``<!-- include PATH#SECTION -->`` is replaced by that section of a Markdown file
  (PATH from the repository root; the lines under ``## SECTION`` up to the next ``## ``; no ``#SECTION``: the
  whole file but its ``# title``; ``#SECTION``: the ``### SECTION`` subsection). A last word ``entries`` keeps, of its tables, only the header and the rows
  that mark an entry in bold; ``bullets`` keeps only its bullet lines; ``table`` only its first table. A missing
  file or section, or nothing left to include, stops the build.
"""
from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File

REPO = Path(__file__).resolve().parents[2]
RESULTS = ("results/ravdess", "results/studies")
SUFFIXES = {".md", ".png", ".html", ".txt"}
INCLUDE = re.compile(r"^<!-- include (?P<path>[^#\s]+)(?:#(?P<section>[^>]+?))?(?: (?P<mode>entries|bullets|table))? -->$", re.M)


def on_files(files, config):
    for path in sorted(p for folder in RESULTS for p in (REPO / folder).rglob("*")):
        if path.suffix in SUFFIXES and path.is_file():
            files.append(File(str(path.relative_to(REPO)), str(REPO), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    return INCLUDE.sub(lambda match: include(match["path"], match["section"], match["mode"]), markdown)


def include(path: str, section: str | None = None, mode: str | None = None) -> str:
    """The text of `path` (or of its `## section`); `mode` 'entries' cuts its tables to their bold entries,
    'bullets' keeps its bullet lines only, 'table' its first table only."""
    source = REPO / path
    if not source.is_file():
        raise FileNotFoundError(f"docs include: {path} does not exist")
    lines = source.read_text().splitlines()
    if section:
        level = 2 + len(section) - len(section.lstrip("#"))  # '#Name': the ### subsection Name
        heading = "#" * level + " " + section.lstrip("#")
        if heading not in lines:
            raise ValueError(f"docs include: {path} has no section {heading!r}")
        start = lines.index(heading) + 1
        end = next((i for i in range(start, len(lines)) if _heading_level(lines[i]) in range(1, level + 1)), len(lines))
        lines = lines[start:end]
    elif lines and lines[0].startswith("# "):
        lines = lines[1:]
    if mode == "entries":
        lines = [line for i, line in enumerate(lines) if not _table_row(line) or "**" in line or _header(lines, i)]
    elif mode == "bullets":
        lines = [line for line in lines if line.startswith("- ")]
    elif mode == "table":
        start = next((i for i, line in enumerate(lines) if _table_row(line)), len(lines))
        end = next((i for i in range(start, len(lines)) if not _table_row(lines[i])), len(lines))
        lines = lines[start:end]
    text = "\n".join(lines).strip()
    if not text:
        raise ValueError(f"docs include: nothing to include from {path}#{section or ''} {mode or ''}")
    return text


def _heading_level(line: str) -> int:
    """How many '#' open a Markdown heading line (0: not a heading)."""
    hashes = len(line) - len(line.lstrip("#"))
    return hashes if hashes and line[hashes:hashes + 1] == " " else 0


def _table_row(line: str) -> bool:
    return line.startswith("|")


def _header(lines: list[str], i: int) -> bool:
    """The header line of a table or the separator under it."""
    before = lines[i - 1] if i > 0 else ""
    after = lines[i + 1] if i + 1 < len(lines) else ""
    return not _table_row(before) or after.startswith("|---") or lines[i].startswith("|---")
