"""Feature families from other packages: the ``featbench.families`` entry-point group.

A distribution declares its families in its ``pyproject.toml``; the entry point's name is the family name,
its object a `FeatureFamily` subclass whose `name` is that name (docs/plugins.md has the whole contract)::

    [project.entry-points."featbench.families"]
    energy-zcr = "my_encoder.family:EnergyZcr"

Once it is installed, ``featbench extract --features energy-zcr`` finds it: nothing in featbench changes.
A plug-in that cannot be imported, is not a FeatureFamily, or claims a name it may not have (a built-in
family's, another plug-in's, or one that views and ``--set`` could not spell) is not used; `discover`
keeps one line saying why (`Plugin.line`), and ``featbench families`` prints it. Never a traceback.

A usable plug-in's class gets ``plugin_origin = {distribution: version}``: part of its config hash, as
library versions are, so a store or model made with another release of the plug-in is never mixed up.

>>> usable_name("my-encoder"), usable_name("a+b"), usable_name("x.y")
(True, False, False)
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from dataclasses import dataclass
from importlib import metadata

from featbench.errors import one_line
from featbench.features.base import FeatureFamily

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


def _entry_points() -> list:
    """The group's entry points, each once (a folder on sys.path twice lists its distributions twice)."""
    seen, points = set(), []
    for point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(point, "dist", None)
        key = (point.name, point.value, dist.metadata["Name"] if dist is not None else "")
        if key not in seen:
            seen.add(key)
            points.append(point)
    return points


def _load(point, builtin: frozenset) -> Plugin:
    dist = getattr(point, "dist", None)
    plugin = Plugin(point.name, dist.metadata["Name"] if dist is not None else "an unknown distribution",
                    dist.version if dist is not None else "", point.value)
    if point.name in builtin:
        return dataclasses.replace(plugin, problem=f"is refused: '{point.name}' is a built-in family (the built-in one "
                                                   "is used); rename the entry point")
    try:
        obj = point.load()
    except Exception as err:  # whatever a third-party import raises; Ctrl-C still stops featbench
        return dataclasses.replace(plugin, problem=f"cannot be imported ({one_line(err)})")
    problem = nonconformity(point.name, obj)
    return dataclasses.replace(plugin, problem=problem) if problem else dataclasses.replace(plugin, family=obj)


@functools.lru_cache(maxsize=None)
def discover(builtin: frozenset = frozenset()) -> tuple[Plugin, ...]:
    """Every entry point of the group, loaded once per process (sorted by name). `builtin`: the built-in family
    names, which no plug-in may take. Two distributions claiming one name: neither is used."""
    plugins = sorted((_load(point, builtin) for point in _entry_points()), key=lambda p: (p.name, p.origin))
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


def plugin_families(builtin: frozenset) -> dict[str, type]:
    """{name: class} of the plug-ins that can be used."""
    return {p.name: p.family for p in discover(builtin) if p.family is not None}
