"""The YOLO26 fixture: a small YOLO26 detector trained and exported by Ultralytics itself.

Needs `ultralytics` (8.4 or newer, which has YOLO26) and PyTorch; the product never imports them.

    python tools/fixtures_yolo26.py data  --output /tmp/shapes-yolo
    python tools/fixtures_yolo26.py train --data /tmp/shapes-yolo --minutes 30 --project /tmp/y26 --threads 2
    python tools/fixtures_yolo26.py train --data /tmp/shapes-yolo --minutes 25 --project /tmp/y26b --threads 2 \
        --init /tmp/y26/train/weights/last.pt
    python tools/fixtures_yolo26.py export --weights /tmp/y26/train/weights/last.pt   # both export layouts
    python tools/fixtures_yolo26.py layouts            # proves the YOLOv9 / YOLOv12 / YOLO26 output layouts

The network is YOLO26's own graph (`yolo26.yaml`) at a reduced width so that the ONNX file stays
a few MB; everything else (loss, assigner, end-to-end head, export) is Ultralytics' code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_shapes import CLASS_NAMES, render_scene  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "assets" / "models"
INPUT_SIZE = 256
#: YOLO26 at width 0.125 (the `n` scale is 0.25): about 0.6 M parameters.
SMALL_SCALE = {"depth": 0.5, "width": 0.125, "max_channels": 256}
TRAIN_SEED = 3_000_000  # seeds used by no other fixture
VALIDATION_SEED = 3_500_000


def scene_size(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(280, 641)), int(rng.integers(280, 641))


def write_dataset(output: Path, train_count: int, validation_count: int) -> Path:
    """Synthetic scenes as an Ultralytics YOLO dataset; returns its data.yaml."""
    for split, first_seed, count in (("train", TRAIN_SEED, train_count), ("val", VALIDATION_SEED, validation_count)):
        images, labels = output / "images" / split, output / "labels" / split
        images.mkdir(parents=True, exist_ok=True)
        labels.mkdir(parents=True, exist_ok=True)
        for index in range(count):
            rng = np.random.default_rng(first_seed + index)
            width, height = scene_size(rng)
            scene = render_scene(rng, width, height, min_objects=1, max_objects=5)
            cv2.imwrite(str(images / f"{index:05d}.jpg"), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
            rows = []
            for shape in scene.objects:
                x1, y1, x2, y2 = shape.box
                rows.append(
                    f"{shape.class_id} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} "
                    f"{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}"
                )
            (labels / f"{index:05d}.txt").write_text("\n".join(rows) + "\n")
    data_yaml = output / "data.yaml"
    names = "\n".join(f"  {index}: {name}" for index, name in enumerate(CLASS_NAMES))
    data_yaml.write_text(f"path: {output}\ntrain: images/train\nval: images/val\nnames:\n{names}\n")
    return data_yaml


def small_model_yaml(source_yaml: str, output: Path, tiny: bool = True) -> Path:
    """Ultralytics' model yaml for our 4 classes; `tiny` replaces its scales by one scale `t`
    (a few-MB ONNX file), otherwise its own `n` scale (or the file's fixed size) is used."""
    import yaml
    from ultralytics.utils import ROOT as ULTRALYTICS_ROOT

    matches = list((ULTRALYTICS_ROOT / "cfg" / "models").rglob(source_yaml))
    if not matches:
        raise SystemExit(f"{source_yaml} is not in this Ultralytics version")
    config = yaml.safe_load(matches[0].read_text())
    config["nc"] = len(CLASS_NAMES)
    stem = source_yaml.removesuffix(".yaml")
    letter = ""
    if tiny:
        config["scales"] = {"t": [SMALL_SCALE["depth"], SMALL_SCALE["width"], SMALL_SCALE["max_channels"]]}
        letter = "t"
    elif "scales" in config:
        letter = "n"
    target = output / f"{stem}{letter}.yaml"  # Ultralytics reads the scale letter after the family name
    output.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(config, sort_keys=False))
    return target


