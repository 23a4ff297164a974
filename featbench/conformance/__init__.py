"""`featbench families --check NAME`: does a family keep the contract the rest of featbench relies on?

The family (built-in or plug-in, default options) runs on three short synthetic clips (written as WAV files
and decoded by featbench, as `extract` sees them; a family that reads transcripts gets three sentences) and
each check is one line, passed or failed, with what was found:

- builds: constructed with its default options, `load()` runs, and it extracts every clip
- declared: columns are `dim` distinct names, frame rate and row kind are what a row says, layers divide dim
- shapes: every output is (rows, dim); one row for utterance rows, about duration x frame rate for frame rows
- dtype: float32; finite: no NaN or infinity (a clip with them is recorded as failed)
- deterministic: the same clip twice, and on a fresh instance, gives the same numbers
- pickles: a pickled copy (what `--jobs N` sends to worker processes) gives the same numbers
- batch: `extract_batch` gives what extracting one clip at a time gives (within float rounding)
- config hash: the same for the same options, different when an option changes
- Ctrl-C: a KeyboardInterrupt raised inside `load`, `extract` or `extract_batch` comes out as one
  (`interrupts`), and an extraction interrupted mid-run keeps only whole clips and resumes

The checks run in a child process, each within a time limit (`check_family`): a family that hangs, exits or
crashes fails the check it was in, and the others still run.

>>> check = Check("dtype", True, "float32")
>>> check.line()
'  pass  dtype: float32'
"""
from __future__ import annotations

import pickle
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from collections.abc import Callable

import numpy as np

from featbench.audio import AudioConfig
from featbench.child_process import ChildCrashed, ChildNotStarted, ChildTimeout, stream_in_child
from featbench.errors import FeatbenchError, one_line
from featbench.features import FAMILIES, InputKind, build_family
from featbench.features.plugins import discover
from featbench.conformance.arrays import SAME, same
from featbench.row_kinds import RowKind

CLIP_SECONDS = (0.5, 1.0, 0.75)
SENTENCES = ("Kids are talking by the door.", "Dogs are sitting by the door.", "The cat sat on the mat today.")
BATCHED = dict(rtol=1e-4, atol=1e-5)  # batch vs one by one: what `extract_batch` promises (padding, other kernels)
DEFAULT_LIMIT_S = 300.0  # per check (`families --check --timeout`): whisper's slowest takes about 20 s on a CPU
TITLES = ("builds", "declared", "shapes", "dtype", "finite", "deterministic", "pickles", "batch", "config hash",
          "Ctrl-C inside the family", "Ctrl-C during extraction")


@dataclass(frozen=True)
class Check:
    """One check's outcome: `passed` None means it could not run (an earlier check failed)."""

    name: str
    passed: bool | None
    detail: str

    def line(self) -> str:
        mark = {True: "pass", False: "FAIL", None: "skip"}[self.passed]
        return f"  {mark}  {self.name}: {self.detail}"


@dataclass
class Conformance:
    """What `check_family` found: one Check per line; `ok` when none failed."""

    family: str
    origin: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.passed is not False for c in self.checks)

    def lines(self) -> list[str]:
        failed = sum(c.passed is False for c in self.checks)
        verdict = (f"{self.family}: conforms ({len(self.checks)} checks passed)" if self.ok else
                   f"{self.family}: does not conform ({failed} of {len(self.checks)} checks failed)")
        return [f"{self.family} ({self.origin}):", *(c.line() for c in self.checks), verdict]


@dataclass
class Probe:
    """The family under test, its inputs (signals or sentences) and its first outputs."""

    name: str
    options: dict
    audio: AudioConfig
    family: object
    inputs: list
    paths: list[Path]
    outputs: list[np.ndarray] = field(default_factory=list)

    @property
    def text(self) -> bool:
        return self.family.input is InputKind.TEXT

    def one(self, family, item) -> np.ndarray:
        """One clip's (or sentence's) features."""
        return family.extract_text([item])[0] if self.text else family.extract(item, self.audio.sample_rate)

    def many(self, family, items: list) -> list[np.ndarray]:
        return family.extract_text_batch(list(items)) if self.text else family.extract_batch(list(items), self.audio.sample_rate)

    def fresh(self, load: bool = True):
        """A new instance with the same options, loaded (unless `load` is False)."""
        family = build_family(self.name, self.options, self.audio)
        if load:
            family.load()
        return family


