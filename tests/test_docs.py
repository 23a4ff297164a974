"""The documentation: the site builds with --strict, every `featbench ...` example in docs/ and README.md names
commands and options the command line has (checked on its command tree), the Python examples import what
exists, the README stays short, and "Your own corpus in 10 minutes" runs end to end exactly as written."""
from __future__ import annotations

import ast
import importlib
import os
import shlex
import subprocess
import sys

import pandas as pd
import pytest
import typer
from markdown_it import MarkdownIt

from conftest import REPO, SHARED, needs_ravdess
from featbench.cli import app

PAGES = sorted((REPO / "docs").rglob("*.md")) + [REPO / "README.md"]
SHELL = {"bash", "sh", "shell", "console", ""}
PREFIXES = {"do", "then", "else", "time", "!", "&&", "||"}
WALKTHROUGH = "Your own corpus in 10 minutes"


def _tokens(path):
    return MarkdownIt().parse(path.read_text())


def shell_examples(path) -> list[tuple[str, str]]:
    """(where, text) of every shell code block and inline code span starting with 'featbench ' of a page."""
    found = []
    for token in _tokens(path):
        if token.type == "fence" and token.info.strip() in SHELL:
            found.append((f"{path.name}:{token.map[0] + 1}", token.content))
        for child in token.children or []:
            if child.type == "code_inline" and child.content.startswith("featbench "):
                found.append((f"{path.name}:{token.map[0] + 1}", child.content))
    return found


def featbench_commands(script: str) -> list[list[str]]:
    """The argument lists of every `featbench ...` command in a shell script, with `$NAME` expanded where the
    script sets NAME (NAME=value or NAME="..."); continuation lines joined, comments dropped."""
    variables, commands = {}, []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split, lexer.commenters = True, "#"
        segment: list[str] = []
        for token in [*lexer, ";"]:
            if token in (";", "&&", "||", "|", "(", ")", "&"):
                commands += _command(segment, variables)
                segment = []
            else:
                segment.append(token)
    return commands


def _command(segment: list[str], variables: dict) -> list[list[str]]:
    while segment and (segment[0] in PREFIXES or ("=" in segment[0] and segment[0].split("=")[0].isidentifier())):
        if "=" in segment[0] and segment[0] not in PREFIXES:
            name, _, value = segment[0].partition("=")
            variables[name] = value
        segment = segment[1:]
    if not segment or segment[0] != "featbench":
        return []
    expanded = []
    for token in segment[1:]:
        name = token[1:]
        expanded += shlex.split(variables[name]) if token.startswith("$") and name in variables else [token]
    return [expanded]


def check_command(root, args: list[str]) -> str | None:
    """What is wrong with `featbench ARGS` against the command tree (None: nothing): an unknown command, or an
    option its command does not take. Placeholders (COMMAND, <name>) end the check."""
    node, path = root, "featbench"
    for arg in args:
        if arg.isupper() or arg.startswith("<"):
            return None
        if arg.startswith("-"):
            name = arg.split("=", 1)[0]
            options = {opt for param in node.params for opt in [*param.opts, *param.secondary_opts]} | {"--help"}
            if name not in options:
                return f"{path} has no option {name}"
        elif getattr(node, "commands", None):
            if arg not in node.commands:
                return f"{path} has no command {arg!r}"
            node, path = node.commands[arg], f"{path} {arg}"
    return None


def test_the_checker_finds_unknown_commands_and_options():
    root = typer.main.get_command(app)
    script = 'X="--classes a,b"; featbench train s/ $X --budgets 4 \\\n  --nope 1  # comment --ignored\nfeatbench trian s/'
    commands = featbench_commands(script)
    assert commands == [["train", "s/", "--classes", "a,b", "--budgets", "4", "--nope", "1"], ["trian", "s/"]]
    assert [check_command(root, c) for c in commands] == ["featbench train has no option --nope",
                                                           "featbench has no command 'trian'"]
    assert check_command(root, ["results", "upgrade", "old.csv"]) is None
    assert check_command(root, ["COMMAND", "--help"]) is None


