"""Griffe extension for the API reference: a docstring's doctest examples (``>>>`` lines and their output, up
to the next blank line) are shown as Python console code blocks, not as Markdown quotes."""
from __future__ import annotations

import griffe


def fence_doctests(text: str) -> str:
    """`text` with a fence (```pycon ... ```) around every run of lines from a ``>>>`` line to the next blank line."""
    out, inside = [], False
    for line in text.splitlines():
        if not inside and line.lstrip().startswith(">>>"):
            out.append("```pycon")
            inside = True
        elif inside and not line.strip():
            out.append("```")
            inside = False
        out.append(line)
    return "\n".join(out + (["```"] if inside else []))


class DoctestBlocks(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)
