"""Feature families from other packages: the ``featbench.families`` entry-point group.

A distribution declares its families in its ``pyproject.toml``; the entry point's name is the family name,
its object a `FeatureFamily` subclass whose `name` is that name (docs/plugins.md has the whole contract)::

    [project.entry-points."featbench.families"]
    energy-zcr = "my_encoder.family:EnergyZcr"

Once it is installed, ``featbench extract --features energy-zcr`` finds it: nothing in featbench changes.
A plug-in that cannot be imported, is not a FeatureFamily, or claims a name it may not have (a built-in
family's, another plug-in's, or one that views and ``--set`` could not spell) is not used; `discover`
keeps one line saying why (`Plugin.line`), and ``featbench families`` prints it. Never a traceback, and never
featbench's exit: a plug-in whose import calls sys.exit(), raises KeyboardInterrupt itself (`foreign_code`),
hangs or crashes its process (imported in a child process first: `plugin_probe`) is one of those lines.

A usable plug-in's class gets ``plugin_origin = {distribution: version}``: part of its config hash, as
library versions are, so a store or model made with another release of the plug-in is never mixed up.

>>> usable_name("my-encoder"), usable_name("a+b"), usable_name("x.y")
(True, False, False)
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import re
from dataclasses import dataclass
from importlib import metadata

from featbench.errors import FeatbenchError, one_line
from featbench.features.base import FeatureFamily
from featbench.features.plugin_probe import probe
from featbench.foreign_code import ForeignExit, foreign

ENTRY_POINT_GROUP = "featbench.families"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")  # '+' joins views, '@' picks layers, '.' and '=' spell --set options


def usable_name(name: str) -> bool:
    """Whether `name` can be a family name: lower-case letters, digits, '-' and '_' (as the built-in ones)."""
    return bool(_NAME.match(name))


@dataclass(frozen=True)
class Plugin:
    """One entry point of the group: the family class it gives (None when it is not used) and why not."""

    name: str
    distribution: str
    version: str
    target: str  # "module:attribute", as the entry point names it
    family: type | None = None
    problem: str = ""

    @property
    def origin(self) -> str:
        """Where it comes from: 'distribution version'."""
        return f"{self.distribution} {self.version}".strip()

    def line(self) -> str:
        """One line: the plug-in, where it comes from, and why it is not used.

        >>> Plugin("x", "my-dist", "1.0", "m:X", problem="cannot be imported (ImportError: no m)").line()
        "plug-in family 'x' (from my-dist 1.0, m:X) cannot be imported (ImportError: no m)"
        """
        return f"plug-in family '{self.name}' (from {self.origin}, {self.target}) {self.problem}"


def nonconformity(name: str, obj) -> str:
    """Why `obj` (an entry point named `name` loaded) cannot be family `name` ('' when it can).

    >>> nonconformity("f", print)
    'is not a featbench FeatureFamily subclass (it is a builtin_function_or_method)'
    """
    if not (inspect.isclass(obj) and issubclass(obj, FeatureFamily)):
        return f"is not a featbench FeatureFamily subclass (it is a {type(obj).__name__})"
    if inspect.isabstract(obj):
        return f"does not implement {', '.join(sorted(obj.__abstractmethods__))} (abstract in FeatureFamily)"
    declared = getattr(obj, "name", None)
    if declared != name:
        return f"names itself {declared!r} (class attribute `name`); its entry point calls it '{name}'"
    if not usable_name(name):
        return ("has a name featbench cannot use: lower-case letters, digits, '-' and '_' only (views write "
                "name@L4 and a+b, options --set name.option=value)")
    config = getattr(obj, "Config", None)
    if not (inspect.isclass(config) and dataclasses.is_dataclass(config)):
        return "has no `Config` dataclass (its options; an empty dataclass if it has none)"
    no_default = [f.name for f in dataclasses.fields(config)
                  if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if no_default:
        return f"Config field {no_default[0]!r} has no default (every option needs one)"
    return ""


def entry_key(point) -> tuple[str, str, str]:
    """(name, target, distribution name) of an entry point: what tells two apart."""
    dist = getattr(point, "dist", None)
    return point.name, point.value, dist.metadata["Name"] if dist is not None else ""


def entry_points() -> list:
    """The group's entry points, each once (a folder on sys.path twice lists its distributions twice)."""
    seen, points = set(), []
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_key(point) not in seen:
            seen.add(entry_key(point))
            points.append(point)
    return points


