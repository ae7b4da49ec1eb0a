"""ONNX Runtime CPU against OpenVINO CPU on the same models, batch 1 and batch 8, one run.

    .venv/bin/python bench/backends.py [--runs 30] [--models-cache ~/.cache/visionhost-bench/models]

Uses the product's own backends (`OnnxBackend`, `OpenVinoBackend`) on pre-made tensors, so the
numbers are the runtimes alone. Rows: every committed fixture model plus the YOLOv8n/s 640
benchmark exports when `bench/make_models.py` has made them. Writes
`bench/results/backends-<date>-<machine>.md` and `.json`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import date
from pathlib import Path

import machine
import numpy as np
from inference_backend_onnx import OnnxBackend
from inference_backend_openvino import OpenVinoBackend, OpenVinoSettings
from inference_core.settings import CoreSettings

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = [
    "shapes-det-yolov8.onnx", "shapes-seg-yolov8.onnx", "shapes-pose-yolov8.onnx", "shapes-cls.onnx",
    "shapes-multilabel.onnx",
]
BENCH_MODELS = {"yolov8n-640": "bench/1/weights.onnx", "yolov8s-640": "bench/2/weights.onnx"}
BATCHES = (1, 8)


def backends(cache_dir: Path) -> dict[str, object]:
    core = CoreSettings()
    return {
        "onnxruntime": OnnxBackend(core),
        "openvino f32": OpenVinoBackend(core, OpenVinoSettings(cache_dir=cache_dir, inference_precision="f32")),
        "openvino bf16": OpenVinoBackend(core, OpenVinoSettings(cache_dir=cache_dir, inference_precision="bf16")),
    }


def median_seconds(session, batch: int, runs: int) -> float | None:
    spec = session.inputs[0]
    if spec.fixed_dim(0) not in (None, batch):
        return None
    height, width = spec.fixed_dim(2) or 640, spec.fixed_dim(3) or 640
    feed = {spec.name: np.random.default_rng(0).random((batch, 3, height, width), dtype=np.float32)}
    for _ in range(3):
        session.run(feed)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        session.run(feed)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def measure(models: dict[str, Path], runs: int, cache_dir: Path) -> list[dict[str, object]]:
    rows = []
    for name, path in models.items():
        for backend_name, backend in backends(cache_dir).items():
            session = backend.load(path)
            for batch in BATCHES:
                seconds = median_seconds(session, batch, runs)
                if seconds is not None:
                    rows.append({"model": name, "backend": backend_name, "batch": batch,
                                 "median_ms": round(seconds * 1000, 2), "images_per_s": round(batch / seconds, 1)})
                    print(rows[-1], flush=True)
    return rows


def write(rows: list[dict[str, object]], description: dict[str, object]) -> Path:
    results = REPO_ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    stem = results / f"backends-{date.today().isoformat()}-{machine.slug(description)}"
    stem.with_suffix(".json").write_text(json.dumps({"machine": description, "rows": rows}, indent=2))
    lines = [
        "# ONNX Runtime CPU vs OpenVINO CPU",
        "",
        f"Machine: {description['cpu_model']}, {description['cpus']} CPUs, {description['memory_gb']} GB.",
        "Runtimes alone (`session.run` on pre-made tensors), default threads, median of the runs.",
        "OpenVINO bf16 is not the default (f32 is): it is shown because this CPU computes bf16 natively.",
        "",
        "| model | batch | " + " | ".join(f"{name} ms (img/s)" for name in ("onnxruntime", "openvino f32", "openvino bf16")) + " |",
        "|---|---|---|---|---|",
    ]
    keyed = {(row["model"], row["batch"], row["backend"]): row for row in rows}
    for model in dict.fromkeys(row["model"] for row in rows):
        for batch in BATCHES:
            cells = [keyed.get((model, batch, name)) for name in ("onnxruntime", "openvino f32", "openvino bf16")]
            if any(cells):
                text = [f"{cell['median_ms']} ({cell['images_per_s']})" if cell else "-" for cell in cells]
                lines.append(f"| {model} | {batch} | " + " | ".join(text) + " |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return stem.with_suffix(".md")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--models-cache", type=Path, default=Path.home() / ".cache" / "visionhost-bench" / "models")
    parser.add_argument("--openvino-cache", type=Path, default=Path.home() / ".cache" / "visionhost-bench" / "openvino")
    arguments = parser.parse_args()
    models = {name: REPO_ROOT / "assets" / "models" / name for name in FIXTURES}
    models.update({name: arguments.models_cache / relative for name, relative in BENCH_MODELS.items()
                   if (arguments.models_cache / relative).is_file()})
    description = machine.describe()
    machine.wait_until_quiet(0.15, 600)
    print(write(measure(models, arguments.runs, arguments.openvino_cache), description).read_text())


if __name__ == "__main__":
    main()
