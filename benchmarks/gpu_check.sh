#!/usr/bin/env bash
# GPU check: whisper-base (every layer) on the CPU and on a CUDA GPU, and the sequence model trained one fold
# on both devices. Fails when the GPU features drift from the CPU ones (smallest pooled cosine per layer below
# 0.9999, float32) or when there is no CUDA device ("no CUDA device: nothing to check").
#
#     benchmarks/gpu_check.sh [WORKDIR]                 # 240 clips; sized for under 8 minutes on an H200 with 16 cores
#
# Environment (all optional):
#   FEATBENCH_SHARED  data and models (default: ../shared beside the checkout): data/ravdess, models/whisper-base
#   PYTHON            the interpreter to use; default .venv/bin/python (make install), else a venv .venv-gpu made
#                     here with the system's packages visible (a CUDA build of torch installed system-wide) and
#                     `pip install -e .[hf]` (nothing else is installed)
#   GPU_CHECK_ACTORS  RAVDESS actors 1..N (default 10)      GPU_CHECK_CLASSES  labels (default happy,sad,angry)
#                     10 actors x 24 clips of three classes = 240 clips
#   GPU_CHECK_JOBS    CPU worker processes (default: the number of cores)
#   GPU_CHECK_EPOCHS  sequence model epochs (default 10)
#   GPU_CHECK_DRY_RUN 1: no CUDA needed; the "GPU" half runs on the CPU, to check the script's logic
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${FEATBENCH_SHARED:-$REPO/../shared}
WHISPER=$SHARED/models/whisper-base
ACTORS=${GPU_CHECK_ACTORS:-10}
CLASSES=${GPU_CHECK_CLASSES:-happy,sad,angry}
JOBS=${GPU_CHECK_JOBS:-$(nproc)}
EPOCHS=${GPU_CHECK_EPOCHS:-10}
DRY_RUN=${GPU_CHECK_DRY_RUN:-0}
WORK=${1:-$(mktemp -d -t featbench-gpu-check-XXXXXX)}

fail() { echo "gpu_check: $*" >&2; exit 1; }

if [ -n "${PYTHON:-}" ]; then
    PY=$PYTHON
elif [ -x "$REPO/.venv/bin/python" ]; then
    PY=$REPO/.venv/bin/python
else
    if [ ! -x "$REPO/.venv-gpu/bin/python" ]; then
        python3 -m venv --system-site-packages "$REPO/.venv-gpu"
        "$REPO/.venv-gpu/bin/python" -m pip install --disable-pip-version-check -q -e "$REPO[hf]" \
            || fail "pip install -e .[hf] failed (see above)"
    fi
    PY=$REPO/.venv-gpu/bin/python
fi
"$PY" -c "import featbench, transformers" 2>/dev/null || fail "$PY cannot import featbench and transformers"
[ -d "$SHARED/data/ravdess" ] || fail "no RAVDESS at $SHARED/data/ravdess (set FEATBENCH_SHARED)"
[ -d "$WHISPER" ] || fail "no whisper-base at $WHISPER (set FEATBENCH_SHARED)"

if [ "$DRY_RUN" = 1 ]; then
    GPU=cpu
    echo "gpu_check: dry run, the GPU half runs on the CPU (only the script's logic is checked)"
elif "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    GPU=cuda
    "$PY" -c "import torch; print('gpu_check: torch', torch.__version__, 'on', torch.cuda.get_device_name(0))"
else
    TORCH=$("$PY" -c "import torch; print(torch.__version__)")
    fail "no CUDA device: nothing to check (torch $TORCH, torch.cuda.is_available() is False)"
fi

# the corpus: RAVDESS actors 1..ACTORS (their files linked), --classes CLASSES
for n in $(seq 1 "$ACTORS"); do
    actor=$(printf "Actor_%02d" "$n")
    [ -d "$SHARED/data/ravdess/$actor" ] || fail "no $actor in $SHARED/data/ravdess"
    mkdir -p "$WORK/ravdess/$actor"
    ln -sf "$SHARED/data/ravdess/$actor"/* "$WORK/ravdess/$actor/"
done
cd "$REPO"
export PYTHONPATH=$REPO${PYTHONPATH:+:$PYTHONPATH}
FEATURES=(--features whisper --set "whisper.model=$WHISPER" --set whisper.layer=all --classes "$CLASSES" --no-progress)

extract() {  # extract DEVICE STORE ARGS...: prints the wall seconds (model loading included)
    local device=$1 store=$2; shift 2
    local start ms
    start=$(date +%s%N)
    "$PY" -m featbench extract ravdess "$WORK/ravdess" "${FEATURES[@]}" --device "$device" --out "$store" "$@" \
        > "$store.log" 2>&1 || { cat "$store.log" >&2; fail "extraction on $device failed"; }
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    printf "%d.%03d\n" $((ms / 1000)) $((ms % 1000))
}

echo "gpu_check: $WORK: RAVDESS actors 1-$ACTORS, classes $CLASSES"
CPU_S=$(extract cpu "$WORK/cpu" --jobs "$JOBS")
GPU_S=$(extract "$GPU" "$WORK/gpu" --jobs 1 --batch-size 16)
"$PY" benchmarks/gpu_check.py compare "$WORK/cpu" "$WORK/gpu" --family whisper --min-cosine 0.9999 \
    --seconds "$CPU_S" "$GPU_S" --labels "cpu (--jobs $JOBS)" "$GPU (--batch-size 16)" \
    || fail "the $GPU features are not the CPU features (see above)"
for device in cpu "$GPU"; do
    "$PY" benchmarks/gpu_check.py seq-fold "$WORK/cpu" --device "$device" --view whisper@weighted --epochs "$EPOCHS" \
        || fail "training the sequence model on $device failed"
done
echo "gpu_check: passed ($WORK)"
