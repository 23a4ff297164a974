r"""How an import's messages quote what a source holds (ids, names, a library's complaint about its bytes): on one
line, control characters escaped, so a hostile file can neither split a message nor send a terminal escapes.

>>> shown("Actor_01/a"), shown("a\nb")
("'Actor_01/a'", "'a\\nb'")
>>> plain("store/a.npy"), plain("store/a\rb.npy")
('store/a.npy', "'store/a\\rb.npy'")
>>> reason(ValueError("Cannot parse header: \x1b[31m\nmore"))
'ValueError: Cannot parse header: \\x1b[31m'
"""
from __future__ import annotations

from featbench.errors import one_line

LONGEST = 200  # characters of a library's message kept


def shown(name: str) -> str:
    """A clip id or name in quotes, escaped where it is not printable."""
    return f"'{name}'" if name.isprintable() else repr(name)


def plain(text: object) -> str:
    """A path or name as is where it is printable, else as Python writes it (quoted, escaped)."""
    text = str(text)
    return text if text.isprintable() else repr(text)


def reason(err: BaseException) -> str:
    """A library's exception as one short printable line (`one_line`, escaped, at most LONGEST characters)."""
    text = one_line(err)
    text = text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= LONGEST else text[: LONGEST - 3] + "..."
