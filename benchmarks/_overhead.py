"""The harness of the librosa overhead benchmarks (fbank_overhead.py, mfcc_overhead.py): `featbench extract`
of one family against a plain soundfile + librosa loop, both as whole processes over the same clips.

Both sides are whole processes (Python start-up and imports included) over the same RAVDESS clips:
the clips `_common.benchmark_table` picks, i.e. for --clips 360 the first 15 files (sorted by file name)
of each of the 24 actors. They are timed in the same run, alternating reference / featbench, after one
untimed warm-up of each (page cache, numba's on-disk cache); medians of --repeats runs are printed.

(a) reference: a script (written to the work folder) that decodes each clip with soundfile, computes the
    features with the caller's librosa lines as float32 (frames, dim), and writes all arrays with one
    uncompressed np.savez (features back to back, plus lengths). BLAS is pinned to one thread, as featbench
    --jobs 1 does (threadpoolctl); on a shared 2-core machine a 2-thread BLAS makes the reference erratic.
(b) featbench: `featbench extract csv MANIFEST --features FAMILY --out STORE --jobs 1 --no-progress` on a
    CSV manifest (path,label,speaker) of the same clips, with a fresh store every repetition.

Prints medians, the ratio b / a (the target of the issues: <= 1.10), the time of `featbench --help` and of
`python -c "import featbench.extract"` for context, and the largest difference between the two outputs.
Benchmarks only print figures; the exit code does not depend on the ratio. Skipped (with a message)
when ../shared/data/ravdess is absent.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REFERENCE = '''\
import os
import sys

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one thread, as featbench --jobs 1
    os.environ[var] = "1"

import librosa
import numpy as np
import soundfile as sf

paths, out = open(sys.argv[1]).read().split(), sys.argv[2]
arrays = []
for path in paths:
    y, sr = sf.read(path, dtype="float32")
    if y.ndim > 1:
        y = y.mean(axis=1, dtype=np.float32)
{features}
np.savez(out, features=np.concatenate(arrays), lengths=np.array([len(a) for a in arrays]))
'''


def _time_commands(commands: dict, repeats: int, work: Path) -> tuple[dict, dict, dict]:
    """Run every command once untimed, then `repeats` times alternating: wall, CPU and peak RSS per command."""
    from _common import run_with_peak_rss

    times: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    for rep in range(-1, repeats):  # rep -1: untimed warm-up
        for name, command in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            wall, peak, code = run_with_peak_rss(command(rep))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)  # one child at a time: the delta is its CPU time
            if code != 0:
                raise SystemExit(f"{name} failed with exit code {code}: {' '.join(command(rep))}")
            if rep >= 0:
                times[name].append(wall)
                cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
                peaks[name].append(peak)
        if rep < repeats - 1:
            shutil.rmtree(work / f"store-{rep}")  # a fresh store every repetition; the last is kept for the check
    return times, cpu, peaks


def _largest_difference(ref_out: Path, store_file: Path, paths) -> tuple[bool, float]:
    """Whether the store holds the reference's frame counts, and the largest absolute difference."""
    import h5py
    import numpy as np

    with np.load(ref_out) as ref, h5py.File(store_file, "r") as h5:
        ref_starts = np.concatenate([[0], np.cumsum(ref["lengths"])])
        ref_rows = {str(Path(p).with_suffix("")): ref["features"][ref_starts[i]:ref_starts[i + 1]]
                    for i, p in enumerate(paths)}  # the store's ids: manifest paths without suffix
        stored = {uid: h5["features"][o:o + n] for uid, o, n in zip(h5["ids"].asstr()[:], h5["offsets"][:], h5["lengths"][:])}
    same_rows = stored.keys() == ref_rows.keys() and all(stored[u].shape == ref_rows[u].shape for u in ref_rows)
    return same_rows, (max(float(np.abs(stored[u] - ref_rows[u]).max()) for u in ref_rows) if same_rows else float("nan"))


def run_overhead_benchmark(description: str, family: str, features: str, reference_label: str) -> None:
    """Parse --clips/--repeats, time featbench's `family` against the reference loop whose per-clip body is
    `features` (lines indented by 4 that append one float32 (frames, dim) array to `arrays`), print the figures."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--clips", type=int, default=360)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from _common import RAVDESS, benchmark_table

    if not RAVDESS.is_dir():
        print(f"skipped: RAVDESS not found at {RAVDESS} (this benchmark needs ../shared/data/ravdess)")
        return
    work = Path(tempfile.mkdtemp(prefix=f"fb-{family}-"))
    table, corpus = benchmark_table(args.clips, work)
    manifest, paths, script, ref_out = work / "manifest.csv", work / "paths.txt", work / "reference.py", work / "reference.npz"
    table[["path", "label", "speaker"]].to_csv(manifest, index=False)  # absolute paths
    paths.write_text("\n".join(table["path"]) + "\n")
    script.write_text(REFERENCE.format(features=features))

    bindir = Path(sys.executable).parent
    featbench = [str(bindir / "featbench")] if (bindir / "featbench").is_file() else [sys.executable, "-m", "featbench"]
    commands = {
        "reference": lambda rep: [sys.executable, str(script), str(paths), str(ref_out)],
        "featbench": lambda rep: featbench + ["extract", "csv", str(manifest), "--features", family, "--out",
                                              str(work / f"store-{rep}"), "--jobs", "1", "--no-progress"],
        "help": lambda rep: featbench + ["--help"],
        "import": lambda rep: [sys.executable, "-c", "import featbench.extract"],
    }
    times, cpu, peaks = _time_commands(commands, args.repeats, work)
    same_rows, diff = _largest_difference(ref_out, work / f"store-{args.repeats - 1}" / f"{family}.h5", table["path"])

    med = {name: statistics.median(t) for name, t in times.items()}
    med_cpu = {name: statistics.median(t) for name, t in cpu.items()}
    print(f"corpus: {corpus}, {len(table)} clips (round-robin over {table['speaker'].nunique()} speakers), "
          f"{table['duration'].sum():.0f} s of audio; medians of {args.repeats} whole-process runs, alternating")
    for key, label in (("reference", f"(a) {reference_label}"), ("featbench", f"(b) featbench extract csv --features {family} -j 1")):
        print(f"{label + ':':52s} wall {med[key]:5.2f} s [{', '.join(f'{t:.2f}' for t in times[key])}]  "
              f"CPU {med_cpu[key]:5.2f} s  peak RSS {max(peaks[key]):4.0f} MiB")
    print(f"ratio b / a: {med['featbench'] / med['reference']:.2f} wall (issue target <= 1.10), "
          f"{med_cpu['featbench'] / med_cpu['reference']:.2f} CPU (user + sys, less sensitive to other load)")
    print(f"context: featbench --help {med['help']:.2f} s (CPU {med_cpu['help']:.2f}); "
          f"python -c 'import featbench.extract' {med['import']:.2f} s (CPU {med_cpu['import']:.2f})")
    print(f"outputs: same frame counts {same_rows}, max |featbench - reference| = {diff:.3g}")
    shutil.rmtree(work)
