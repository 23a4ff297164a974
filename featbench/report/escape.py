"""Names from results rows (labels, speakers, genders, corpora, views) are written by whoever made the corpus: every
renderer escapes every text it writes with the one function of its output kind. The report model (report.model)
holds plain text; only these functions know what is special where it is written.

- `visible`: what every kind shares: control characters (a newline, a carriage return, a terminal escape) become a
  space and bidirectional overrides (which reorder what a reader sees) the replacement character, so a name stays
  on its line and reads in the order it was written;
- `markdown_text` (report.md, summary.md): a `<` that could open a tag, a comment or an autolink, an `&` that could
  open an entity and a leading `>` as entities (Python-Markdown, which builds the docs site, passes a
  backslash-escaped `<` through as raw HTML; '< 1.0×' stays as it is), and a backslash before every character that
  makes Markdown structure or emphasis (`| * _ [ ] { } \\` and the backquote: a table cell stays one cell, a name
  makes no link, no attribute list, no bold), and before a leading list or heading marker;
- `html_text` (report.html): `html.escape`, quotes included;
- `plot_text` (figure titles, legends, tick labels: matplotlib, whose SVG output escapes its own text): a `$`
  escaped, so a name never starts mathtext (whose parser raises on an unknown command).

JSON (protocol.json) needs nothing: `json.dumps` escapes what JSON must.

>>> markdown_text("<img src=x onerror=alert(1)> a|b **c** [d](e) < 1.0× &amp; > x")
'&lt;img src=x onerror=alert(1)> a\\\\|b \\\\*\\\\*c\\\\*\\\\* \\\\[d\\\\](e) < 1.0× &amp;amp; > x'
>>> html_text("<script>'x'</script>"), plot_text("a $x$"), visible("a\\nb\\u202ec")
('&lt;script&gt;&#x27;x&#x27;&lt;/script&gt;', 'a \\\\$x\\\\$', 'a b\\ufffdc')
>>> markdown_text("> 150"), markdown_text("> 150", cell=True)
('&gt; 150', '> 150')
>>> markdown_text("# 1. x"), markdown_text("12. x"), markdown_text("- x"), markdown_text("-0.5 [0.1, 12.5]")
('\\\\# 1. x', '12\\\\. x', '\\\\- x', '-0.5 \\\\[0.1, 12.5\\\\]')
"""
from __future__ import annotations

import html
import re
import unicodedata

_BIDI = set("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]|])")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=[A-Za-z0-9#])")
_LEADING = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[+-](?=\s|$)|\d{1,9}(?=[.)](?:\s|$)))")


def visible(text: str) -> str:
    """`text` on one line, in the order it was written: control characters a space, bidi overrides U+FFFD."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else "\ufffd" if ch in _BIDI else ch for ch in str(text))


def markdown_text(text: str, cell: bool = False) -> str:
    """`text` as Markdown shows it literally: one line, no HTML, no structure, no emphasis (see the module). In a
    table `cell` nothing opens a block (a quote, a list, a heading), so a leading '>' or '1.' stays as it is."""
    text = _MARKDOWN.sub(r"\\\1", visible(text))
    text = _TAG.sub("&lt;", _ENTITY.sub("&amp;", text))
    if cell:
        return text
    text = re.sub(r"^(\s*)>", r"\1&gt;", text)
    lead = _LEADING.match(text)
    if lead is None:
        return text
    if lead.group(2)[0].isdigit():  # '12. x' would open an ordered list: escape the dot after the number
        end = lead.end()
        return text[:end] + "\\" + text[end:]
    return text[:lead.start(2)] + "\\" + text[lead.start(2):]


def html_text(text: str) -> str:
    """`text` as HTML shows it literally, also inside an attribute."""
    return html.escape(visible(text), quote=True)


def plot_text(text: str) -> str:
    """`text` as matplotlib draws it literally: one line, no mathtext."""
    return visible(text).replace("$", r"\$")