def train(data_yaml: Path, minutes: float, project: Path, threads: int, init: Path | None) -> None:
    """Train from scratch, or go on from `init` (a previous run's weights) with a fresh schedule."""
    import torch
    from ultralytics import YOLO

    torch.set_num_threads(threads)
    model = YOLO(str(init) if init else str(small_model_yaml("yolo26.yaml", project / "cfg")))
    # A short CPU run: no mosaic (shapes stay large), one warm-up epoch, the schedule fitted to `time`.
    # Going on from earlier weights: AdamW at a low rate and no warm-up, which would undo them.
    resume = {"optimizer": "AdamW", "lr0": 0.002, "warmup_epochs": 0, "pretrained": str(init)} if init else {
        "warmup_epochs": 1, "pretrained": False}
    model.train(
        data=str(data_yaml), imgsz=INPUT_SIZE, epochs=200, time=minutes / 60, batch=16, workers=1,
        device="cpu", project=str(project), name="train", exist_ok=True, plots=False, amp=False,
        seed=0, deterministic=False, patience=1000, val=True, verbose=False,
        mosaic=0.0, close_mosaic=0, **resume,
    )


def export(weights: Path, output: Path, end_to_end: bool) -> None:
    """Ultralytics' ONNX export. Its default (`nms=None`) is the one-to-many head in the YOLOv8
    layout with NMS left to the caller; `nms=False` gives YOLO26's NMS-free end-to-end head."""
    from ultralytics import YOLO

    model = YOLO(str(weights))
    options = {"nms": False} if end_to_end else {}
    exported = Path(model.export(format="onnx", imgsz=INPUT_SIZE, dynamic=False, simplify=True, opset=17,
                                 **options))
    output.write_bytes(exported.read_bytes())
    print(f"wrote {output} ({output.stat().st_size / 1e6:.2f} MB)")


def layouts(output: Path) -> None:
    """Export YOLOv9, YOLOv12 and YOLO26 graphs (untrained) and record each output layout."""
    import onnx
    from ultralytics import YOLO

    work = Path("/tmp/models2-layouts")
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(work)  # Ultralytics writes a yaml-built model's export into the working directory
    found = {}
    exports = (("yolov9", "yolov9t.yaml", {}), ("yolov12", "yolo12.yaml", {}), ("yolov8", "yolov8.yaml", {}),
               ("yolo26", "yolo26.yaml", {}), ("yolo26 nms=False", "yolo26.yaml", {"nms": False}))
    for family, source, options in exports:
        model = YOLO(str(small_model_yaml(source, work / family.split()[0], tiny=False)))
        exported = Path(model.export(format="onnx", imgsz=INPUT_SIZE, dynamic=False, simplify=True, opset=17,
                                     **options))
        graph = onnx.load(str(exported))
        metadata = {entry.key: entry.value for entry in graph.metadata_props}
        outputs = {
            item.name: [dim.dim_value or dim.dim_param for dim in item.type.tensor_type.shape.dim]
            for item in graph.graph.output
        }
        found[family] = {"outputs": outputs, "end2end": metadata.get("end2end"), "classes": len(CLASS_NAMES)}
        print(family, found[family])
    output.write_text(json.dumps(found, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("data")
    data.add_argument("--output", type=Path, required=True)
    data.add_argument("--train-images", type=int, default=800)
    data.add_argument("--val-images", type=int, default=100)
    training = commands.add_parser("train")
    training.add_argument("--data", type=Path, required=True)
    training.add_argument("--minutes", type=float, default=12)
    training.add_argument("--project", type=Path, required=True)
    training.add_argument("--threads", type=int, default=1)
    training.add_argument("--init", type=Path, default=None, help="weights of an earlier run to go on from")
    exporting = commands.add_parser("export")
    exporting.add_argument("--weights", type=Path, required=True)
    exporting.add_argument("--output-dir", type=Path, default=MODELS)
    proving = commands.add_parser("layouts")
    proving.add_argument("--output", type=Path, default=MODELS / "ultralytics-layouts.json")
    arguments = parser.parse_args()
    os.environ.setdefault("YOLO_OFFLINE", "1")
    if arguments.command == "data":
        print(write_dataset(arguments.output, arguments.train_images, arguments.val_images))
    elif arguments.command == "train":
        train(arguments.data / "data.yaml", arguments.minutes, arguments.project, arguments.threads, arguments.init)
    elif arguments.command == "export":
        export(arguments.weights, arguments.output_dir / "shapes-det-yolo26.onnx", end_to_end=True)
        export(arguments.weights, arguments.output_dir / "shapes-det-yolo26-nms.onnx", end_to_end=False)
    else:
        layouts(arguments.output)


if __name__ == "__main__":
    main()
