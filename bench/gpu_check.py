"""The GPU checks behind bench/gpu_check.sh; writes gpu-check.json and gpu-check.md into --out.

1. our ONNX backend picks the CUDA (or TensorRT) execution provider on its own (`auto`);
2. detection on the committed fixture detector finds the shapes of the committed sample image;
3. raw ONNX Runtime on the GPU, batch 1 and 16;
4. our backend on CUDA with and without IO binding (`ONNXRUNTIME_IO_BINDING`), batch 1 and 16;
5. TensorRT (when its libraries load): the engine built into `{MODEL_CACHE_DIR}/.tensorrt` by a
   first process and reused by a second (load times), fp32 and fp16 (`ONNXRUNTIME_PRECISION`)
   speed and agreement with CUDA fp32;
6. our server at concurrency 16 (and 1) with and without dynamic batching.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
import servers  # noqa: E402

REPO = BENCH_DIR.parent
SAMPLE = REPO / "assets" / "images" / "shapes-sample.jpg"
FIXTURE = REPO / "assets" / "models" / "shapes-det-yolov8.onnx"


def check_provider_and_detection(cache: Path) -> dict:
    from inference_core.api import build_manager
    from inference_core.settings import CoreSettings
    from inference_core.store import ModelStore

    store = ModelStore(cache)
    if not store.has("fixture/1"):
        store.import_ultralytics_onnx(FIXTURE, "fixture/1")
    manager = build_manager(CoreSettings(model_cache_dir=cache))
    model = manager.get("fixture/1")
    response = model.infer(SAMPLE.read_bytes(), confidence=0.4)[0]
    found = sorted({prediction.class_name for prediction in response.predictions})
    info = model.session.info
    return {
        "backend": info.backend,
        "device": info.device,
        "providers": info.providers,
        "cuda_picked": info.device == "cuda",
        "fixture_classes_found": found,
        "fixture_ok": {"circle", "square", "star", "triangle"} <= set(found),
    }


def raw_gpu(weights: Path, size: int, batch: int, duration: float) -> dict:
    arguments = [
        "raw", "--weights", str(weights), "--size", str(size), "--batch", str(batch),
        "--providers", "CUDAExecutionProvider,CPUExecutionProvider",
    ]
    return servers.run_bench_script("local.py", arguments, duration, 3)


TENSORRT_PROBE = r"""
import json, sys, time
from pathlib import Path
import numpy as np
from inference_backend_onnx import OnnxBackend, OnnxSettings
from inference_core.settings import CoreSettings
cache, weights, size, precision = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
env = {"MODEL_CACHE_DIR": str(cache), "ONNXRUNTIME_EXECUTION_PROVIDERS": "tensorrt,cuda",
       "ONNXRUNTIME_PRECISION": precision}
started = time.perf_counter()
session = OnnxBackend(CoreSettings.from_env(env), OnnxSettings.from_env(env)).load(weights)
load_s = time.perf_counter() - started
feed = {session.inputs[0].name: np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)}
first = session.run(feed)[0]
timings = []
for _ in range(50):
    t = time.perf_counter(); session.run(feed); timings.append(time.perf_counter() - t)
np.save(sys.argv[5], first)
print(json.dumps({"precision": precision, "providers": session.info.providers, "load_s": round(load_s, 2),
                  "p50_ms": round(sorted(timings)[25] * 1000, 3),
                  "engines": sorted(p.name for p in (cache / ".tensorrt").rglob("*.engine"))}))
