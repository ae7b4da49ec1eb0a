"""Our server and Roboflow's (inference 1.8.3, offline, its legacy loader) on the same YOLO-NAS,
YOLO26 and DeepLabV3+ fixture files and the same 8 reference images; prints the agreement.

Needs Roboflow's venv from bench/README.md (`inference-cpu[http]==1.8.3`) and this repo's .venv:

    .venv/bin/python tools/compare_models2_with_roboflow.py [--roboflow-venv DIR]

Roboflow's server runs with USE_INFERENCE_MODELS=False (its offline loader reads the cache layout;
the `inference_models` path would ask Roboflow's API for the package), so its answers are those
of its legacy classes: YOLONASObjectDetection, YOLO26ObjectDetection, and for semantic
segmentation DeepLabV3PlusSemanticSegmentation, which softmaxes at the network's resolution and
resizes class ids to the image with nearest-neighbour and applies no confidence threshold
(ours follows the newer `inference_models` decode: see docs/model-layouts.md).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "support"), str(ROOT / "tools")]

from reference_agreement import (  # noqa: E402
    SEMANTIC_CLASSES,
    compare_boxes,
    decode_png,
    reference,
    reference_image_base64,
    wire_boxes,
)
from servers import free_port, ours, roboflow  # noqa: E402

MODELS = {  # model id -> (fixture, task, model type, resize, class names)
    "shapes-nas/1": ("shapes-det-yolonas", "object-detection", "yolo_nas_s", "Fit (grey edges) in", None),
    "shapes-y26/1": ("shapes-det-yolo26", "object-detection", "yolo26n", "Fit (grey edges) in", None),
    "shapes-semseg/1": ("shapes-semseg-deeplab", "semantic-segmentation", "deeplabv3plus", "Stretch to",
                        SEMANTIC_CLASSES),
}
SHAPES = ["circle", "square", "triangle", "star"]


def write_cache(cache: Path) -> None:
    import onnx

    for model_id, (fixture, task, model_type, resize, names) in MODELS.items():
        directory = cache / model_id
        directory.mkdir(parents=True)
        weights = ROOT / "assets" / "models" / f"{fixture}.onnx"
        size = onnx.load(str(weights)).graph.input[0].type.tensor_type.shape.dim[2].dim_value
        (directory / "weights.onnx").write_bytes(weights.read_bytes())
        names = names or SHAPES
        environment = {
            "PREPROCESSING": json.dumps({"auto-orient": {"enabled": True},
                                         "resize": {"enabled": True, "width": size, "height": size,
                                                    "format": resize}}),
            "CLASS_MAP": {str(index): name for index, name in enumerate(names)}, "COLORS": {}, "MULTICLASS": False,
        }
        (directory / "environment.json").write_text(json.dumps(environment))
        (directory / "class_names.txt").write_text("\n".join(names) + "\n")
        (directory / "model_type.json").write_text(
            json.dumps({"project_task_type": task, "model_type": model_type, "model_id": model_id}))


def legacy(url: str, model_id: str, image_name: str, **query) -> dict:
    response = httpx.post(f"{url}/{model_id}", params={"api_key": "offline", **query},
                          content=reference_image_base64(image_name),
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=120)
    response.raise_for_status()
    return response.json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--roboflow-venv", type=Path, default=Path.home() / ".cache/visionhost-bench/roboflow-venv")
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="models2-compare-"))
    cache = work / "cache"
    write_cache(cache)
    servers = [roboflow(arguments.roboflow_venv, cache, free_port(), work / "roboflow.log"),
               ours(cache, free_port(), work / "ours.log", 0)]
    try:
        for server in servers:
            server.start()
        theirs_url, ours_url = (f"http://127.0.0.1:{server.port}" for server in servers)
        for model_id, (fixture, task, *_rest) in MODELS.items():
            if task == "object-detection":
                expected = reference(fixture)
                confidence, iou = expected["confidence"], expected.get("iou_threshold", 0.3)
                matched = total = 0
                worst_iou, worst_gap, extra = 1.0, 0.0, 0
                for name in expected["images"]:
                    mine = wire_boxes(legacy(ours_url, model_id, name, confidence=confidence, overlap=iou)["predictions"])
                    theirs = wire_boxes(legacy(theirs_url, model_id, name, confidence=confidence,
                                               overlap=iou)["predictions"])
                    agreement = compare_boxes(mine, theirs)
                    matched += agreement.matched
                    total += len(theirs)
                    extra += len(agreement.ours_only) + len(agreement.reference_only)
                    if agreement.matched:
                        worst_iou = min(worst_iou, agreement.min_iou)
                        worst_gap = max(worst_gap, agreement.max_confidence_gap)
                print(f"{model_id} ({fixture}): {matched}/{total} of Roboflow's boxes matched, unmatched {extra}, "
                      f"worst IoU {worst_iou:.4f}, worst confidence gap {worst_gap:.5f}")
            else:
                expected = reference(fixture)
                agreements = []
                for name in expected["images"]:
                    mine = legacy(ours_url, model_id, name, confidence=0.0)["predictions"]
                    theirs = legacy(theirs_url, model_id, name, confidence=0.0)["predictions"]
                    assert theirs["class_map"] == mine["class_map"], (theirs["class_map"], mine["class_map"])
                    first, second = decode_png(mine["segmentation_mask"]), decode_png(theirs["segmentation_mask"])
                    agreements.append(float((first == second).mean()) if first.shape == second.shape else 0.0)
                print(f"{model_id} ({fixture}), confidence 0: class-id pixels equal on "
                      f"{min(agreements):.4f} (worst image) / {sum(agreements) / len(agreements):.4f} (mean)")
    finally:
        for server in servers:
            server.stop()
    print(f"logs: {work}")


if __name__ == "__main__":
    main()
