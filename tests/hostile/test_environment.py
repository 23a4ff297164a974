"""Surface: the environment variables featbench reads (featbench/settings.py lists them).

The contract: each variable is either used as documented (the value read equals what the documentation says
it means) or refused in one line naming the variable and its valid values, and on the command line before
any work (no output folder made, no OpenMP warning from a library loaded first).
"""

from __future__ import annotations

import math
import os
import random
import re
from pathlib import Path

import pytest

from hostile.contract import Case, Surface, assert_one_line_error, campaign, cases_budget, hostile_value, run_cli


def _as_text(value) -> str | None:
    """A hostile value as an environment holds it: text (None: unset)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def _timeout(text: str):
    """What FEATBENCH_READ_TIMEOUT means (docs/troubleshooting.md, featbench/settings.py); None: invalid."""
    if not text:
        return 60.0
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0 < value <= 86400 else None


def _threads(text: str):
    if not text:
        return "unset"
    return int(text) if re.fullmatch(r"[0-9]+", text) and 1 <= int(text) <= 1024 else None


def _folder(text: str):
    if not text:
        return "unset"
    usable = "\0" not in text and os.path.isdir(text) and os.access(text, os.W_OK | os.X_OK)
    return text if usable else None


MEANING = {
    "FEATBENCH_READ_TIMEOUT": _timeout,
    "OMP_NUM_THREADS": _threads,
    "OPENBLAS_NUM_THREADS": _threads,
    "MKL_NUM_THREADS": _threads,
    "TMPDIR": _folder,
    "TEMP": _folder,
    "TMP": _folder,
}


def _good_value(name: str, rng: random.Random, workdir: Path) -> str:
    if name == "FEATBENCH_READ_TIMEOUT":
        return rng.choice((f"{rng.uniform(0.01, 86400):g}", str(rng.randint(1, 86400)), " 5 ", "1e3", "0.5"))
    if name.endswith("_THREADS"):
        return rng.choice((str(rng.randint(1, 1024)), "1", "1024", "1025", "01"))
    return rng.choice((str(workdir), str(workdir / "missing"), str(workdir / "a-file"), ".", "/"))


def _settings(environ: dict):
    from featbench.settings import Settings

    return Settings.from_environ(environ)


def _right(settings, environ: dict) -> bool:
    expected_threads = {k: _threads(v) for k, v in environ.items() if k.endswith("_THREADS") and v}
    expected_temp = {k: v for k, v in environ.items() if k in ("TMPDIR", "TEMP", "TMP") and v}
    return (
        settings.read_timeout_s == _timeout(environ.get("FEATBENCH_READ_TIMEOUT", ""))
        and settings.threads == expected_threads
        and settings.temp_dirs == expected_temp
    )


def environment_cases(rng: random.Random, workdir: Path):
    (workdir / "a-file").write_text("not a folder")
    while True:
        environ = {}
        for name in rng.sample(sorted(MEANING), rng.randint(1, 3)):
            value = _as_text(hostile_value(rng)) if rng.random() < 0.6 else _good_value(name, rng, workdir)
            if value is not None:
                environ[name] = value
        bad = tuple(name for name, value in environ.items() if MEANING[name](value) is None)
        yield Case(
            f"{ {k: v[:40] for k, v in environ.items()} }",
            lambda e=environ: _settings(e),
            check=lambda s, e=environ: _right(s, e),
            names=bad or ("(no variable is invalid)",),
            seconds=5,
        )


SURFACE = Surface("environment", environment_cases)


def test_every_variable_is_used_or_refused_naming_it(tmp_path):
    campaign(SURFACE, cases_budget(200), tmp_path).assert_clean(at_least=200)


def test_the_store_reads_its_timeout_through_the_settings(monkeypatch):
    from featbench.errors import FeatbenchError
    from featbench.store.bounded import timeout_s

    monkeypatch.setenv("FEATBENCH_READ_TIMEOUT", "2.5")
    assert timeout_s() == 2.5
    for text in ("abc", "0", "inf", "nan", "-1", "1e309"):
        monkeypatch.setenv("FEATBENCH_READ_TIMEOUT", text)
        with pytest.raises(FeatbenchError, match=f"^FEATBENCH_READ_TIMEOUT={re.escape(repr(text))}: .*above 0"):
            timeout_s()


@pytest.mark.parametrize(
    "name, value",
    [
        ("FEATBENCH_READ_TIMEOUT", "abc"),
        ("OMP_NUM_THREADS", "abc"),
        ("MKL_NUM_THREADS", "0"),
        ("TMPDIR", "/no/such/folder"),
    ],
)
def test_a_bad_variable_is_one_line_before_any_work(tmp_path, name, value):
    # OMP_NUM_THREADS=abc made libgomp print its own warning and go on with its default; a TMPDIR Python cannot
    # use was silently replaced by /tmp; FEATBENCH_READ_TIMEOUT=abc was seen only at the first store read
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "a.wav", 0.1 * np.sin(np.arange(8000) / 5).astype(np.float32), 16000)
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,emotion,speaker\na.wav,sad,s1\n")  # with good settings, extract makes ./store in 2 s
    result = run_cli(
        ["extract", "csv", str(manifest), "--features", "mfcc", "--out", str(tmp_path / "store"), "--no-progress"],
        cwd=tmp_path,
        env={name: value},
        seconds=60,
    )
    line = assert_one_line_error(result, naming=f"{name}={value!r}")
    assert "give" in line
    assert not (tmp_path / "store").exists()