def load(point, builtin: frozenset, problem: str | None = None) -> Plugin:
    """The Plugin of entry point `point`: its family class imported (in this process), or why it cannot be used.
    `problem`: what `plugin_probe` found when a child process imported it first (then it is not imported here)."""
    dist = getattr(point, "dist", None)
    plugin = Plugin(point.name, dist.metadata["Name"] if dist is not None else "an unknown distribution",
                    dist.version if dist is not None else "", point.value)
    if point.name in builtin:
        return dataclasses.replace(plugin, problem=f"is refused: '{point.name}' is a built-in family (the built-in one "
                                                   "is used); rename the entry point")
    if problem:
        return dataclasses.replace(plugin, problem=problem)
    try:
        with foreign("its import"):  # sys.exit() or its own KeyboardInterrupt: its failure; a Ctrl-C goes up
            obj = point.load()
    except Exception as err:  # whatever a third-party import raises
        return dataclasses.replace(plugin, problem=f"cannot be imported ({_why(err)})")
    problem = nonconformity(point.name, obj)
    return dataclasses.replace(plugin, problem=problem) if problem else dataclasses.replace(plugin, family=obj)


def _why(err: Exception) -> str:
    return str(err) if isinstance(err, ForeignExit) else one_line(err)


@functools.cache
def discover(builtin: frozenset = frozenset()) -> tuple[Plugin, ...]:
    """Every entry point of the group, loaded once per process (sorted by name). `builtin`: the built-in family
    names, which no plug-in may take. Two distributions claiming one name: neither is used. Each is imported in a
    child process first (`plugin_probe`: time limit, crashes), and here only when that went well."""
    points = entry_points()
    candidates = [entry_key(point) for point in points if point.name not in builtin]
    found = probe(candidates, builtin, import_each) if candidates else {}
    plugins = sorted((load(point, builtin, found.get(entry_key(point))) for point in points),
                     key=lambda p: (p.name, p.origin))
    claimed: dict[str, list[Plugin]] = {}
    for plugin in plugins:
        claimed.setdefault(plugin.name, []).append(plugin)
    result = []
    for plugin in plugins:
        others = [p.origin for p in claimed[plugin.name] if p is not plugin]
        if others:
            plugin = dataclasses.replace(plugin, family=None, problem=f"is refused: {', '.join(others)} declares a "
                                                                      f"family '{plugin.name}' too")
        elif plugin.family is not None:
            plugin.family.plugin_origin = {plugin.distribution: plugin.version}
        result.append(plugin)
    return tuple(result)


def import_each(keys: list[tuple[str, str, str]], builtin: frozenset):
    """(key, problem) of each entry point of `keys`, in their order: what the child process of `plugin_probe` runs.
    SIGINT is ignored there (the caller handles Ctrl-C), so whatever a plug-in raises is its own failure."""
    points = {entry_key(point): point for point in entry_points()}
    for key in keys:
        if key not in points:
            yield key, "cannot be imported (its entry point was not found again: installed or removed meanwhile?)"
            continue
        try:
            problem = load(points[key], builtin).problem
        except BaseException as err:  # a BaseException of the plug-in's own (GeneratorExit, its own class)
            problem = f"cannot be imported ({one_line(err)})"
        yield key, problem


@contextlib.contextmanager
def setting_up(name: str, what: str, plugin: bool):
    """Run `what` of family `name` before any clip (its construction, `load()`, its declarations): a sys.exit() or
    its own KeyboardInterrupt there, and for a `plugin` any exception, is one line naming it (FeatbenchError).

    >>> with setting_up("x", "load()", plugin=True):
    ...     raise RuntimeError("no model")
    Traceback (most recent call last):
    featbench.errors.FeatbenchError: plug-in family 'x': load() failed (RuntimeError: no model)
    """
    kind = "plug-in family" if plugin else "family"
    try:
        with foreign(what):
            yield
    except FeatbenchError:
        raise
    except ForeignExit as err:
        raise FeatbenchError(f"{kind} '{name}': {err}") from None
    except Exception as err:
        if not plugin:
            raise  # a built-in family's bug: its traceback
        raise FeatbenchError(f"{kind} '{name}': {what} failed ({one_line(err)})") from None


def plugin_families(builtin: frozenset) -> dict[str, type]:
    """{name: class} of the plug-ins that can be used."""
    return {p.name: p.family for p in discover(builtin) if p.family is not None}
