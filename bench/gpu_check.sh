#!/usr/bin/env bash
# One-shot GPU check, about 5 minutes on a machine with an NVIDIA GPU and CUDA drivers.
#
#   OUT=/some/dir bash bench/gpu_check.sh          # from the repository root
#
# Makes a fresh venv (seeing the system's packages, so numpy/OpenCV/Pillow come from there when
# present), installs onnxruntime-gpu (with its CUDA/cuDNN wheels) and our packages into it, then runs
# bench/gpu_check.py: the CUDA provider is picked by our ONNX backend, detection on the committed
# fixture is right, raw runtime batch 1 vs 16, IO binding on/off, TensorRT engine built once into
# the model cache and reused by a second process (fp32 and fp16, agreement with CUDA fp32), and our
# server at concurrency 16 with and without dynamic batching. Results: $OUT/gpu-check.md,
# $OUT/gpu-check.json, $OUT/log.txt. TensorRT's libraries (tensorrt-cu12-libs) are installed when
# the index has them; without them the TensorRT rows carry the error and the rest still runs.
#
# Environment:
#   OUT          where results go (default bench/results/gpu-<date>)
#   GPU_WHEELS   a folder of wheels to install from instead of PyPI (machines without network)
#   BENCH_MODELS a bench model cache made by bench/make_models.py (default: the 320 fixture detector)
#   GPU_VENV     where to make the venv (default /tmp/visionhost-gpu-venv)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/gpu-$(date +%Y%m%d-%H%M)}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1
export PYTHONUNBUFFERED=1
VENV=${GPU_VENV:-/tmp/visionhost-gpu-venv}
nvidia-smi || echo "nvidia-smi failed: no NVIDIA driver visible"

python3 -m venv --system-site-packages "$VENV" || exit 2
source_args=()
if [ -n "${GPU_WHEELS:-}" ]; then source_args=(--no-index --find-links "$GPU_WHEELS"); fi
started=$(date +%s)
if ! timeout 900 "$VENV/bin/pip" install -q "${source_args[@]}" "onnxruntime-gpu[cuda,cudnn]" \
        fastapi uvicorn python-multipart pluggy; then
    echo "INSTALL FAILED: onnxruntime-gpu (~300 MB plus CUDA/cuDNN wheels) could not be installed;" \
         "this check needs PyPI or GPU_WHEELS holding those wheels." | tee "$OUT/gpu-check.md"
    exit 3
fi
"$VENV/bin/pip" install -q --no-deps --no-build-isolation -e packages/inference-core \
    -e packages/backend-onnx -e packages/inference-server || exit 4
timeout 600 "$VENV/bin/pip" install -q "${source_args[@]}" tensorrt-cu12-libs \
    || echo "tensorrt-cu12-libs not installed: the TensorRT rows will show why"
trt_libs=$("$VENV/bin/python" -c "import tensorrt_libs, os; print(os.path.dirname(tensorrt_libs.__file__))" 2>/dev/null)
if [ -n "$trt_libs" ]; then export LD_LIBRARY_PATH="$trt_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
echo "installed in $(( $(date +%s) - started )) s"
# a CPU-only onnxruntime in the system packages must not shadow the GPU build
"$VENV/bin/python" -c "import onnxruntime as o; print('onnxruntime', o.__version__, o.get_available_providers())"

models_args=()
if [ -n "${BENCH_MODELS:-}" ]; then models_args=(--models "$BENCH_MODELS"); fi
BENCH_PYTHON="$VENV/bin/python" timeout 540 "$VENV/bin/python" bench/gpu_check.py --out "$OUT" "${models_args[@]}"