def test_every_featbench_example_in_the_docs_matches_the_command_line():
    root = typer.main.get_command(app)
    problems, seen = [], set()
    for page in PAGES:
        for where, text in shell_examples(page):
            for args in featbench_commands(text):
                seen.update(args[:1])
                problem = check_command(root, args)
                if problem:
                    problems.append(f"{where}: featbench {' '.join(args)}: {problem}")
    assert problems == []
    assert len(seen) > 5 and set(root.commands) <= seen, f"commands without an example: {set(root.commands) - seen}"


def test_python_examples_import_what_exists_and_scripts_keep_the_main_guard():
    blocks = [(page.name, t.content) for page in PAGES for t in _tokens(page)
              if t.type == "fence" and t.info.strip() == "python"]
    assert len(blocks) >= 4
    for where, code in blocks:
        tree = ast.parse(code, where)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module.startswith("featbench"):
                module = importlib.import_module(node.module)
                assert all(hasattr(module, alias.name) for alias in node.names), (where, node.module)
        if "executor=Local(" in code:  # worker processes re-import a script: its work must sit under the guard
            assert 'if __name__ == "__main__":' in code, where


def test_readme_is_at_most_200_lines():
    assert len((REPO / "README.md").read_text().splitlines()) <= 200


def test_the_site_builds_strict_offline(tmp_path):
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (pip install -e '.[docs]')")
    pytest.importorskip("material", reason="the docs extra is not installed (pip install -e '.[docs]')")
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    commands = (tmp_path / "site" / "reference" / "commands" / "index.html").read_text()
    root = typer.main.get_command(app)
    for name, command in root.commands.items():  # generated from the command tree: every command, every option
        assert f'id="{name}"' in commands
        for param in command.params:
            assert all(opt in commands for opt in param.opts if opt.startswith("--")), (name, param.opts)
    results = (tmp_path / "site" / "results" / "index.html").read_text()
    claim = (REPO / "results/ravdess/4class/report.md").read_text().split("## Claims\n\n")[1].splitlines()[2]
    assert claim.split(" | ")[0].strip("| ") in results  # the first claim, included from the committed report
    assert "fonts.googleapis" not in (tmp_path / "site" / "index.html").read_text()


def walkthrough_blocks() -> list[str]:
    """The shell blocks of Getting started's walkthrough section, in order."""
    tokens, inside, blocks = _tokens(REPO / "docs" / "getting-started.md"), False, []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            inside = tokens[i + 1].content == WALKTHROUGH
        elif inside and token.type == "fence" and token.info.strip() in SHELL:
            blocks.append(token.content)
    return blocks


@needs_ravdess
def test_your_own_corpus_walkthrough_runs_as_written(tmp_path):
    blocks = walkthrough_blocks()
    commands = [args[0] for block in blocks for args in featbench_commands(block)]
    assert commands == ["corpus", "extract", "train", "compare", "fit", "predict"]
    (tmp_path / "shared").symlink_to(SHARED, target_is_directory=True)  # ../shared as seen from a checkout
    checkout, tools = tmp_path / "checkout", tmp_path / "bin"
    checkout.mkdir()
    tools.mkdir()
    (tools / "featbench").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m featbench "$@"\n')
    (tools / "featbench").chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", "\n".join(blocks)], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    tour = checkout / "tour"
    assert (tour / "corpus" / "Actor_01").is_symlink()
    rows = pd.read_csv(tour / "results.csv")
    assert set(rows.view) == {"egemaps-func", "fbank"} and set(rows.budget.astype(str)) == {"4", "8", "all"}
    assert set(rows.speakers_confounded) == {False} and set(rows.normalisation) == {"training"}
    assert "## Claims" in (tour / "report" / "report.md").read_text()
    predictions = pd.read_csv(tour / "predictions.csv")
    assert len(predictions) == 8 and set(predictions.predicted) <= {"neutral", "happy", "sad", "angry"}
    assert all(path.endswith("-05.flac") or path.endswith("-05.wav") for path in predictions.path)


def test_the_readme_example_is_the_walkthrough_that_runs():
    readme = [t.content for t in _tokens(REPO / "README.md") if t.type == "fence" and t.info.strip() == "bash"]
    example = next(block for block in readme if "featbench predict" in block)
    assert featbench_commands(example) == [args for block in walkthrough_blocks() for args in featbench_commands(block)]
