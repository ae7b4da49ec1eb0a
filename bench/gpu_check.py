"""The GPU checks behind bench/gpu_check.sh; writes gpu-check.json and gpu-check.md into --out.

1. our ONNX backend picks the CUDA (or TensorRT) execution provider on its own (`auto`);
2. detection on the committed fixture detector finds the shapes of the committed sample image;
3. raw ONNX Runtime on the GPU, batch 1 and 16;
4. our server at concurrency 16 (and 1) with and without dynamic batching.
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
    for row in results["server"]:
        label = "on" if row["batch_window_ms"] > 0 else "off"
        lines.append(
            f"| server v2 c={row['concurrency']} batching {label} | {row['rps']} | {row['p50_ms']} | "
            f"{row['p99_ms']} | {row['cpu_per_request_ms']} |"
        )
    return "\n".join(lines) + "\n"


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