def origin(name: str) -> str:
    """'built-in', or the plug-in's distribution and version."""
    if name in FAMILIES:
        return "built-in"
    return next((f"plug-in from {p.origin}" for p in discover(frozenset(FAMILIES)) if p.name == name), "unknown")


def _differ(name: str, outputs: list, others: list, tolerance: dict) -> str:
    """'' when both lists agree clip by clip, else where they first differ (one phrase)."""
    if len(others) != len(outputs):
        return f"{len(others)} arrays for {len(outputs)} clips"
    for k, (a, b) in enumerate(zip(outputs, others)):
        b = np.asarray(b)
        if not same(a, b, tolerance):
            if a.shape != b.shape:
                return f"clip {k + 1}: shape {b.shape} {name}, {a.shape} first"
            gap = float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))
            return f"clip {k + 1}: values differ by up to {gap:.3g} {name}"
    return ""


def synthetic_inputs(folder: Path, audio: AudioConfig, text: bool) -> tuple[list, list[Path]]:
    """Three short clips (harmonics plus a little noise, seed 0) written as WAV and decoded by featbench, or three
    sentences for a family that reads transcripts: (inputs, wav paths)."""
    import soundfile as sf

    from featbench.audio import load

    rng, rate, paths = np.random.default_rng(0), audio.sample_rate, []
    for k, seconds in enumerate(CLIP_SECONDS):
        t = np.arange(int(seconds * rate)) / rate
        x = sum(np.sin(2 * np.pi * (140 + 60 * k) * h * t) / h for h in range(1, 6)) * 0.2 + rng.normal(0, 0.01, t.size)
        paths.append(folder / f"clip{k + 1}.wav")
        sf.write(paths[-1], x.astype(np.float32), rate, subtype="FLOAT")
    return (list(SENTENCES) if text else [load(p, audio) for p in paths]), paths


def check_family(name: str, options: dict | None = None, audio: AudioConfig = AudioConfig(),
                 limit: float = DEFAULT_LIMIT_S) -> Conformance:
    """Run every check on family `name` (with `options`, default: its defaults); a Conformance, one Check per line.
    An unknown family or a plug-in that cannot be used is a one-line FeatbenchError.

    The checks run in a child process (`featbench.child_process`), each within `limit` seconds: one that does not
    finish (a family that hangs) or ends the process (sys.exit, a crash) is that check's failure, and the checks
    after it run in a fresh child. A Ctrl-C stops them all (KeyboardInterrupt)."""
    from featbench.features import family_class

    family_class(name)  # unknown, or a plug-in that cannot be used: one line, before any work
    result = Conformance(name, origin(name))
    with tempfile.TemporaryDirectory(prefix="featbench-check-") as folder:  # removed here, even after a kill
        while len(result.checks) < len(TITLES) and all(c.passed for c in result.checks[:1]):
            done = len(result.checks)
            try:
                for check in stream_in_child(run_checks, name, dict(options or {}), audio, done,
                                             Path(folder) / f"run{done}", limit=limit, interrupts=True):
                    result.checks.append(check)
            except ChildTimeout:
                result.checks.append(Check(TITLES[len(result.checks)], False, f"did not finish within {limit:g} s"))
            except ChildCrashed as err:
                result.checks.append(Check(TITLES[len(result.checks)], False,
                                           f"the process running it ended (exit code {err.returncode})"))
            except ChildNotStarted as err:
                raise FeatbenchError(f"could not start a process to check '{name}' ({err})") from None
            if len(result.checks) == done:
                break  # nothing more came (never expected): no endless loop
    return result


def _checks() -> list[tuple[str, Callable]]:
    from featbench.conformance.interrupts import check_interrupted_extraction, check_interrupts

    return [("declared", _declared), ("shapes", _shapes), ("dtype", _dtype), ("finite", _finite),
            ("deterministic", _deterministic), ("pickles", _pickles), ("batch", _batch), ("config hash", _config_hash),
            ("Ctrl-C inside the family", check_interrupts), ("Ctrl-C during extraction", check_interrupted_extraction)]


