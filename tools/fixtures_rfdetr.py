"""Build, train briefly and export the RF-DETR fixtures, then record the package's own predictions.

The fixtures are real RF-DETR networks from the `rfdetr` package (its LW-DETR model, its
criterion, its `export()`), only narrower and shallower than RF-DETR Nano so the ONNX files stay a
few MB: the DINOv2 backbone has 4 layers of width 96 instead of 12 of width 384, the decoder is
64 wide, and the input is 224 px. Inputs and outputs are those of every RF-DETR export:
`input` (1x3x224x224), `dets` (1xQx4), `labels` (1xQx(classes+1)) and, for segmentation,
`masks` (1xQx56x56). Trained from scratch on the synthetic shapes for a few minutes of CPU.

Needs its own environment (never the product's)::

    python3 -m venv /work/venvs/rfdetr
    /work/venvs/rfdetr/bin/pip install torch==2.14.1 torchvision==0.29.1
    /work/venvs/rfdetr/bin/pip install 'rfdetr[train,onnx]==1.11.2' opencv-python-headless

Usage::

    python tools/fixtures_rfdetr.py train detect --minutes 6
    python tools/fixtures_rfdetr.py train segment --minutes 6
    python tools/fixtures_rfdetr.py reference        # predictions of the package's predict()

`train` writes `assets/models/rfdetr-{det,seg}.onnx` and a checkpoint under /tmp;
`roboflow-reference` (with `inference-models` on PYTHONPATH) records what Roboflow's server code
answers on the same scenes, in `assets/models/rfdetr-{det,seg}.roboflow.json`.
`reference` renders the committed test scenes (`assets/images/rfdetr/`) and writes
`assets/models/rfdetr-{det,seg}.reference.json` with what `RFDETR.predict()` answers for them.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_shapes import CLASS_NAMES, box_iou, render_scene  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "assets" / "models"
IMAGES_DIR = REPO_ROOT / "assets" / "images" / "rfdetr"
WORK_DIR = Path("/tmp/rfdetr-fixtures")
RESOLUTION = 224
NUM_QUERIES = 60
TEST_SEED_BASE = 20_000_000  # scenes at or above this seed are never trained on
TEST_SCENES = 8
REFERENCE_THRESHOLD = 0.15  # the fixtures are weak: their true detections score 0.15-0.45

#: A DINOv2-with-registers config 4 layers deep and 96 wide (Nano's is 12 deep, 384 wide).
TINY_BACKBONE = {"hidden_size": 96, "num_attention_heads": 3, "num_hidden_layers": 4}
ARCHITECTURE = dict(
    pretrain_weights=None,
    num_classes=len(CLASS_NAMES),
    resolution=RESOLUTION,
    positional_encoding_size=RESOLUTION // 16,
    out_feature_indexes=[1, 2, 3, 4],
    hidden_dim=64,
    sa_nheads=2,
    ca_nheads=4,
    dec_layers=2,
    num_queries=NUM_QUERIES,
    num_select=NUM_QUERIES,
    group_detr=4,
)


def shrink_backbone() -> None:
    """Make the package's 'small' DINOv2 the tiny one above (its JSON config is read at build time)."""
    from rfdetr.models.backbone import dinov2

    original = dinov2.get_config

    def tiny_config(size: str, use_registers: bool) -> dict:
        config = original(size, use_registers)
        config.update(TINY_BACKBONE)
        config["stage_names"] = ["stem"] + [f"stage{i}" for i in range(1, TINY_BACKBONE["num_hidden_layers"] + 1)]
        config.pop("out_features", None)
        config.pop("out_indices", None)
        return config

    dinov2.get_config = tiny_config
    dinov2.size_to_width["small"] = TINY_BACKBONE["hidden_size"]


def build(task: str):
    """The package's RF-DETR Nano (or Seg Nano) class with the tiny architecture."""
    shrink_backbone()
    from rfdetr import RFDETRNano, RFDETRSegNano

    if task == "detect":
        return RFDETRNano(**ARCHITECTURE, patch_size=16, num_windows=2)
    return RFDETRSegNano(**{**ARCHITECTURE, "positional_encoding_size": RESOLUTION // 16}, patch_size=16, num_windows=2)


def training_batch(rng: np.random.Generator, size: int, segment: bool):
    """Synthetic scenes at the network size, normalised as RF-DETR trains, with DETR targets."""
    images, targets = [], []
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    for _ in range(size):
        width, height = (int(v) for v in rng.choice([(224, 224), (320, 240), (240, 320), (288, 224)]))
        scene = render_scene(rng, width=width, height=height, min_objects=1, max_objects=4)
        rgb = cv2.resize(scene.image, (RESOLUTION, RESOLUTION), interpolation=cv2.INTER_LINEAR)[..., ::-1]
        tensor = (rgb.astype(np.float32) / 255.0 - mean) / std
        images.append(torch.from_numpy(np.ascontiguousarray(tensor.transpose(2, 0, 1))))
        boxes = np.array([shape.box for shape in scene.objects], dtype=np.float32)
        boxes /= np.array([width, height, width, height], dtype=np.float32)
        cxcywh = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2,
                           boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]], axis=1)
        target = {
            "labels": torch.tensor([shape.class_id for shape in scene.objects], dtype=torch.int64),
            "boxes": torch.from_numpy(cxcywh),
        }
        if segment:
            masks = [cv2.resize(shape.mask.astype(np.uint8), (RESOLUTION, RESOLUTION),
                                interpolation=cv2.INTER_NEAREST) > 0 for shape in scene.objects]
            target["masks"] = torch.from_numpy(np.stack(masks))
        targets.append(target)
    return torch.stack(images), targets


