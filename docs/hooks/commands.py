"""MkDocs hook: the command reference, generated from the Typer app's command tree, so it cannot drift.

A page holding the line ``<!-- featbench-commands -->`` gets, in its place, one section per command (its help,
usage, arguments and options, grouped by help panel) read from ``typer.main.get_command(featbench.cli.app)``.
Only attributes that Click's and Typer's parameter classes share are read (name, opts, help, default, ...).
"""
from __future__ import annotations

import html

import typer

from featbench.cli import app

MARKER = "<!-- featbench-commands -->"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, "\n".join(reference(typer.main.get_command(app))))


def commands(group, path: str = "featbench"):
    """(path, command) of every command below `group`, depth first, in the order they were registered."""
    for name, command in getattr(group, "commands", {}).items():
        if getattr(command, "hidden", False):
            continue
        yield f"{path} {name}", command
        yield from commands(command, f"{path} {name}")


def reference(root) -> list[str]:
    lines = []
    for path, command in commands(root):
        lines += [f"## {path.split(' ', 1)[1]}", "", *_help(command.help or ""), "", "```text",
                  _usage(path, command), "```", ""]
        lines += _params(command)
    return lines


def _is_option(param) -> bool:
    return any(opt.startswith("-") for opt in param.opts)


def _usage(path: str, command) -> str:
    pieces = [path]
    if getattr(command, "commands", None):
        pieces.append("COMMAND [ARGS]...")
    pieces.append("[OPTIONS]")
    for param in command.params:
        if _is_option(param):
            continue
        name = (param.metavar or param.name).upper()
        name += "..." if param.nargs == -1 and not name.endswith("...") else ""
        pieces.append(name if param.required else f"[{name}]")
    return " ".join(pieces)


def _text(text: str) -> str:
    """Help text as Markdown: Rich's escaped brackets unescaped; outside code spans '<out>' kept visible and '*'
    literal; '|' escaped everywhere (table cells)."""
    pieces = text.replace("\\[", "[").split("`")
    for i in range(0, len(pieces), 2):  # outside `code`
        pieces[i] = html.escape(pieces[i], quote=False).replace("*", "\\*").replace("_", "\\_")
    return "`".join(pieces).replace("|", "\\|")


def _help(text: str) -> list[str]:
    """Paragraphs of a command's help; a paragraph 'Example: featbench ...' becomes a code block."""
    out = []
    for paragraph in text.split("\n\n"):
        paragraph = " ".join(paragraph.split())
        if paragraph.startswith("Example: featbench "):
            out += ["Example:", "", "```bash", paragraph.removeprefix("Example: "), "```", ""]
        else:
            out += [_text(paragraph), ""]
    return out


def _default(param) -> str:
    default = param.default
    if param.required or default in (None, False, "", ()) or not getattr(param, "show_default", True):
        return ""
    return f"`{default}`" if not isinstance(default, (list, tuple)) else ", ".join(f"`{d}`" for d in default)


def _params(command) -> list[str]:
    panels: dict[str, list] = {}
    for param in command.params:
        if getattr(param, "hidden", False):
            continue
        panel = getattr(param, "rich_help_panel", None) or ("Options" if _is_option(param) else "Arguments")
        panels.setdefault(panel, []).append(param)
    lines = []
    for panel, params in panels.items():
        lines += [f"**{panel}**", "", "| name | description | default |", "|---|---|---|"]
        for param in params:
            value = f" {param.metavar}" if param.metavar and not getattr(param, "is_flag", False) else ""
            names = ", ".join(f"`{opt}{value}`" for opt in param.opts) if _is_option(param) \
                else f"`{(param.metavar or param.name).upper()}`"
            names += "".join(f", `{opt}`" for opt in param.secondary_opts if _is_option(param))
            required = " (required)" if param.required else ""
            lines.append(f"| {names} | {_text(' '.join((param.help or '').split()))}{required} | {_default(param)} |")
        lines.append("")
    return lines
