"""Opt-in reduced precision against f32: agreement of the predictions and forward-pass time.

    .venv/bin/python bench/precision.py [--photos a.jpg,b.jpg] [--runs 10]

Each detector (the trained shapes fixture, the YOLOv8 bench exports when made) predicts every photo
with ONNX Runtime f32 (the reference), OpenVINO f32 (the default) and OpenVINO bf16
(`OPENVINO_INFERENCE_PRECISION=bf16`; on CPUs without bf16 OpenVINO falls back to f32). Agreement
uses the Ultralytics fidelity criteria, as bench/large_frames.py does. Forward time is the median of
`--runs` forward passes of one pre-processed image. Writes
`bench/results/precision-<date>-<machine>.md` and `.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

import machine
from large_frames import BENCH_MODELS, CONFIDENCE, REPO, agreement, default_photos

SAMPLE = REPO / "assets/images/shapes-sample.jpg"


def managers(cache: Path, fixture_cache: Path) -> dict:
    from inference_backend_openvino import OpenVinoSettings
    from inference_core.api import build_manager
    from inference_core.settings import CoreSettings

    built = {}
    for label, backend, precision in (("onnxruntime f32", "onnx", None), ("openvino f32", "openvino", "f32"),
                                      ("openvino bf16", "openvino", "bf16")):
        per_cache = {}
        for root in (fixture_cache, cache):
            manager = build_manager(CoreSettings(model_cache_dir=root, backend=backend))
            if precision:
                ov = manager.backends.backend("openvino")
                ov.openvino_settings = OpenVinoSettings(
                    cache_dir=Path(tempfile.mkdtemp(prefix="ov-")), inference_precision=precision
                )
            per_cache[root] = manager
        built[label] = per_cache
    return built


def forward_ms(model, data: bytes, runs: int) -> float:
    from inference_core.params import InferenceParams

    prepared = model.prepare(data, InferenceParams.from_kwargs(confidence=CONFIDENCE))
    model.forward([prepared.tensor])
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        model.forward([prepared.tensor])
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default="")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/visionhost-bench/models")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    photos = [Path(p) for p in args.photos.split(",") if p] or [SAMPLE, *default_photos()]
    fixture_cache = Path(tempfile.mkdtemp(prefix="precision-"))
    from inference_core.store import ModelStore

    ModelStore(fixture_cache).import_ultralytics_onnx(REPO / "assets/models/shapes-det-yolov8.onnx", "fixture/1")
    models = {"shapes fixture (320)": (fixture_cache, "fixture/1")}
    models.update({name: (args.cache, model_id) for name, (model_id, _) in BENCH_MODELS.items()
                   if (args.cache / model_id / "weights.onnx").is_file()})
    built = managers(args.cache, fixture_cache)
    rows = []
    for name, (root, model_id) in models.items():
        loaded = {label: per_cache[root].get(model_id) for label, per_cache in built.items()}
        times = {label: forward_ms(model, SAMPLE.read_bytes(), args.runs) for label, model in loaded.items()}
        for photo in photos:
            data = photo.read_bytes()
            predictions = {label: model.infer(data, confidence=CONFIDENCE)[0].predictions for label, model in loaded.items()}
            for label in ("openvino f32", "openvino bf16"):
                row = {"model": name, "image": photo.name, "compared": f"{label} vs onnxruntime f32",
                       **agreement(predictions["onnxruntime f32"], predictions[label]),
                       "forward_ms": times[label], "reference_forward_ms": times["onnxruntime f32"]}
                print(json.dumps(row), flush=True)
                rows.append(row)
    result = {"date": datetime.now().isoformat(timespec="minutes"),
              "machine": f"{machine.describe()['cpu_model']}, {machine.describe()['cpus']} CPUs "
                         f"({machine.describe()['flags']})",
              "uptime": os.popen("uptime").read().strip(), "rows": rows}
    args.output.mkdir(parents=True, exist_ok=True)
    stem = args.output / f"precision-{datetime.now():%Y-%m-%d}-{machine.slug(machine.describe())}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [f"# Precision: OpenVINO f32 and bf16 against ONNX Runtime f32 ({result['date']})", "",
             f"Machine: {result['machine']}. Load while measuring (uptime): {result['uptime']}; forward "
             "times are medians on that loaded machine, comparable only with each other.", "",
             "Agreement criteria: same class, box IoU >= 0.95, confidence within 0.02 (`passing` of "
             "`matched`); `missing`/`extra`: detections above threshold + 0.02 only the reference/the "
             "compared runtime has.", "",
             "| model | image | compared | reference dets | matched | passing | missing | extra | worst IoU | worst conf gap | forward ms | ORT f32 forward ms |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['model']} | {row['image']} | {row['compared']} | {row['full']} | {row['matched']} | "
                     f"{row['passing']} | {row['missing']} | {row['extra']} | {row['worst_iou']} | "
                     f"{row['worst_confidence_gap']} | {row['forward_ms']} | {row['reference_forward_ms']} |")
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(stem.with_suffix(".md"))


if __name__ == "__main__":
    main()