def train(task: str, minutes: float, batch_size: int, seed: int, resume: bool, lr: float, out: Path) -> None:
    from rfdetr.config import SegmentationTrainConfig, TrainConfig
    from rfdetr.models import build_criterion_from_config

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    wrapper = build(task)
    model = wrapper.model.model
    if resume:
        model.load_state_dict(torch.load(WORK_DIR / f"{task}.pt", weights_only=True))
    config_class = SegmentationTrainConfig if task == "segment" else TrainConfig
    train_config = config_class(dataset_dir=".", output_dir=str(WORK_DIR))
    criterion, _ = build_criterion_from_config(wrapper.model_config, train_config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"{task}: {parameters / 1e6:.2f} M parameters", flush=True)
    model.train()
    started, step = time.monotonic(), 0
    deadline = started + minutes * 60
    while time.monotonic() < deadline:
        images, targets = training_batch(rng, batch_size, task == "segment")
        outputs = model(images, targets)
        losses = criterion(outputs, targets)
        weights = criterion.weight_dict
        loss = sum(losses[name] * weights[name] for name in losses if name in weights)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        step += 1
        if step % 50 == 0:
            print(f"step {step} loss {loss.item():.3f} ({time.monotonic() - started:.0f}s)", flush=True)
    model.eval()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), WORK_DIR / f"{task}.pt")
    export(task, wrapper, out)


def load(task: str):
    wrapper = build(task)
    wrapper.model.model.load_state_dict(torch.load(WORK_DIR / f"{task}.pt", weights_only=True))
    wrapper.model.model.eval()
    wrapper.model.class_names = list(CLASS_NAMES)
    return wrapper


def export(task: str, wrapper, destination: Path = MODELS_DIR) -> None:
    out = WORK_DIR / f"export-{task}"
    shutil.rmtree(out, ignore_errors=True)
    path = wrapper.export(output_dir=str(out), verbose=False)
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / f"rfdetr-{'det' if task == 'detect' else 'seg'}.onnx"
    shutil.copyfile(path, target)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")


def test_scenes() -> list[Path]:
    """The committed test images (rendered once, then read back so JPEG decoding is the same)."""
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(TEST_SCENES):
        path = IMAGES_DIR / f"scene-{index}.jpg"
        if not path.exists():
            rng = np.random.default_rng(TEST_SEED_BASE + index)
            # half at the network size, where no resize happens and the references must agree
            # exactly; half at other sizes, where the package's resize and the server's differ
            width, height = [(224, 224), (320, 240), (224, 224), (400, 300), (224, 224), (240, 320), (224, 224),
                             (300, 300)][index]
            scene = render_scene(rng, width=width, height=height, min_objects=1, max_objects=4)
            cv2.imwrite(str(path), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 95])
            (path.with_suffix(".json")).write_text(json.dumps([
                {"class": shape.class_name, "box": [float(v) for v in shape.box]} for shape in scene.objects
            ]))
        paths.append(path)
    return paths


