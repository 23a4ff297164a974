"""The contract every input surface keeps under hostile input, and the seeded fuzzer that drives it.

A *surface* is something a user can hand featbench: an audio file, a manifest, a store, a checkpoint, an
import file, a plug-in, an environment variable, a temp folder. A surface module in this folder declares
``SURFACE = Surface(name, cases)``, where ``cases(rng, workdir)`` yields generated :class:`Case` objects
without end. Each case is judged once (:func:`judge`):

- **detected**: a ``FeatbenchError`` whose message is one line and names the input (a path, a setting);
- **harmless**: accepted, and the case's own ``check`` of the result holds (the input really was usable);
- **silent-wrong**: accepted, but ``check`` fails (or a refusal that names nothing / spans lines);
- **hang**: over the case's time limit;
- **traceback**: any other exception: what a user would see as a crash.

The tests run a small seeded campaign per surface (``HOSTILE_CASES``, default a few dozen) and require zero
silent-wrong, hang and traceback verdicts; ``benchmarks/fuzz_campaign.py`` runs long campaigns of the same
surfaces and prints the counts.

Command-line checks (:func:`run_cli`) run ``python -m featbench`` in a child process with a time and a
memory bound (resident memory of the process tree, sampled), for the exit code and the one-line contract.

>>> import random
>>> rng = random.Random(0)
>>> len(mutate(b"0123456789" * 10, rng)) <= 200
True
>>> judge(Case("ok", lambda: 2 + 2, check=lambda r: r == 4)).outcome
'harmless'
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable, Iterator, Sequence

DETECTED, HARMLESS, SILENT_WRONG, HANG, TRACEBACK = "detected", "harmless", "silent-wrong", "hang", "traceback"
OUTCOMES = (DETECTED, HARMLESS, SILENT_WRONG, HANG, TRACEBACK)
BAD = (SILENT_WRONG, HANG, TRACEBACK)
REPO = Path(__file__).resolve().parents[2]

# Names a user (or an attacker) can give a label, a speaker, a corpus, a file: markup, spreadsheet formulas,
# path tricks, control characters, odd Unicode, empty and huge.
HOSTILE_NAMES = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '=HYPERLINK("http://x")',
    "+1+2",
    "-2+3",
    "@SUM(A1)",
    "|cmd",
    "**bold** _x_ [link](javascript:alert(1))",
    "a|b|c",
    "../../etc/passwd",
    "a\nb",
    "a\rb",
    "tab\there",
    "\u202eevil",
    "ñ²⁹",
    "日本語",
    "x" * 300,
    " ",
    "-x",
    "*",
    "?",
    "%s%n",
    "{0}",
    "\\",
    "'\"`",
)


def cases_budget(default: int = 40) -> int:
    """How many generated cases a test runs per surface: HOSTILE_CASES, else `default` (the campaign sets more)."""
    return int(os.environ.get("HOSTILE_CASES", default))


@dataclass
class Case:
    """One generated input: `action` feeds it to featbench and returns what came out; `check(result)` says
    whether an accepted input gave the right result; `names` are strings one of which a refusal must name
    (the file, the setting); `seconds` is the time limit."""

    label: str
    action: Callable[[], object]
    check: Callable[[object], bool] = lambda result: True
    names: Sequence[str] = ()
    seconds: float = 20.0
    refusals: tuple = ()  # exception types that count as a refusal (default: FeatbenchError)


@dataclass
class Verdict:
    outcome: str
    label: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.outcome}: {self.label}: {self.detail}"


class _Timeout(BaseException):
    """Raised by the alarm in `judge`: a BaseException, so that no `except Exception` in featbench swallows it."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise _Timeout in the main thread after `seconds` (SIGALRM; the tests run in the main thread)."""

    def ring(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def judge(case: Case) -> Verdict:
    """Run one case and say which outcome it had (see the module's docstring)."""
    from featbench.errors import FeatbenchError

    refusals = case.refusals or (FeatbenchError,)
    try:
        with time_limit(case.seconds):
            result = case.action()
    except _Timeout:
        return Verdict(HANG, case.label, f"over {case.seconds} s")
    except refusals as err:
        text = str(err)
        if "\n" in text.strip() or not text.strip():
            return Verdict(SILENT_WRONG, case.label, f"refusal not one line: {text!r}")
        if case.names and not any(name in text for name in case.names):
            return Verdict(SILENT_WRONG, case.label, f"refusal names none of {list(case.names)}: {text!r}")
        return Verdict(DETECTED, case.label, text)
    except (Exception, SystemExit) as err:  # a crash, as a user would see it
        import traceback

        return Verdict(TRACEBACK, case.label, "".join(traceback.format_exception_only(type(err), err)).strip()[:500])
    try:
        good = case.check(result)
    except Exception as err:  # the check itself could not read the result: the result is wrong
        return Verdict(SILENT_WRONG, case.label, f"check failed: {type(err).__name__}: {err}")
    return Verdict(HARMLESS if good else SILENT_WRONG, case.label, "" if good else f"wrong result: {result!r}"[:500])


@dataclass(frozen=True)
class Surface:
    """An input surface: `cases(rng, workdir)` yields generated cases (endlessly, or until it has no more)."""

    name: str
    cases: Callable[[random.Random, Path], Iterator[Case]]


@dataclass
class Tally:
    """Counts per outcome of one campaign, and the bad verdicts themselves."""

    surface: str
    counts: Counter = field(default_factory=Counter)
    bad: list = field(default_factory=list)

    def add(self, verdict: Verdict) -> None:
        self.counts[verdict.outcome] += 1
        if verdict.outcome in BAD:
            self.bad.append(verdict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def row(self) -> str:
        return f"{self.surface:<22}" + "".join(f"{self.counts[o]:>14}" for o in OUTCOMES) + f"{self.total:>8}"

    def assert_clean(self, at_least: int = 1) -> None:
        """Fail with every bad verdict listed; also fail when fewer than `at_least` cases ran."""
        assert not self.bad, f"{self.surface}: {len(self.bad)} of {self.total} cases broke the contract:\n" + "\n".join(
            str(v) for v in self.bad[:20]
        )
        assert self.total >= at_least, f"{self.surface}: only {self.total} cases ran"


def campaign(surface: Surface, count: int, workdir: Path, seed: int = 0) -> Tally:
    """Judge the first `count` cases of `surface` made with `seed`, in `workdir`."""
    rng = random.Random(seed)
    tally = Tally(surface.name)
    workdir.mkdir(parents=True, exist_ok=True)
    for case, _ in zip(surface.cases(rng, workdir), range(count)):
        tally.add(judge(case))
    return tally


# ---- the fuzzer: byte mutations and hostile values ----


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random damage to `data`: truncation, flipped bytes, a zeroed or 0xff run, a duplicated or removed
    chunk, or emptiness. Deterministic for a seeded `rng`."""
    n = len(data)
    kind = rng.randrange(7)
    if n == 0 or kind == 0:
        return b"" if rng.random() < 0.5 else bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    buf = bytearray(data)
    if kind == 1:
        return bytes(buf[: rng.randrange(n)])
    if kind == 2:
        for _ in range(rng.randrange(1, 9)):
            i = rng.randrange(n)
            buf[i] ^= 1 << rng.randrange(8)
        return bytes(buf)
    start, length = rng.randrange(n), rng.randrange(1, 33)
    if kind == 3:
        buf[start : start + length] = bytes(min(length, n - start))
    elif kind == 4:
        buf[start : start + length] = b"\xff" * min(length, n - start)
    elif kind == 5:
        buf[start:start] = buf[start : start + length]
    else:
        del buf[start : start + length]
    return bytes(buf)


def hostile_value(rng: random.Random):
    """A value of the wrong kind or size, for a field that expects something else."""
    return rng.choice(
        [
            None,
            "",
            "abc",
            "nan",
            "inf",
            "-inf",
            "0",
            "-1",
            "1e309",
            2**63,
            -(2**63),
            2**31,
            float("nan"),
            float("inf"),
            1.5,
            [],
            {},
            [1, 2],
            "x" * 10000,
            b"\x00\xff",
            True,
            rng.choice(HOSTILE_NAMES),
        ]
    )


# ---- the command line, in a child process with bounds ----


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: dict | None = None,
    seconds: float = 120,
    memory_mb: float = 1500,
) -> CliResult:
    """`python -m featbench ARGS` in a child process; killed (with its children) past `seconds` or when the
    resident memory of its process tree passes `memory_mb`; code -9 then, and the reason in stderr."""
    import psutil

    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    start, peak = time.monotonic(), 0.0
    proc = subprocess.Popen(
        [sys.executable, "-m", "featbench", *args],
        cwd=cwd,
        env=full_env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    reason = ""
    import threading

    def watch():
        nonlocal peak, reason
        try:
            parent = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while proc.poll() is None:
            try:
                rss = sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)]) / 2**20
            except psutil.Error:
                rss = 0.0
            peak = max(peak, rss)
            if rss > memory_mb:
                reason = f"killed: resident memory {rss:.0f} MB > {memory_mb} MB"
            elif time.monotonic() - start > seconds:
                reason = f"killed: over {seconds} s"
            if reason:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, err = proc.communicate()
    watcher.join()
    return CliResult(proc.returncode, out, err + (f"\n{reason}" if reason else ""), time.monotonic() - start, peak)


def assert_one_line_error(result: CliResult, naming: str | Sequence[str] = (), code: int = 1) -> str:
    """The CLI contract for a refusal: exit `code`, no traceback, exactly one line on stderr (featbench's
    'featbench: error: ...' for code 1), naming one of `naming`. Returns that line."""
    names = [naming] if isinstance(naming, str) else list(naming)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.code == code, f"exit {result.code}, expected {code}: {result.stderr[-2000:]}"
    assert len(result.lines) == 1, f"expected one line on stderr, got {len(result.lines)}: {result.stderr[-2000:]}"
    line = result.lines[0]
    if code == 1:
        assert line.startswith("featbench: error:"), line
    assert not names or any(name in line for name in names), f"{line!r} names none of {names}"
    return line
