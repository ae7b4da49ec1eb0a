"""Export the benchmark models (random weights) into a Roboflow-layout model cache.

Run with a Python that has Ultralytics and torch (the reference venv, see
tools/ultralytics_reference/README.md); nothing here is imported by the product:

    /work/ultra-venv/bin/python bench/make_models.py --cache ~/.cache/visionhost-bench/models

Weights cannot be downloaded here, so each network is built from Ultralytics' bundled yaml with
random initial weights. Timing only depends on the architecture, but post-processing depends on
how many candidates pass the confidence threshold, and a freshly initialised YOLO outputs the same
tiny score everywhere. So the batch-norm statistics are recomputed on a few images (activations
get unit scale), the class-score layer is rescaled to unit output spread and its bias set so
that, at the bench's confidence 0.25 on the 640x480 sample, yolov8n keeps ~170 candidates (~100
after NMS) and yolov8s ~75 (~27 after NMS): a busy scene's worth of post-processing.

Each model lands in `{cache}/bench/{version}/` as `weights.onnx`, `environment.json`,
`class_names.txt` and `model_type.json`: the layout both our store and Roboflow's old model
loader read.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")

#: version id -> (yaml, image size, task, model_type)
MODELS = {
    "1": ("yolov8n.yaml", 640, "object-detection", "yolov8n"),
    "2": ("yolov8s.yaml", 640, "object-detection", "yolov8s"),
    "3": ("yolov8n.yaml", 320, "object-detection", "yolov8n"),
    "4": ("yolov8n-seg.yaml", 640, "instance-segmentation", "yolov8n-seg"),
    "5": ("yolov8n-cls.yaml", 224, "classification", "yolov8n"),  # Roboflow names it so
}
#: Logit bias of the class scores (their spread is 1): see the module docstring.
CLASS_BIAS = -4.5
SAMPLE_IMAGE = Path(__file__).resolve().parent.parent / "assets" / "images" / "shapes-sample.jpg"


def build(yaml_name: str, size: int, seed: int):
    import torch
    from ultralytics import YOLO

    torch.manual_seed(seed)
    model = YOLO(yaml_name)
    network = model.model
    calibration = calibration_batch(size)
    recalibrate_batch_norm(network, calibration)
    head = network.model[-1]
    if hasattr(head, "cv3"):  # detection-style heads: spread the class scores
        spreads = {}
        hooks = [
            branch[-1].register_forward_hook(
                lambda _m, _i, out, i=i: spreads.__setitem__(i, out.std().item())
            )
            for i, branch in enumerate(head.cv3)
        ]
        with torch.no_grad():
            network(calibration[:1])
        for hook in hooks:
            hook.remove()
        for index, branch in enumerate(head.cv3):
            branch[-1].weight.data /= max(spreads[index], 1e-6)
            branch[-1].bias.data.fill_(CLASS_BIAS)
    return model


def calibration_batch(size: int):
    import cv2
    import numpy as np
    import torch

    image = cv2.imread(str(SAMPLE_IMAGE))
    views = [image, image[:, ::-1], image[::-1]]
    tensors = [cv2.resize(view, (size, size))[..., ::-1].transpose(2, 0, 1) / 255.0 for view in views]
    batch = torch.from_numpy(np.stack(tensors).astype(np.float32))
    return torch.cat([batch, torch.rand(1, 3, size, size)])


def recalibrate_batch_norm(network, images) -> None:
    """Random weights shrink activations layer after layer; real statistics keep them at scale."""
    import torch

    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a plain average over the calibration pass
    network.train()
    with torch.no_grad():
        network(images)
    network.eval()


def export(version: str, cache: Path, seed: int) -> Path:
    yaml_name, size, task, model_type = MODELS[version]
    target = cache / "bench" / version
    if (target / "weights.onnx").is_file():
        return target
    model = build(yaml_name, size, seed)
    names = [str(model.model.names[index]) for index in sorted(model.model.names)]
    with tempfile.TemporaryDirectory() as scratch:
        # Ultralytics writes the export next to the working directory's model file
        previous = Path.cwd()
        os.chdir(scratch)
        try:
            exported = Path(model.export(format="onnx", imgsz=size, dynamic=True, simplify=True)).resolve()
        finally:
            os.chdir(previous)
        write_model_dir(target, exported, task, model_type, size, names, version)
    return target


def write_model_dir(
    target: Path, weights: Path, task: str, model_type: str, size: int, names: list[str], version: str
) -> None:
    resize = "Stretch to" if task == "classification" else "Fit (grey edges) in"
    environment = {
        "PREPROCESSING": json.dumps(
            {
                "auto-orient": {"enabled": True},
                "resize": {"enabled": True, "width": size, "height": size, "format": resize},
            }
        ),
        "CLASS_MAP": {str(index): name for index, name in enumerate(names)},
        "COLORS": {},
        "MULTICLASS": False,
    }
    staging = Path(tempfile.mkdtemp(dir=target.parent if target.parent.exists() else None))
    shutil.copyfile(weights, staging / "weights.onnx")
    (staging / "environment.json").write_text(json.dumps(environment))
    (staging / "class_names.txt").write_text("\n".join(names) + "\n")
    (staging / "model_type.json").write_text(
        json.dumps({"project_task_type": task, "model_type": model_type, "model_id": f"bench/{version}"})
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staging), target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache/visionhost-bench/models")
    parser.add_argument("--models", default=",".join(MODELS), help="versions to export: " + ",".join(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault("YOLO_CONFIG_DIR", str(args.cache.parent / "ultralytics-config"))
    for version in args.models.split(","):
        print(f"bench/{version}: {export(version, args.cache, args.seed)}")


if __name__ == "__main__":
    main()