def run_checks(name: str, options: dict, audio: AudioConfig, skip: int, folder: Path):
    """Yield the Check of each of TITLES from number `skip` on (the family built again in `folder` first). Runs in
    the child process of `check_family`, where no Ctrl-C of the user arrives (the parent kills it): whatever the
    family raises, SystemExit and KeyboardInterrupt included, is a failed check."""
    folder.mkdir(parents=True, exist_ok=True)
    built = Conformance(name, "")
    probe = _built(name, options, audio, folder, built)
    if not skip:
        yield built.checks[0]
    if probe is None:
        for title in TITLES[skip:] if skip else ():
            yield Check(title, False, f"not run: the family did not build again ({built.checks[0].detail})")
        return
    for title, check in _checks()[max(skip, 1) - 1:]:
        yield _guarded(title, check, probe)


def _guarded(title: str, check: Callable, probe: Probe) -> Check:
    """`check(probe)` -> (passed, detail) as a Check; an exception it raises is that check's failure, in one line."""
    try:
        passed, detail = check(probe)
    except (Exception, SystemExit, KeyboardInterrupt) as err:  # the family's own (see run_checks): one line
        passed, detail = False, f"raised {one_line(err)}"
    return Check(title, passed, detail)


def _built(name: str, options: dict, audio: AudioConfig, folder: Path, result: Conformance) -> Probe | None:
    """The family built, loaded and run once on every input (the first check); None when that fails."""
    try:
        family = build_family(name, options, audio)
        family.load()
        inputs, paths = synthetic_inputs(folder, audio, family.input is InputKind.TEXT)
        probe = Probe(name, options, audio, family, inputs, paths)
        probe.outputs = [np.asarray(probe.one(family, x)) for x in inputs]
    except (Exception, SystemExit, KeyboardInterrupt) as err:  # options, model files, or the family's own: one line
        result.checks.append(Check("builds", False, one_line(err)))
        return None
    shapes = ", ".join(str(tuple(a.shape)) for a in probe.outputs)
    what = "sentences" if probe.text else "clips (" + ", ".join(f"{s:g} s" for s in CLIP_SECONDS) + f" at {audio.sample_rate} Hz)"
    result.checks.append(Check("builds", True, f"default options, load(), {len(inputs)} {what} -> {shapes}"))
    return probe


def _declared(probe: Probe) -> tuple[bool, str]:
    family = probe.family
    columns, kind, rate, layers = list(family.columns), family.row_kind, family.frame_rate, family.n_layers
    if len(columns) != family.dim or len(set(map(str, columns))) != len(columns):
        return False, f"{len(columns)} columns ({len(set(map(str, columns)))} distinct) for dim {family.dim}"
    if not isinstance(kind, RowKind):
        return False, f"row_kind {kind!r} is not a featbench RowKind"
    fits = {RowKind.UTTERANCE: rate == 0, RowKind.FRAMES: rate > 0, RowKind.WAVEFORM: rate == probe.audio.sample_rate}
    if not isinstance(rate, (int, float)) or rate < 0 or not fits.get(kind, True):
        return False, f"frame_rate {rate!r} does not fit rows '{kind.value}' (utterance: 0, frames: > 0, waveform: the sample rate)"
    if not isinstance(layers, int) or layers < 0 or (layers and family.dim % layers):
        return False, f"n_layers {layers!r} does not divide dim {family.dim}"
    return True, f"{family.dim} columns, rows '{kind.value}' at {rate:g}/s" + (f", {layers} layers" if layers else "")


def _expected_rows(probe: Probe, k: int) -> tuple[int, int] | None:
    """(rows, tolerance) an output should have, or None when any number of rows is right (tokens)."""
    family, kind = probe.family, probe.family.row_kind
    if kind is RowKind.UTTERANCE:
        return 1, 0
    if kind is RowKind.WAVEFORM:
        return len(probe.inputs[k]), 0
    if kind is RowKind.FRAMES and not probe.text:
        expected = len(probe.inputs[k]) / probe.audio.sample_rate * family.frame_rate
        return int(round(expected)), max(3, int(0.1 * expected))  # windows and strides cut a frame or two
    return None


