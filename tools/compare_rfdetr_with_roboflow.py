"""Our server and Roboflow's (inference 1.8.3, offline) on the same RF-DETR fixture files and the
committed RF-DETR scenes: agreement, and time per request in the same run (with raw ONNX Runtime).

Needs Roboflow's venv from bench/README.md (`inference-cpu[http]==1.8.3`) and this repo's .venv:

    .venv/bin/python tools/compare_rfdetr_with_roboflow.py [--roboflow-venv DIR] [--repeats 5]

Offline, Roboflow's server loads the cache layout with its legacy RF-DETR classes
(USE_INFERENCE_MODELS=False; the `inference_models` path would ask Roboflow's API for the
package). Those resize with OpenCV after normalising and do not round boxes, so small box and
confidence differences are expected; what Roboflow's default (`inference_models`) path answers
is compared exactly in tests/rfdetr (docs/rfdetr.md). Writes bench/results/rfdetr-<date>.json.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "support"), str(ROOT / "tools")]

from model_dirs import roboflow_model_dir  # noqa: E402
from rfdetr_agreement import IMAGES_DIR, box_iou, corners  # noqa: E402
from servers import free_port, ours, roboflow  # noqa: E402

MODELS = {  # model id -> (fixture, task, model type, route)
    "rfdetr-det/1": ("rfdetr-det", "object-detection", "rfdetr-nano", "object_detection"),
    "rfdetr-seg/1": ("rfdetr-seg", "instance-segmentation", "rfdetr-seg-preview", "instance_segmentation"),
}
CONFIDENCE = 0.15


def infer(client: httpx.Client, route: str, model_id: str, image_b64: str) -> tuple[list[dict], float]:
    started = time.perf_counter()
    response = client.post(f"/infer/{route}", json={
        "model_id": model_id, "api_key": "offline", "image": {"type": "base64", "value": image_b64},
        "confidence": CONFIDENCE,
    })
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return response.json()["predictions"], elapsed


def agreement(mine: list[dict], theirs: list[dict]) -> dict:
    """Greedy match by class and box IoU >= 0.5; the worst IoU and confidence gap of the matches."""
    unused, ious, gaps = list(range(len(mine))), [], []
    for entry in theirs:
        candidates = [i for i in unused if mine[i]["class"] == entry["class"]]
        best = max(candidates, key=lambda i: box_iou(corners(entry), corners(mine[i])), default=None)
        if best is None or box_iou(corners(entry), corners(mine[best])) < 0.5:
            continue
        unused.remove(best)
        ious.append(box_iou(corners(entry), corners(mine[best])))
        gaps.append(abs(entry["confidence"] - mine[best]["confidence"]))
    return {"theirs": len(theirs), "ours": len(mine), "matched": len(ious), "ious": ious, "gaps": gaps}


def raw_runtime_ms(weights: Path, repeats: int) -> float:
    """ONNX Runtime alone on one preprocessed input (no decoding, no HTTP): the floor."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(weights), providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    tensor = np.random.default_rng(0).standard_normal(spec.shape).astype(np.float32)
    session.run(None, {spec.name: tensor})
    times = []
    for _ in range(repeats * 8):
        started = time.perf_counter()
        session.run(None, {spec.name: tensor})
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roboflow-venv", type=Path, default=Path.home() / ".cache/visionhost-bench/roboflow-venv")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes over the 8 scenes")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rfdetr-compare-"))
    cache = work / "cache"
    cache.mkdir()
    for model_id, (fixture, task, model_type, _) in MODELS.items():
        roboflow_model_dir(cache, model_id, ROOT / "assets" / "models" / f"{fixture}.onnx",
                           resize_format="Stretch to", size=224, model_type=model_type, task=task)
    scenes = sorted(IMAGES_DIR.glob("scene-*.jpg"))
    images = {path.name: base64.b64encode(path.read_bytes()).decode() for path in scenes}
    servers = {"roboflow": roboflow(arguments.roboflow_venv, cache, free_port(), work / "roboflow.log"),
               "ours": ours(cache, free_port(), work / "ours.log", 0)}
    results: dict = {"date": datetime.date.today().isoformat(), "confidence": CONFIDENCE, "models": {}}
    try:
        for server in servers.values():
            server.start()
        clients = {name: httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=120)
                   for name, server in servers.items()}
        for model_id, (fixture, _task, _type, route) in MODELS.items():
            answers = {name: {} for name in clients}
            times = {name: [] for name in clients}
            for client in clients.values():
                infer(client, route, model_id, next(iter(images.values())))  # load and warm up
            for _ in range(arguments.repeats):
                for image_name, image_b64 in images.items():
                    for name, client in clients.items():  # alternate, so both see the same load
                        predictions, elapsed = infer(client, route, model_id, image_b64)
                        answers[name][image_name] = predictions
                        times[name].append(elapsed)
            per_image = [agreement(answers["ours"][n], answers["roboflow"][n]) for n in images]
            ious = [value for item in per_image for value in item["ious"]]
            gaps = [value for item in per_image for value in item["gaps"]]
            row = {
                "roboflow_predictions": sum(item["theirs"] for item in per_image),
                "our_predictions": sum(item["ours"] for item in per_image),
                "matched_iou_0.5": sum(item["matched"] for item in per_image),
                "worst_iou": min(ious, default=None),
                "mean_iou": statistics.fmean(ious) if ious else None,
                "worst_confidence_gap": max(gaps, default=None),
                "median_ms_per_request": {name: statistics.median(values) * 1000 for name, values in times.items()},
                "raw_onnxruntime_ms": raw_runtime_ms(ROOT / "assets" / "models" / f"{fixture}.onnx",
                                                     arguments.repeats),
                "image_sizes": sorted({"x".join(map(str, cv2.imread(str(p)).shape[1::-1])) for p in scenes}),
            }
            results["models"][model_id] = row
            print(model_id, json.dumps(row))
    finally:
        for server in servers.values():
            server.stop()
    output = ROOT / "bench" / "results" / f"rfdetr-{results['date']}.json"
    output.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {output}; logs in {work}")


if __name__ == "__main__":
    main()
