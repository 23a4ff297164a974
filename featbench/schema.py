"""A small typed check of a JSON document read from a file (a model manifest, a model's config file), so that a
field of the wrong type or a missing one is one line naming the file and the field, not a traceback later.

A schema is a type (str, int, float: any number, bool, dict: any object, list: any list), `ListOf`, `MapOf`,
`Maybe` (or null), or a dict of field -> schema (a field ending in '?' may be absent; `Closed` also refuses
fields it does not name). `check` raises FeatbenchError at the first field that does not fit.

>>> check({"labels": ["a", 2]}, {"labels": ListOf(str)}, "m.json")
Traceback (most recent call last):
featbench.errors.FeatbenchError: m.json: field 'labels.1' must be a string (got int)
>>> check({"view": {"layer": "4"}}, {"view": {"layer": Maybe(int)}, "seed?": int}, "m.json")
Traceback (most recent call last):
featbench.errors.FeatbenchError: m.json: field 'view.layer' must be an integer or null (got str)
"""
from __future__ import annotations

from dataclasses import dataclass, field

from featbench.errors import FeatbenchError


@dataclass(frozen=True)
class ListOf:
    item: object


@dataclass(frozen=True)
class MapOf:
    """An object whose every value fits `value`; `what` describes it in errors (default: 'an object of ...')."""

    value: object
    what: str = ""


@dataclass(frozen=True)
class Maybe:
    schema: object


@dataclass
class Closed:
    """An object with only the fields named (a mutable dict, so that a schema can name itself: a view's parts)."""

    fields: dict = field(default_factory=dict)


_NAMES = {str: ("a string", "strings"), int: ("an integer", "integers"), float: ("a number", "numbers"),
          bool: ("true or false", "booleans"), dict: ("an object", "objects"), list: ("a list", "lists")}


def describe(schema, plural: bool = False) -> str:
    """What a value of `schema` is, in words.

    >>> describe(ListOf(str)), describe(Maybe(float)), describe(MapOf(int))
    ('a list of strings', 'a number or null', 'an object of integers')
    """
    if isinstance(schema, Maybe):
        return f"{describe(schema.schema, plural)} or null"
    if isinstance(schema, ListOf):
        return "lists" if plural else f"a list of {describe(schema.item, plural=True)}"
    if isinstance(schema, MapOf):
        return "objects" if plural else schema.what or f"an object of {describe(schema.value, plural=True)}"
    if isinstance(schema, (dict, Closed)):
        schema = dict
    return _NAMES[schema][plural]


def _shape(schema):
    """The Python type a value of `schema` has."""
    if isinstance(schema, Maybe):
        return _shape(schema.schema)
    if isinstance(schema, ListOf):
        return list
    return dict if isinstance(schema, (MapOf, Closed, dict)) else schema


def _fits(value, kind) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _got(value) -> str:
    return "null" if value is None else type(value).__name__


def _walk(value, schema, where: str) -> str | None:
    """The first problem of `value` under `schema` at field `where`, in words; None if it fits."""
    if isinstance(schema, Maybe):
        if value is None:
            return None
        if not _fits(value, _shape(schema.schema)):
            return f"field '{where}' must be {describe(schema)} (got {_got(value)})"
        return _walk(value, schema.schema, where)
    if isinstance(schema, (Closed, dict)):
        fields = schema.fields if isinstance(schema, Closed) else schema
        if not isinstance(value, dict):
            return f"field '{where}' must be an object (got {_got(value)})"
        names = {name.rstrip("?") for name in fields}
        for name, inner in fields.items():
            key = name.rstrip("?")
            here = f"{where}.{key}" if where else key
            if key not in value:
                if not name.endswith("?"):
                    return f"field '{here}' is missing"
                continue
            problem = _walk(value[key], inner, here)
            if problem:
                return problem
        unknown = sorted(set(value) - names) if isinstance(schema, Closed) else []
        return f"field '{where + '.' if where else ''}{unknown[0]}' is not known" if unknown else None
    if isinstance(schema, (ListOf, MapOf)):
        container = list if isinstance(schema, ListOf) else dict
        if not isinstance(value, container):
            return f"field '{where}' must be {describe(schema)} (got {_got(value)})"
        items = enumerate(value) if container is list else value.items()
        inner = schema.item if isinstance(schema, ListOf) else schema.value
        for key, item in items:
            problem = _walk(item, inner, f"{where}.{key}")
            if problem:
                return problem
        return None
    if not _fits(value, schema):
        return f"field '{where}' must be {describe(schema)} (got {_got(value)})"
    return None


def check(value, schema, source) -> None:
    """Raise a one-line FeatbenchError naming `source` (the file) and the first field of `value` that does not
    fit `schema`."""
    problem = _walk(value, schema, "")
    if problem:
        raise FeatbenchError(f"{source}: {problem}")