def _shapes(probe: Probe) -> tuple[bool, str]:
    for k, array in enumerate(probe.outputs):
        if array.ndim != 2 or array.shape[1] != probe.family.dim:
            return False, f"clip {k + 1}: shape {array.shape}, declared (rows, {probe.family.dim})"
        expected = _expected_rows(probe, k)
        if expected and abs(len(array) - expected[0]) > expected[1]:
            return False, (f"clip {k + 1}: {len(array)} rows, rows '{probe.family.row_kind.value}' at "
                           f"{probe.family.frame_rate:g}/s make about {expected[0]}")
        if not len(array):
            return False, f"clip {k + 1}: no rows"
    return True, f"(rows, {probe.family.dim}) for every clip, rows as the row kind and frame rate say"


def _dtype(probe: Probe) -> tuple[bool, str]:
    wrong = [f"clip {k + 1}: {a.dtype}" for k, a in enumerate(probe.outputs) if a.dtype != np.float32]
    return (False, f"{wrong[0]}, not float32") if wrong else (True, "float32")


def _finite(probe: Probe) -> tuple[bool, str]:
    bad = [k + 1 for k, a in enumerate(probe.outputs) if not np.all(np.isfinite(a))]
    return (False, f"clip {bad[0]} has NaN or infinite values") if bad else (True, "no NaN or infinity")


def _deterministic(probe: Probe) -> tuple[bool, str]:
    again = [probe.one(probe.family, x) for x in probe.inputs]
    problem = _differ("the second time", probe.outputs, again, SAME)
    if not problem:
        problem = _differ("on a fresh instance", probe.outputs, [probe.one(probe.fresh(), x) for x in probe.inputs], SAME)
    return (False, problem) if problem else (True, "the same numbers twice, and on a fresh instance")


def _pickles(probe: Probe) -> tuple[bool, str]:
    copy = pickle.loads(pickle.dumps(probe.family))
    problem = _differ("from a pickled copy", probe.outputs, [probe.one(copy, x) for x in probe.inputs], SAME)
    return (False, problem) if problem else (True, "a pickled copy (--jobs N) gives the same numbers")


def _batch(probe: Probe) -> tuple[bool, str]:
    problem = _differ("in one batch", probe.outputs, probe.many(probe.family, probe.inputs), BATCHED)
    return (False, problem) if problem else (True, "a batch of all clips gives what one clip at a time gives")


def _other_values(value) -> list:
    """Values to try instead of an option's default, to see that the config hash follows it (texts: none)."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, (int, float)):
        kind = type(value)
        return [v for v in dict.fromkeys([kind(value + 1), kind(value * 2), kind(value - 1), kind(1)]) if v != value]
    return []


def _config_hash(probe: Probe) -> tuple[bool, str]:
    hashed = probe.family.config_hash()
    if probe.fresh().config_hash() != hashed:
        return False, "two instances with the same options have different config hashes"
    varied, equivalent, untried = [], [], []
    for option in fields(probe.family.config):
        default = getattr(probe.family.config, option.name)
        for value in _other_values(default):
            try:
                other = build_family(probe.name, {**probe.options, option.name: value}, probe.audio)
            except FeatbenchError:
                continue  # not a valid value of this option: try the next
            if other.config_hash() != hashed:
                varied.append(option.name)
            elif _same_features(probe, other):  # an equivalent setting (a value clamped to the same one)
                equivalent.append(f"{option.name}={value!r}")
            else:
                return False, f"{option.name}={value!r} (default {default!r}) gives other features but the same config hash {hashed}"
            break
        else:
            untried.append(option.name)
    notes = [f"same features and hash: {', '.join(equivalent)}"] * bool(equivalent) + \
        [f"not varied: {', '.join(untried)}"] * bool(untried)
    detail = f"stable; changed by {', '.join(varied)}" if varied else "stable"
    detail += f" ({'; '.join(notes)})" if notes else ""
    return True, detail + ("" if varied or notes else " (the family has no options)")


def _same_features(probe: Probe, other) -> bool:
    """Whether family instance `other` gives the probe's outputs."""
    other.load()
    return not _differ("", probe.outputs, [probe.one(other, x) for x in probe.inputs], SAME)


