"""Benchmark: store size per hour of audio of each family, as float32, float16 and pooled (`dtype`, `pooled`).

Extracts the same clips once per family and storage form (each form in its own store folder) and
prints, per family and form, the size of `<family>.h5` divided by the hours of audio it holds, and
the part of it that is the `features` dataset. Whisper-base runs in adaptive mode (as
featbench study run results/studies/ravdess.toml), last layer and every layer, when ../shared/models/whisper-base
is there. Pretrained encoders without a local model get rows computed from their frame rate, width and
value size, labelled as such (pooled: from the mean clip length measured here).

    .venv/bin/python benchmarks/store_size.py [--clips 96 --jobs 1]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WHISPER = REPO.parent / "shared" / "models" / "whisper-base"
MIB = 2**20

# Forms: name -> storage options. Where a family refuses one, it is left out: float16 for raw (waveforms are
# kept exact) and compare-lld (values beyond float16's range), pooled for egemaps-func (one row per
# utterance already) and raw.
FORMS = {"float32": {}, "float16": {"dtype": "float16"}, "pooled": {"pooled": "true"}}
HANDCRAFTED = [("egemaps-func", {}, ("float32", "float16")), ("egemaps-lld", {}, tuple(FORMS)),
               ("compare-lld", {}, ("float32", "pooled")), ("fbank", {}, tuple(FORMS)), ("raw", {}, ("float32",))]
# Not obtainable offline: (name, frames per second, width of one layer, layers with layer=all (incl. layer 0)).
COMPUTED = [("wav2vec 2.0 base", 50.0, 768, 13), ("wav2vec 2.0 large", 50.0, 1024, 25), ("HuBERT base", 50.0, 768, 13),
            ("HuBERT large", 50.0, 1024, 25), ("WavLM base+", 50.0, 768, 13), ("WavLM large", 50.0, 1024, 25),
            ("whisper-base (check)", 50.0, 512, 7)]


def _measure(store: Path, family: str, durations: dict) -> tuple[int, int, int, float]:
    """(file bytes, features bytes, clips, seconds of audio) of one family file (zeros if every clip failed)."""
    import h5py

    path = store / f"{family}.h5"
    if not path.is_file():
        return 0, 0, 0, 0.0
    with h5py.File(path, "r") as h5:
        ids = list(h5["ids"].asstr()[:])
        features = h5["features"].id.get_storage_size()
    return path.stat().st_size, features, len(ids), sum(durations[u] for u in ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--clips", type=int, default=96)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--keep", type=Path, default=None, help="keep the stores in this folder (default: removed)")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).parent))
    from _common import benchmark_table
    from featbench.executors import Local
    from featbench.extract import run_extraction

    work = args.keep or Path(tempfile.mkdtemp(prefix="fb-size-"))
    work.mkdir(parents=True, exist_ok=True)
    table, corpus = benchmark_table(args.clips, work)
    durations = dict(zip(table["id"], table["duration"]))
    runs = [(name, name, options, forms) for name, options, forms in HANDCRAFTED]
    if WHISPER.is_dir():
        whisper = {"model": str(WHISPER), "whisper_mode": "adaptive"}
        runs += [("whisper (last layer)", "whisper", whisper, tuple(FORMS)),
                 ("whisper (layer=all)", "whisper", {**whisper, "layer": "all"}, tuple(FORMS))]
    rows = []
    for label, family, options, forms in runs:
        for form in forms:
            store = work / f"{label.replace(' ', '_').replace('(', '').replace(')', '')}-{form}"
            report = run_extraction(table, [(family, {**options, **FORMS[form]})], store, executor=Local(args.jobs), progress=False)
            size, features, clips, seconds = _measure(store, family, durations)
            rows.append((label, form, size, features, clips, seconds, report.failed))
            if args.keep is None:
                shutil.rmtree(store)
    if args.keep is None:
        shutil.rmtree(work)

    hours = table["duration"].sum() / 3600
    print(f"store size per hour of audio: {len(table)} clips, {hours * 60:.1f} min of audio, mean clip "
          f"{table['duration'].mean():.2f} s  [{corpus}]")
    print("MiB = 2^20 bytes; file = <family>.h5 (features, index, column names); features = the features dataset")
    print(f"{'family':22s} {'form':8s} {'file MiB/h':>11s} {'features MiB/h':>15s} {'vs float32':>10s}  {'clips':>5s}  failed")
    full = {}
    for label, form, size, features, clips, seconds, failed in rows:
        per_hour = size / (seconds / 3600) / MIB if seconds else float("nan")
        full.setdefault(label, per_hour)
        print(f"{label:22s} {form:8s} {per_hour:11.2f} {features / (seconds / 3600) / MIB if seconds else float('nan'):15.2f} "
              f"{per_hour / full[label]:10.3f}  {clips:5d}  {failed}")
    per_hour_utterances = 3600 / table["duration"].mean()
    print(f"\ncomputed, not measured: frames/s x width x bytes (pooled: 2 x width x bytes x {per_hour_utterances:.0f} "
          "utterances/h at the mean clip length above); features only, MiB/h")
    print(f"{'encoder':22s} {'layers':8s} {'float32':>11s} {'float16':>11s} {'pooled':>11s}")
    for name, rate, width, layers in COMPUTED:
        for kept, dim in (("last", width), ("all", width * layers)):
            f32 = rate * 3600 * dim * 4 / MIB
            pooled = 2 * dim * 4 * per_hour_utterances / MIB
            print(f"{name:22s} {kept + ' ' + str(layers if kept == 'all' else 1):8s} {f32:11.1f} {f32 / 2:11.1f} {pooled:11.2f}")


if __name__ == "__main__":
    main()
