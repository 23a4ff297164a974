"""Shared helpers of the benchmark scripts: which clips to use, and peak memory of a process tree."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FEATBENCH_SHARED", REPO.parent / "shared"))  # as tests/conftest.py
RAVDESS = SHARED / "data" / "ravdess"


def benchmark_table(n_clips: int, workdir: Path):
    """The first n_clips RAVDESS clips (all speakers, round-robin), or the demo corpus when ../shared is absent."""
    from featbench.corpus import load_corpus

    if RAVDESS.is_dir():
        table, corpus = load_corpus("ravdess", RAVDESS), "RAVDESS (../shared/data/ravdess)"
    else:
        table, corpus = load_corpus("demo", workdir / "demo-corpus"), "featbench demo corpus (../shared absent)"
    order = table.assign(k=table.groupby("speaker").cumcount()).sort_values(["k", "speaker"]).index
    return table.loc[order[:n_clips]].reset_index(drop=True), corpus


def run_with_peak_rss(command: list[str], interval: float = 0.05) -> tuple[float, float, int]:
    """Run a command; return (wall seconds, peak summed RSS of it and its children in MiB, exit code)."""
    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample():
        nonlocal peak
        parent = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [parent, *parent.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
            except psutil.Error:
                pass  # a child ended between listing and reading: the next sample sees the rest
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    code = proc.wait()
    done.set()
    thread.join()
    return time.perf_counter() - start, peak / 2**20, code
