"""Benchmark: 2 local Dask workers against --jobs 2, the scheduler's per-task overhead, and the client's
write rate: the figures from which docs/cluster.md scales the design.

In one run, on the same clips: eGeMAPS extraction with ``--jobs 2`` and on ``--scheduler local:2``, then
a small training grid both ways, each pair alternated `--repeats` times (the best time of each is kept),
reported as ratios (goal: Dask within 10% of --jobs). Then the cost of one empty task on the cluster
and in the local pool, the bytes one task sends and returns, and how fast the single writer stores frames.

    .venv/bin/python benchmarks/dask_scaling.py [--clips 480] [--repeats 2] [--empty-tasks 2000]
"""
from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from contextlib import closing
from pathlib import Path

import numpy as np

GRID = dict(families=["egemaps-func"], classifiers=["logreg", "svm"], budgets=[4, 16, "all"], seeds=[0, 1], n_folds=6)


def _empty(context, task):
    return task


def _per_task_ms(run, n: int) -> float:
    start = time.perf_counter()
    with closing(run(range(n))) as results:
        count = sum(1 for _ in results)
    assert count == n
    return (time.perf_counter() - start) / n * 1000


def _write_rate(folder: Path, frames_per_clip: int = 250, dim: int = 7 * 512, clips: int = 64) -> float:
    """MB/s the single writer stores all-layer Whisper-sized float32 frames (5 s clips) with, consolidation included."""
    from featbench.store import FamilyMeta, StoreWriter

    meta = FamilyMeta("frames", "", {}, "h", {}, {}, 16000, 50.0, [f"c{k}" for k in range(dim)], rows="frames")
    array = np.random.default_rng(0).normal(size=(frames_per_clip, dim)).astype(np.float32)
    start = time.perf_counter()
    with StoreWriter(folder) as writer:
        writer.prepare(meta)
        for k in range(clips):
            writer.add("frames", f"u{k}", "h", array)
        writer.consolidate("frames", [f"u{k}" for k in range(clips)])
    return clips * array.nbytes / 2**20 / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=480)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--empty-tasks", type=int, default=2000)
    args = parser.parse_args()

    from _common import benchmark_table
    from featbench.audio import AudioConfig
    from featbench.dask_cluster import DaskCluster
    from featbench.executors import Local
    from featbench.executors import run_tasks
    from featbench.extract import ClipBatch, run_extraction
    from featbench.train import Experiment, run_training

    work = Path(tempfile.mkdtemp(prefix="fb-bench-dask-"))
    table, corpus = benchmark_table(args.clips, work)
    seconds = float(table["duration"].sum())
    specs = [("egemaps-func", {})]
    best: dict[str, float] = {}

    def timed(name: str, call) -> None:
        start = time.perf_counter()
        call()
        best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)

    with DaskCluster.connect("local:2") as cluster:
        print(cluster.describe())
        for k in range(args.repeats):
            timed("extract --jobs 2", lambda k=k: run_extraction(table, specs, work / f"jobs{k}", executor=Local(2), progress=False))
            timed("extract dask", lambda k=k: run_extraction(table, specs, work / f"dask{k}", progress=False, executor=cluster))
        store = work / "jobs0"
        for k in range(args.repeats):
            exp = Experiment(store=store, **GRID)
            timed("train --jobs 2", lambda k=k, exp=exp: run_training(exp, work / f"jobs{k}.csv", executor=Local(2), progress=False))
            timed("train dask", lambda k=k, exp=exp: run_training(exp, work / f"dask{k}.csv", progress=False, executor=cluster))
        dask_ms = _per_task_ms(lambda tasks: cluster.run(_empty, tasks, chunk_seconds=0), args.empty_tasks)
        chunked_ms = _per_task_ms(lambda tasks: cluster.run(_empty, tasks), args.empty_tasks)
    pool_ms = _per_task_ms(lambda tasks: run_tasks(_empty, tasks, workers=2), args.empty_tasks)

    batch = ClipBatch(tuple((row.id, row.path, ("egemaps-func",)) for row in table.head(8).itertuples()), AudioConfig())
    sent = len(pickle.dumps(batch))
    rate = _write_rate(work / "write-rate")

    n_tasks = len(GRID["families"]) * len(GRID["classifiers"]) * GRID["n_folds"] * len(GRID["seeds"])
    print(f"corpus: {corpus}, {len(table)} clips, {seconds:.0f} s of audio; best of {args.repeats}")
    for what in ("extract", "train"):
        local, dask = best[f"{what} --jobs 2"], best[f"{what} dask"]
        detail = "egemaps-func" if what == "extract" else f"egemaps-func, logreg+svm, budgets 4,16,all, 6 folds, 2 seeds: {n_tasks} tasks"
        verdict = "met" if dask <= 1.10 * local else "MISSED"
        print(f"{what:7s} ({detail}): --jobs 2 {local:6.1f} s, local:2 Dask {dask:6.1f} s, ratio {dask / local:.2f} "
              f"(goal <= 1.10: {verdict})")
    print(f"empty tasks, {args.empty_tasks} of them, 2 workers: one Dask task each {dask_ms:.2f} ms/task (the scheduler's "
          f"cost per task), chunked as featbench sends them {chunked_ms:.2f} ms/task, local process pool {pool_ms:.2f} ms/task")
    print(f"one extraction task of 8 clips sends {sent} bytes (paths, not audio); it returns the clips' features")
    print(f"single writer: {rate:.0f} MiB/s of float32 frames into the store (64 clips of 250 x 3584, consolidation included)")


if __name__ == "__main__":
    main()
