"""Reduced-resolution JPEG decoding against the full decode: agreement of the predictions and cost.

    .venv/bin/python bench/large_frames.py [--photos a.jpg,b.jpg] [--cache ~/.cache/visionhost-bench/models]

For each detector (the committed, trained shapes fixture at 320, and the YOLOv8 bench exports that
`bench/make_models.py` made) and each photo at least twice the network input on both sides, the
image is predicted twice: decoded at full size (what the server does by default) and decoded by
libjpeg's DCT scaling at 1/2, 1/4 or 1/8 of its size (Pillow's `draft`) so that it stays at least
`margin` times the size it is resized to. The letterbox geometry comes from the original size both
times, so boxes are in the same pixels. Agreement uses the criteria of the Ultralytics fidelity
check (tools/ultralytics_reference/AGREEMENT.md): same class, box IoU >= 0.95, confidence within
0.02; a detection only one side has is counted as a miss unless its confidence is within 0.02 of
the threshold. The trained fixture is also scored against the truth of synthetic scenes rendered
natively at 3840x2160 and 1920x1080 (recall and precision at IoU 0.7).

Writes `bench/results/large-frames-<date>-<machine>.md` and `.json`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import cv2
import machine
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "tests" / "support"))

CONFIDENCE = 0.25
IOU_MIN, CONFIDENCE_GAP = 0.95, 0.02
BENCH_MODELS = {"yolov8n-320": ("bench/3", 320), "yolov8s-640": ("bench/2", 640)}


def default_photos() -> list[Path]:
    """Real photos on this machine: Ultralytics' and scikit-image's sample pictures, where installed."""
    found = []
    for root in (Path("/work"), Path.home() / ".cache"):
        for name in ("bus.jpg", "zidane.jpg", "hubble_deep_field.jpg", "retina.jpg"):
            match = next(iter(sorted(root.glob(f"**/site-packages/*/*/{name}"))), None) or next(
                iter(sorted(root.glob(f"**/site-packages/*/{name}"))), None
            )
            if match and name not in {path.name for path in found}:
                found.append(match)
    return found


def reduction(width: int, height: int, target_width: int, target_height: int, margin: float) -> int:
    """Largest DCT scale denominator (1, 2, 4, 8) keeping the image >= margin x its resize target."""
    chosen = 1
    for denominator in (2, 4, 8):
        if width / denominator >= margin * target_width and height / denominator >= margin * target_height:
            chosen = denominator
    return chosen


def resize_target(model, width: int, height: int) -> tuple[int, int]:
    if model.artifact.environment.preprocessing.letterbox_colour is None:
        return model.input_width, model.input_height
    scale = min(model.input_width / width, model.input_height / height)
    return max(int(width * scale), 1), max(int(height * scale), 1)


def decode(data: bytes, denominator: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        if denominator > 1:  # Pillow picks the largest scale whose result is >= the size asked for
            full_width = image.width
            image.draft("RGB", (image.width // denominator, image.height // denominator))
            if image.width != -(-full_width // denominator):
                raise RuntimeError(f"draft did not scale by 1/{denominator}: {full_width} -> {image.width}")
        return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


def predict(model, data: bytes, denominator: int):
    from inference_core.params import InferenceParams

    params = InferenceParams.from_kwargs(confidence=CONFIDENCE)
    with Image.open(io.BytesIO(data)) as probe:
        size = probe.size
    image = decode(data, denominator)
    prepared = model.preprocess(image, params, original_size=size)
    outputs = model.forward([prepared.tensor])[0]
    return model.postprocess(outputs, prepared.transform, params).predictions


def box(prediction) -> tuple[float, float, float, float]:
    return (
        prediction.x - prediction.width / 2, prediction.y - prediction.height / 2,
        prediction.x + prediction.width / 2, prediction.y + prediction.height / 2,
    )


def iou(first, second) -> float:
    width = max(0.0, min(first[2], second[2]) - max(first[0], second[0]))
    height = max(0.0, min(first[3], second[3]) - max(first[1], second[1]))
    inter = width * height
    union = (first[2] - first[0]) * (first[3] - first[1]) + (second[2] - second[0]) * (second[3] - second[1]) - inter
    return inter / union if union > 0 else 0.0


def agreement(full: list, reduced: list) -> dict:
    """Greedy best-IoU matching of same-class detections; misses near the threshold are excused."""
    unused = list(reduced)
    ious, gaps, missing = [], [], 0
    for item in sorted(full, key=lambda p: -p.confidence):
        candidates = [(iou(box(item), box(other)), other) for other in unused if other.class_id == item.class_id]
        best_iou, best = max(candidates, key=lambda pair: pair[0], default=(0.0, None))
        if best is None or best_iou < 0.5:
            if item.confidence > CONFIDENCE + CONFIDENCE_GAP:
                missing += 1
            continue
        unused.remove(best)
        ious.append(best_iou)
        gaps.append(abs(best.confidence - item.confidence))
    extra = sum(1 for other in unused if other.confidence > CONFIDENCE + CONFIDENCE_GAP)
    passing = sum(1 for overlap, gap in zip(ious, gaps) if overlap >= IOU_MIN and gap <= CONFIDENCE_GAP)
    return {
        "full": len(full), "reduced": len(reduced), "matched": len(ious), "passing": passing,
        "missing": missing, "extra": extra,
        "worst_iou": round(min(ious), 4) if ious else None,
        "median_iou": round(statistics.median(ious), 4) if ious else None,
        "worst_confidence_gap": round(max(gaps), 4) if gaps else None,
    }


def decode_ms(data: bytes, denominator: int, runs: int = 7) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        decode(data, denominator)
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings) * 1000, 2)


def photo_rows(models: dict, photos: list[Path], margins: tuple[float, ...]) -> list[dict]:
    rows = []
    for name, model in models.items():
        for photo in photos:
            data = photo.read_bytes()
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
            if width < 2 * model.input_width or height < 2 * model.input_height:
                continue
            full = predict(model, data, 1)
            for margin in margins:
                denominator = reduction(width, height, *resize_target(model, width, height), margin)
                if denominator == 1:
                    continue
                row = {"model": name, "image": f"{photo.name} ({width}x{height})", "margin": margin,
                       "scale": f"1/{denominator}", **agreement(full, predict(model, data, denominator)),
                       "decode_full_ms": decode_ms(data, 1), "decode_reduced_ms": decode_ms(data, denominator)}
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def scene_rows(model, margins: tuple[float, ...], count: int) -> list[dict]:
    from scene_matching import match_scene
    from synthetic_shapes import render_scene

    rows = []
    for width, height in ((3840, 2160), (1920, 1080)):
        scenes = [render_scene(np.random.default_rng(50_000_000 + seed), width=width, height=height,
                               min_objects=4, max_objects=10) for seed in range(count)]
        encoded = [cv2.imencode(".jpg", scene.image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes() for scene in scenes]
        target = resize_target(model, width, height)
        for margin in (None, *margins):
            denominator = 1 if margin is None else reduction(width, height, *target, margin)
            found = missed = false = 0
            agreements = []
            for scene, data in zip(scenes, encoded):
                predictions = predict(model, data, denominator)
                counts = match_scene(scene.objects, [p.to_dict() for p in predictions])
                found, missed, false = found + counts[0], missed + counts[1], false + counts[2]
                if denominator > 1:
                    agreements.append(agreement(predict(model, data, 1), predictions))
            row = {"model": "shapes fixture (320)", "image": f"{count} scenes {width}x{height}",
                   "scale": f"1/{denominator}", "margin": margin,
                   "recall": round(found / max(found + missed, 1), 3),
                   "precision": round(found / max(found + false, 1), 3)}
            if agreements:
                row.update(
                    matched=sum(a["matched"] for a in agreements), full=sum(a["full"] for a in agreements),
                    passing=sum(a["passing"] for a in agreements),
                    worst_iou=min(a["worst_iou"] for a in agreements if a["worst_iou"] is not None),
                    worst_confidence_gap=max(a["worst_confidence_gap"] for a in agreements if a["worst_confidence_gap"] is not None),
                )
            row["decode_ms"] = decode_ms(encoded[0], denominator, runs=3)
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def load_models(cache: Path) -> dict:
    import tempfile

    from inference_core.api import build_manager
    from inference_core.settings import CoreSettings

    models = {}
    fixture_cache = Path(tempfile.mkdtemp(prefix="large-frames-"))
    fixture_manager = build_manager(CoreSettings(model_cache_dir=fixture_cache, backend="onnx"))
    fixture_manager.store.import_ultralytics_onnx(REPO / "assets/models/shapes-det-yolov8.onnx", "fixture/1")
    models["shapes fixture (320)"] = fixture_manager.get("fixture/1")
    manager = build_manager(CoreSettings(model_cache_dir=cache, backend="onnx"))
    for name, (model_id, _) in BENCH_MODELS.items():
        if manager.store.has(model_id):
            models[name] = manager.get(model_id)
    return models


def markdown(result: dict) -> str:
    lines = [f"# Reduced-resolution JPEG decoding: agreement with the full decode ({result['date']})", "",
             f"Machine: {result['machine']}. Load while measuring (uptime): {result['uptime']}.", "",
             "Criteria (the Ultralytics fidelity check's): same class, box IoU >= 0.95, confidence within "
             "0.02. `passing` counts matched pairs meeting both; `missing`/`extra` count detections above "
             "threshold + 0.02 that only the full/reduced decode has. `margin`: the reduced image stays at "
             "least that many times the size it is resized to.", "",
             "## Real photos", "",
             "| model | image | margin | scale | full dets | matched | passing | missing | extra | worst IoU | median IoU | worst conf gap | decode full ms | decode reduced ms |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["photos"]:
        lines.append(
            f"| {row['model']} | {row['image']} | {row['margin']} | {row['scale']} | {row['full']} | {row['matched']} | "
            f"{row['passing']} | {row['missing']} | {row['extra']} | {row['worst_iou']} | {row['median_iou']} | "
            f"{row['worst_confidence_gap']} | {row['decode_full_ms']} | {row['decode_reduced_ms']} |"
        )
    lines += ["", "## Synthetic scenes rendered at full size (trained fixture, truth known)", "",
              "| image | margin | scale | recall | precision | matched / full | passing | worst IoU | worst conf gap | decode ms |",
              "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["scenes"]:
        lines.append(
            f"| {row['image']} | {row['margin'] or 'full decode'} | {row['scale']} | {row['recall']} | {row['precision']} | "
            f"{str(row.get('matched', '')) + ' / ' + str(row.get('full', '')) if 'matched' in row else ''} | "
            f"{row.get('passing', '')} | {row.get('worst_iou', '')} | {row.get('worst_confidence_gap', '')} | {row['decode_ms']} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", default="", help="comma-separated JPEG paths (default: sample photos found here)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/visionhost-bench/models")
    parser.add_argument("--margins", default="1,2", help="reduced image >= margin x its resize target")
    parser.add_argument("--scenes", type=int, default=6)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    photos = [Path(p) for p in args.photos.split(",") if p] or default_photos()
    margins = tuple(float(m) for m in args.margins.split(","))
    models = load_models(args.cache)
    result = {
        "date": datetime.now().isoformat(timespec="minutes"), "machine": f"{machine.describe()['cpu_model']}, {machine.describe()['cpus']} CPUs",
        "uptime": os.popen("uptime").read().strip(), "photos_used": [str(p) for p in photos],
        "photos": photo_rows(models, photos, margins),
        "scenes": scene_rows(models["shapes fixture (320)"], margins, args.scenes),
    }
    args.output.mkdir(parents=True, exist_ok=True)
    stem = args.output / f"large-frames-{datetime.now():%Y-%m-%d}-{machine.slug(machine.describe())}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    stem.with_suffix(".md").write_text(markdown(result))
    print(stem.with_suffix(".md"))


if __name__ == "__main__":
    main()