def reference(threshold: float) -> None:
    """What the package's own predict() answers on each committed scene, for CI to compare against."""
    from PIL import Image
    from pycocotools import mask as coco_mask

    for task, name in (("detect", "rfdetr-det"), ("segment", "rfdetr-seg")):
        if not (WORK_DIR / f"{task}.pt").exists():
            continue
        wrapper = load(task)
        images = {}
        found = truth = matched = 0
        for path in test_scenes():
            rgb = Image.open(path).convert("RGB")
            detections = wrapper.predict(rgb, threshold=threshold, include_source_image=False)
            entries = []
            for index in range(len(detections)):
                entry = {
                    "xyxy": [float(v) for v in detections.xyxy[index]],
                    "confidence": float(detections.confidence[index]),
                    "class_id": int(detections.class_id[index]),
                }
                if detections.mask is not None:
                    rle = coco_mask.encode(np.asfortranarray(detections.mask[index].astype(np.uint8)))
                    entry["rle"] = {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
                entries.append(entry)
            images[path.name] = entries
            labels = json.loads(path.with_suffix(".json").read_text())
            truth += len(labels)
            found += len(entries)
            for label in labels:
                if any(CLASS_NAMES[e["class_id"]] == label["class"]
                       and box_iou(np.array(e["xyxy"]), np.array(label["box"])) >= 0.5 for e in entries
                       if e["class_id"] < len(CLASS_NAMES)):
                    matched += 1
        record = {
            "model": f"{name}.onnx",
            "producer": "rfdetr.RFDETR.predict (rfdetr 1.11.2, torch CPU), PIL RGB input",
            "threshold": threshold,
            "class_names": list(CLASS_NAMES),
            "shapes_found_at_iou_0.5": f"{matched}/{truth}",
            "images": images,
        }
        (MODELS_DIR / f"{name}.reference.json").write_text(json.dumps(record, indent=1) + "\n")
        print(f"{name}: {found} predictions on {len(images)} scenes; {matched}/{truth} shapes found (IoU>=0.5)")


def roboflow_package(onnx: Path, directory: Path) -> Path:
    """The fixture as a Roboflow model package (what `inference_models` loads): weights, classes, config."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    shutil.copyfile(onnx, directory / "weights.onnx")
    (directory / "class_names.txt").write_text("\n".join(CLASS_NAMES) + "\n")
    (directory / "inference_config.json").write_text(json.dumps({
        "network_input": {
            "training_input_size": {"height": RESOLUTION, "width": RESOLUTION},
            "dynamic_spatial_size_supported": False,
            "color_mode": "rgb",
            "resize_mode": "stretch",
            "input_channels": 3,
            "scaling_factor": 255,
            "normalization": [[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]],
        },
    }))
    return directory


def roboflow_reference(threshold: float) -> None:
    """What Roboflow's server code (`inference_models`' RF-DETR ONNX model) answers on the same scenes.

    Needs `inference-models` importable (its RF-DETR modules and their few dependencies); the
    image is given as Roboflow's HTTP adapter gives it: OpenCV-decoded BGR, input_color_format=bgr.
    """
    from inference_models.models.rfdetr.rfdetr_instance_segmentation_onnx import RFDetrForInstanceSegmentationOnnx
    from inference_models.models.rfdetr.rfdetr_object_detection_onnx import RFDetrForObjectDetectionONNX
    from pycocotools import mask as coco_mask

    loaders = {"rfdetr-det": RFDetrForObjectDetectionONNX, "rfdetr-seg": RFDetrForInstanceSegmentationOnnx}
    for name, loader in loaders.items():
        package = roboflow_package(MODELS_DIR / f"{name}.onnx", WORK_DIR / f"package-{name}")
        model = loader.from_pretrained(str(package), onnx_execution_providers=["CPUExecutionProvider"],
                                       device=torch.device("cpu"))
        images = {}
        for path in test_scenes():
            bgr = cv2.imread(str(path))
            detections = model(bgr, input_color_format="bgr", confidence=threshold)[0]
            entries = []
            for index in range(len(detections.confidence)):
                entry = {
                    "xyxy": [float(v) for v in detections.xyxy[index]],
                    "confidence": float(detections.confidence[index]),
                    "class_id": int(detections.class_id[index]),
                }
                if name == "rfdetr-seg":
                    mask = detections.mask[index].cpu().numpy().astype(np.uint8)
                    rle = coco_mask.encode(np.asfortranarray(mask))
                    entry["rle"] = {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
                entries.append(entry)
            images[path.name] = entries
        record = {
            "model": f"{name}.onnx",
            "producer": "inference_models 0.39.6 RF-DETR ONNX (Roboflow's server path), BGR input",
            "threshold": threshold,
            "class_names": list(CLASS_NAMES),
            "images": images,
        }
        (MODELS_DIR / f"{name}.roboflow.json").write_text(json.dumps(record, indent=1) + "\n")
        print(f"{name}: {sum(map(len, images.values()))} Roboflow predictions on {len(images)} scenes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train_parser = commands.add_parser("train")
    train_parser.add_argument("task", choices=("detect", "segment"))
    train_parser.add_argument("--minutes", type=float, default=6.0)
    train_parser.add_argument("--batch", type=int, default=8)
    train_parser.add_argument("--seed", type=int, default=1)
    train_parser.add_argument("--lr", type=float, default=4e-4)
    train_parser.add_argument("--out", type=Path, default=MODELS_DIR, help="where the ONNX file goes")
    train_parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    export_parser = commands.add_parser("export")
    export_parser.add_argument("task", choices=("detect", "segment"))
    reference_parser = commands.add_parser("reference")
    reference_parser.add_argument("--threshold", type=float, default=REFERENCE_THRESHOLD)
    roboflow_parser = commands.add_parser("roboflow-reference")
    roboflow_parser.add_argument("--threshold", type=float, default=REFERENCE_THRESHOLD)
    args = parser.parse_args()
    torch.set_num_threads(1)  # measured: 2 threads on the shared 2-core machine ran 4x slower
    if args.command == "train":
        train(args.task, args.minutes, args.batch, args.seed, args.resume, args.lr, args.out)
    elif args.command == "export":
        export(args.task, load(args.task))
    elif args.command == "reference":
        reference(args.threshold)
    else:
        roboflow_reference(args.threshold)


if __name__ == "__main__":
    main()