"""


def io_binding(weights: Path, size: int, seconds: float) -> list[dict]:
    """Our backend on CUDA, plain `run` against IO binding, batch 1 and 16 (images/s)."""
    import numpy as np
    from inference_backend_onnx import OnnxBackend, OnnxSettings
    from inference_core.settings import CoreSettings

    rows = []
    for mode in ("off", "on"):
        session = OnnxBackend(CoreSettings(), OnnxSettings(io_binding=mode)).load(weights)
        for batch in (1, 16):
            if session.inputs[0].fixed_dim(0) not in (None, batch):
                continue
            feed = {session.inputs[0].name: np.random.default_rng(0).random((batch, 3, size, size), dtype=np.float32)}
            reference = session.run(feed)[0]
            runs, started = 0, time.perf_counter()
            while time.perf_counter() - started < seconds:
                session.run(feed)
                runs += 1
            elapsed = time.perf_counter() - started
            rows.append({"io_binding": mode, "batch": batch, "device": session.info.device,
                         "images_per_s": round(runs * batch / elapsed, 1),
                         "checksum": float(np.abs(reference).sum())})
    return rows


def tensorrt(cache: Path, weights: Path, size: int, scratch: Path) -> list[dict]:
    """Fresh processes: fp32 build, fp32 reuse, fp16 build, fp16 reuse; agreement with CUDA fp32."""
    import numpy as np

    rows = []
    for precision, attempt in (("fp32", "build"), ("fp32", "reuse"), ("fp16", "build"), ("fp16", "reuse")):
        output = scratch / f"trt-{precision}-{attempt}.npy"
        completed = subprocess.run(
            [sys.executable, "-c", TENSORRT_PROBE, str(cache), str(weights), str(size), precision, str(output)],
            capture_output=True, text=True, timeout=900,
        )
        if completed.returncode != 0:
            lines = completed.stderr.strip().splitlines() or ["no output"]
            rows.append({"precision": precision, "attempt": attempt, "error": lines[-1][:300]})
            break
        row = {"attempt": attempt, **json.loads(completed.stdout.strip().splitlines()[-1])}
        row["built_log_lines"] = completed.stderr.count("TensorRT is building an engine")
        rows.append(row)
    if any("error" in row for row in rows):
        return rows
    reference = _cuda_reference(weights, size)
    for row in rows:
        path = scratch / f"trt-{row['precision']}-{row['attempt']}.npy"
        if "error" not in row and path.is_file():
            row["max_abs_diff_vs_cuda_fp32"] = float(np.abs(np.load(path) - reference).max())
    return rows


def _cuda_reference(weights: Path, size: int):
    import numpy as np
    from inference_backend_onnx import OnnxBackend, OnnxSettings
    from inference_core.settings import CoreSettings

    env = {"ONNXRUNTIME_EXECUTION_PROVIDERS": "cuda"}
    session = OnnxBackend(CoreSettings.from_env(env), OnnxSettings.from_env(env)).load(weights)
    feed = {session.inputs[0].name: np.random.default_rng(0).random((1, 3, size, size), dtype=np.float32)}
    return session.run(feed)[0]


def server_throughput(
    cache: Path, model_id: str, window_ms: float, concurrency: int, duration: float, scratch: Path
) -> dict:
    server = servers.ours(
        cache, servers.free_port(), scratch / f"server-{window_ms}.log", window_ms, {"LOG_LEVEL": "warning"}
    )
    request = servers.v2_request(model_id, "object-detection", SAMPLE.read_bytes(), 0.25)
    (scratch / "request.bin").write_bytes(request)
    server.start()
    try:
        status, body = servers.send_once(server.port, request)
        if status != 200:
            raise RuntimeError(f"server answered {status}: {body[:300]!r}")
        cpu_before = servers.tree_cpu_seconds(server.pid)
        arguments = ["--port", str(server.port), "--request-file", str(scratch / "request.bin"),
                     "--concurrency", str(concurrency)]
        result = servers.run_bench_script("loadgen.py", arguments, duration, 3)
        cpu = servers.tree_cpu_seconds(server.pid) - cpu_before
        result["cpu_per_request_ms"] = round(cpu / max(result["completed_all"], 1) * 1000, 2)
        result["rss_mb"], result["peak_rss_mb"] = servers.tree_memory_mb(server.pid)
    finally:
        server.stop()
    return {"batch_window_ms": window_ms, **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--models",
        type=Path,
        default=None,
        help="a bench model cache (bench/make_models.py); else the 320 fixture detector",
    )
    parser.add_argument("--duration", type=float, default=15.0)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="visionhost-gpu-"))
    cache = args.models or scratch / "models"
    started = time.time()
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "gpu": _nvidia_smi()}
    results["check"] = check_provider_and_detection(cache)
    model_id, size = (
        ("bench/1", 640) if (cache / "bench" / "1" / "weights.onnx").is_file() else ("fixture/1", 320)
    )
    weights = cache / model_id / "weights.onnx"
    results["model"] = {"model_id": model_id, "input": size}
    results["raw"] = [raw_gpu(weights, size, batch, args.duration / 2) for batch in (1, 16)]
    results["io_binding"] = _guarded(io_binding, weights, size, args.duration / 3)
    results["tensorrt"] = _guarded(tensorrt, cache, weights, size, scratch)
    results["server"] = [
        server_throughput(cache, model_id, window, concurrency, args.duration, scratch)
        for window in (2.0, 0.0)
        for concurrency in (1, 16)
    ]
    results["seconds"] = round(time.time() - started, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu-check.json").write_text(json.dumps(results, indent=1))
    (args.out / "gpu-check.md").write_text(_markdown(results))
    print(_markdown(results))
    ok = results["check"]["cuda_picked"] and results["check"]["fixture_ok"]
    sys.exit(0 if ok else 1)


def _markdown(results: dict) -> str:
    check = results["check"]
    lines = [
        f"# GPU check {results['started']}",
        "",
        f"GPU: {results['gpu']}",
        "",
        f"- backend picked by INFERENCE_BACKEND=auto: {check['backend']}, providers {check['providers']}"
        f" -> CUDA picked: {check['cuda_picked']}",
        f"- fixture detection found {check['fixture_classes_found']} -> ok: {check['fixture_ok']}",
        f"- model for throughput: {results['model']}",
        "",
        "| what | req/s (images/s) | p50 ms | p99 ms | cpu/req ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for raw in results["raw"]:
        lines.append(
            f"| raw onnxruntime batch {raw['batch']} ({raw['providers'][0]}) | {raw['images_per_s']} | "
            f"{raw['p50_ms']} | {raw['p99_ms']} | {raw['cpu_per_image_ms']} |"
        )
    lines += ["", "| IO binding | batch | images/s | device |", "|---|---:|---:|---|"]
    for row in results.get("io_binding", []):
        lines.append(f"| {row.get('io_binding', row.get('error'))} | {row.get('batch', '')} | "
                     f"{row.get('images_per_s', '')} | {row.get('device', '')} |")
    lines += ["", "| TensorRT | precision | load s | p50 ms | engines in cache | max abs diff vs CUDA fp32 | error |",
              "|---|---|---:|---:|---|---:|---|"]
    for row in results.get("tensorrt", []):
        lines.append(f"| {row.get('attempt', '')} | {row.get('precision', '')} | {row.get('load_s', '')} | "
                     f"{row.get('p50_ms', '')} | {len(row.get('engines', []))} | "
                     f"{row.get('max_abs_diff_vs_cuda_fp32', '')} | {row.get('error', '')} |")
    lines += ["", "| what | req/s (images/s) | p50 ms | p99 ms | cpu/req ms |", "|---|---:|---:|---:|---:|"]
    for row in results["server"]:
        label = "on" if row["batch_window_ms"] > 0 else "off"
        lines.append(
            f"| server v2 c={row['concurrency']} batching {label} | {row['rps']} | {row['p50_ms']} | "
            f"{row['p99_ms']} | {row['cpu_per_request_ms']} |"
        )
    return "\n".join(lines) + "\n"


def _guarded(function, *arguments) -> list[dict]:
    """A section that fails becomes one row carrying its error: the rest of the check still runs."""
    try:
        return function(*arguments)
    except Exception as error:  # noqa: BLE001 - reported in the table
        return [{"error": f"{type(error).__name__}: {error}"[:300]}]


def _nvidia_smi() -> str:
    try:
        return subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "nvidia-smi not available"


if __name__ == "__main__":
    os.environ.setdefault("OFFLINE_MODE", "true")
    main()
