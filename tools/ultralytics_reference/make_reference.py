"""Reference predictions from Ultralytics' own predictor, on ONNX weights we train here.

Runs in a separate virtual environment that has ultralytics (see README.md beside
this file); Ultralytics is a reference only and never a dependency of the server.

Stages, each skipped when its output already exists (``--force`` redoes it):

  data     synthetic YOLO-format data sets from tools/synthetic_shapes.py
  train    a short CPU run per task from the bundled model yaml (no download)
  export   ONNX at a fixed input size (640 for detect/segment/pose, 224 for classify)
  predict  Ultralytics' predictor on the exported ONNX file, written as reference JSON

Everything is written outside the repository, under ``--root`` (/work/ultra-ref).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

# Ultralytics must never reach the network: set before it is imported anywhere.
os.environ["YOLO_OFFLINE"] = "1"
os.environ.setdefault("YOLO_VERBOSE", "True")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

REPO_TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_TOOLS))
from synthetic_shapes import CLASS_NAMES, render_scene  # noqa: E402

TASKS = ("detect", "segment", "classify", "pose")
MODEL_YAML = {
    "detect": "yolov8n.yaml",
    "segment": "yolov8n-seg.yaml",
    "classify": "yolov8n-cls.yaml",
    "pose": "yolov8n-pose.yaml",
}
ONNX_NAME = {
    "detect": "yolov8n-shapes.onnx",
    "segment": "yolov8n-seg-shapes.onnx",
    "classify": "yolov8n-cls-shapes.onnx",
    "pose": "yolov8n-pose-shapes.onnx",
}
EXPORT_IMGSZ = {"detect": 640, "segment": 640, "classify": 224, "pose": 640}

# Pose: one class, the square, with its 4 corners in a canonical order.
POSE_CLASS = "square"
POSE_KEYPOINT_NAMES = ("top", "right", "bottom", "left")
# Mirroring left-right swaps the right and left corners; top and bottom stay.
POSE_FLIP_IDX = [0, 3, 2, 1]

TRAIN_SIZES = [(640, 480), (480, 640), (640, 640), (800, 600), (512, 384), (960, 540), (1280, 720)]
TEST_SIZES = [(1280, 720), (640, 480), (480, 640), (333, 517), (517, 333)]
CLS_TEST_SIZES = [(224, 224), (96, 96), (300, 180), (150, 260), (64, 80)]

PREDICT_CONF = 0.25
PREDICT_IOU = 0.7  # Ultralytics' default predict iou
JPEG_QUALITY = 95


# --------------------------------------------------------------------------- helpers


def log(message: str) -> None:
    print(f"[make_reference {time.strftime('%H:%M:%S')}] {message}", flush=True)


def pick_size(rng: np.random.Generator, sizes: list[tuple[int, int]]) -> tuple[int, int]:
    return sizes[int(rng.integers(0, len(sizes)))]


def write_jpeg(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise RuntimeError(f"could not write {path}")


def yolo_box(
    box: tuple[float, float, float, float], width: int, height: int
) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    x1, x2 = max(0.0, x1), min(float(width), x2)
    y1, y2 = max(0.0, y1), min(float(height), y2)
    return ((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height)


def mask_polygon(mask: np.ndarray) -> np.ndarray | None:
    """The largest outer contour of a visible mask, as (P, 2) float pixels."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea).reshape(-1, 2).astype(np.float64)
    if len(contour) < 3:
        return None
    return contour


def canonical_square_corners(keypoints: np.ndarray) -> np.ndarray:
    """Square corners ordered top-most first, then clockwise on screen (y grows down)."""
    centre = keypoints.mean(axis=0)
    angles = np.arctan2(keypoints[:, 1] - centre[1], keypoints[:, 0] - centre[0])
    start = int(np.argmin(keypoints[:, 1]))
    order = np.argsort((angles - angles[start]) % (2 * math.pi))
    return keypoints[order]


def fmt(values) -> str:
    return " ".join(f"{value:.6f}" for value in values)


# --------------------------------------------------------------------------- data


def write_detect_segment_data(root: Path, n_train: int, n_val: int, seed: int) -> None:
    """One set of scenes with two label sets: boxes (detect) and polygons (segment)."""
    rng = np.random.default_rng(seed)
    for split, count in (("train", n_train), ("val", n_val)):
        for index in range(count):
            width, height = pick_size(rng, TRAIN_SIZES)
            scene = render_scene(rng, width, height, 1, 5)
            stem = f"{split}_{index:05d}"
            det_lines, seg_lines = [], []
            for obj in scene.objects:
                det_lines.append(f"{obj.class_id} {fmt(yolo_box(obj.box, width, height))}")
                polygon = mask_polygon(obj.mask)
                if polygon is not None:
                    normalised = (polygon / [width, height]).clip(0, 1).reshape(-1)
                    seg_lines.append(f"{obj.class_id} {fmt(normalised)}")
            for task, lines in (("detect", det_lines), ("segment", seg_lines)):
                write_jpeg(root / task / "images" / split / f"{stem}.jpg", scene.image)
                label = root / task / "labels" / split / f"{stem}.txt"
                label.parent.mkdir(parents=True, exist_ok=True)
                label.write_text("\n".join(lines) + "\n")
    names = {index: name for index, name in enumerate(CLASS_NAMES)}
    for task in ("detect", "segment"):
        write_yaml(
            root / f"{task}.yaml",
            {"path": str(root / task), "train": "images/train", "val": "images/val", "names": names},
        )


def write_pose_data(root: Path, n_train: int, n_val: int, seed: int) -> None:
    """Scenes holding at least one square; only squares are labelled, with 4 corners."""
    rng = np.random.default_rng(seed)
    square_id = CLASS_NAMES.index(POSE_CLASS)
    for split, count in (("train", n_train), ("val", n_val)):
        index = 0
        while index < count:
            width, height = pick_size(rng, TRAIN_SIZES)
            scene = render_scene(rng, width, height, 1, 5)
            squares = [obj for obj in scene.objects if obj.class_id == square_id]
            if not squares:
                continue
            lines = []
            for obj in squares:
                corners = canonical_square_corners(np.asarray(obj.keypoints, np.float64))
                values = list(yolo_box(obj.box, width, height))
                for x, y in corners:
                    values += [min(max(x / width, 0.0), 1.0), min(max(y / height, 0.0), 1.0), 2.0]
                lines.append(f"0 {fmt(values)}")
            stem = f"{split}_{index:05d}"
            write_jpeg(root / "pose" / "images" / split / f"{stem}.jpg", scene.image)
            label = root / "pose" / "labels" / split / f"{stem}.txt"
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text("\n".join(lines) + "\n")
            index += 1
    write_yaml(
        root / "pose.yaml",
        {
            "path": str(root / "pose"),
            "train": "images/train",
            "val": "images/val",
            "kpt_shape": [4, 3],
            "flip_idx": POSE_FLIP_IDX,
            "names": {0: POSE_CLASS},
            "kpt_names": {0: list(POSE_KEYPOINT_NAMES)},
        },
    )


def shape_crop(rng: np.random.Generator, image: np.ndarray, box) -> np.ndarray:
    """A loose, roughly square crop around one shape."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    side = max(x2 - x1, y2 - y1) * rng.uniform(1.1, 1.6)
    aspect = rng.uniform(0.75, 1.33)
    crop_w, crop_h = side * math.sqrt(aspect), side / math.sqrt(aspect)
    cx = (x1 + x2) / 2 + rng.uniform(-0.1, 0.1) * side
    cy = (y1 + y2) / 2 + rng.uniform(-0.1, 0.1) * side
    left, top = int(max(0, round(cx - crop_w / 2))), int(max(0, round(cy - crop_h / 2)))
    right, bottom = int(min(width, round(cx + crop_w / 2))), int(min(height, round(cy + crop_h / 2)))
    return image[top:bottom, left:right]


def write_classify_data(root: Path, n_train: int, n_val: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for split, count in (("train", n_train), ("val", n_val)):
        written = 0
        while written < count:
            scene = render_scene(rng, 640, 480, 1, 3)
            for obj in scene.objects:
                if written >= count:
                    break
                crop = shape_crop(rng, scene.image, obj.box)
                if min(crop.shape[:2]) < 8:
                    continue
                write_jpeg(root / "classify" / split / obj.class_name / f"{split}_{written:05d}.jpg", crop)
                written += 1


def write_yaml(path: Path, content: dict) -> None:
    import yaml  # PyYAML comes with ultralytics; unlike JSON it keeps integer keys (names, kpt_names)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(content, sort_keys=False))


def write_test_images(root: Path, seed: int) -> dict[str, list[str]]:
    """Fresh scenes (each with at least one square, for pose) plus Ultralytics' bus and zidane."""
    from ultralytics.utils import ASSETS

    images = root / "images"
    images.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    square_id = CLASS_NAMES.index(POSE_CLASS)
    scene_names = []
    truth = {}
    index = 0
    while len(scene_names) < 20:
        width, height = TEST_SIZES[len(scene_names) % len(TEST_SIZES)]
        scene = render_scene(rng, width, height, 2, 5)
        if not any(obj.class_id == square_id for obj in scene.objects):
            continue
        name = f"scene_{len(scene_names):02d}_{width}x{height}.jpg"
        write_jpeg(images / name, scene.image)
        scene_names.append(name)
        truth[name] = [
            {"class_id": obj.class_id, "class_name": obj.class_name, "box": [float(v) for v in obj.box]}
            for obj in scene.objects
        ]
        index += 1
    for asset in ("bus.jpg", "zidane.jpg"):
        shutil.copyfile(Path(ASSETS) / asset, images / asset)
    # Single-shape crops for the classifier, resized to a few sizes (square and not).
    crop_names = []
    while len(crop_names) < 20:
        scene = render_scene(rng, 640, 480, 1, 3)
        obj = scene.objects[int(rng.integers(0, len(scene.objects)))]
        crop = shape_crop(rng, scene.image, obj.box)
        if min(crop.shape[:2]) < 8:
            continue
        width, height = CLS_TEST_SIZES[len(crop_names) % len(CLS_TEST_SIZES)]
        crop = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
        name = f"crop_{len(crop_names):02d}_{obj.class_name}_{width}x{height}.jpg"
        write_jpeg(images / name, crop)
        crop_names.append(name)
        truth[name] = [{"class_id": obj.class_id, "class_name": obj.class_name}]
    (root / "images-truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    lists = {"scenes": scene_names, "assets": ["bus.jpg", "zidane.jpg"], "crops": crop_names}
    (root / "images-list.json").write_text(json.dumps(lists, indent=1) + "\n")
    return lists


def stage_data(root: Path, args) -> None:
    data = root / "data"
    if args.force or not (data / "detect.yaml").exists() or not (data / "segment.yaml").exists():
        log("writing detect/segment data")
        shutil.rmtree(data / "detect", ignore_errors=True)
        shutil.rmtree(data / "segment", ignore_errors=True)
        write_detect_segment_data(data, args.n_train, args.n_val, seed=1)
    if args.force or not (data / "pose.yaml").exists():
        log("writing pose data")
        shutil.rmtree(data / "pose", ignore_errors=True)
        write_pose_data(data, args.n_train, args.n_val, seed=2)
    if args.force or not (data / "classify" / "val").exists():
        log("writing classify data")
        shutil.rmtree(data / "classify", ignore_errors=True)
        write_classify_data(data, args.n_train_cls, args.n_val_cls, seed=3)
    if args.force or not (root / "images-list.json").exists():
        log("writing test images")
        write_test_images(root, seed=4)


# --------------------------------------------------------------------------- train / export


def configure_ultralytics(root: Path, threads: int) -> None:
    import torch
    import ultralytics.utils.torch_utils as torch_utils
    from ultralytics.utils import SETTINGS

    torch.set_num_threads(threads)
    # select_device() resets torch's threads to NUM_THREADS (cpu_count - 1); keep ours.
    torch_utils.NUM_THREADS = threads
    SETTINGS.update(
        {
            "sync": False,
            "datasets_dir": str(root / "data"),
            "weights_dir": str(root / "weights"),
            "runs_dir": str(root / "runs"),
            "clearml": False,
            "comet": False,
            "dvc": False,
            "mlflow": False,
            "raytune": False,
            "tensorboard": False,
            "wandb": False,
        }
    )


def train_args(task: str, root: Path, args) -> dict:
    common = dict(
        epochs=args.epochs[task],
        batch=16,
        device="cpu",
        workers=args.workers,
        project=str(root / "runs"),
        name=task,
        exist_ok=True,
        plots=False,
        amp=False,
        seed=0,
        deterministic=False,
        verbose=True,
        patience=1000,
        warmup_epochs=1,
        cache="ram",
        close_mosaic=max(1, args.epochs[task] // 4),
    )
    if task == "classify":
        # The default RandAugment and random erasing are too much for a from-scratch run this short.
        common.update(
            data=str(root / "data" / "classify"),
            imgsz=args.cls_train_imgsz,
            batch=32,
            auto_augment=None,
            erasing=0.0,
        )
    else:
        common.update(data=str(root / "data" / f"{task}.yaml"), imgsz=args.train_imgsz)
    return common


def stage_train(task: str, root: Path, args) -> Path:
    from ultralytics import YOLO

    best = root / "runs" / task / "weights" / "best.pt"
    if best.exists() and not args.force:
        log(f"{task}: trained weights exist at {best}")
        return best
    log(f"{task}: training {MODEL_YAML[task]}")
    started = time.time()
    model = YOLO(MODEL_YAML[task], task=task)
    detect_best = root / "runs" / "detect" / "weights" / "best.pt"
    if task == "classify" and detect_best.exists():
        # From scratch, yolov8n-cls barely moves off chance in a short CPU run. Its backbone
        # (layers 0-8) has the same shapes as yolov8n's, so start from our own detector's.
        log(f"{task}: starting from the backbone of {detect_best}")
        model.load(str(detect_best))
    model.train(**train_args(task, root, args))
    log(f"{task}: trained in {time.time() - started:.0f} s")
    if not best.exists():
        raise RuntimeError(f"training wrote no {best}")
    return best


def stage_export(task: str, root: Path, args) -> Path:
    from ultralytics import YOLO

    target = root / ONNX_NAME[task]
    if target.exists() and not args.force:
        log(f"{task}: ONNX exists at {target}")
        return target
    best = root / "runs" / task / "weights" / "best.pt"
    model = YOLO(str(best), task=task)
    kpt_names = getattr(model.model, "kpt_names", None)
    if kpt_names:
        # Data sets written as JSON by an earlier version of this script gave string keys.
        model.model.kpt_names = {int(k): list(v) for k, v in kpt_names.items()}
    exported = model.export(
        format="onnx", imgsz=EXPORT_IMGSZ[task], dynamic=False, simplify=True, device="cpu"
    )
    shutil.copyfile(exported, target)
    log(f"{task}: exported {target}")
    return target


# --------------------------------------------------------------------------- predict


def onnx_description(path: Path) -> dict:
    import onnx

    model = onnx.load(str(path))

    def shape(value):
        return [
            d.dim_value if d.HasField("dim_value") else d.dim_param for d in value.type.tensor_type.shape.dim
        ]

    return {
        "file": str(path),
        "opset": [{"domain": o.domain, "version": o.version} for o in model.opset_import],
        "inputs": [{"name": v.name, "shape": shape(v)} for v in model.graph.input],
        "outputs": [{"name": v.name, "shape": shape(v)} for v in model.graph.output],
        "metadata_props": {p.key: p.value for p in model.metadata_props},
    }


def predictor_settings(task: str, imgsz: int) -> dict:
    import ultralytics

    settings = {
        "ultralytics_version": ultralytics.__version__,
        "task": task,
        "imgsz": imgsz,
        "device": "cpu",
        "image_loading": "cv2.imread of the JPEG file (BGR uint8), as Ultralytics does for a path source",
    }
    if task == "classify":
        settings["preprocess"] = (
            "classify_transforms(224) on a PIL image of the BGR array: torchvision Resize(224) of the "
            "shorter side (PIL BILINEAR, which antialiases when shrinking), CenterCrop(224), then "
            "BGR->RGB, /255, Normalize(mean=0, std=1) i.e. no mean/std; top5 = classes by descending "
            "probability (softmax is in the ONNX graph)"
        )
        settings["class_ids"] = (
            "Ultralytics numbers a folder data set's classes in sorted folder-name order, so this "
            "model's ids are 0 circle, 1 square, 2 star, 3 triangle (not synthetic_shapes.CLASS_NAMES "
            "order); compare by name"
        )
        return settings
    settings.update(
        {
            "conf": PREDICT_CONF,
            "iou": PREDICT_IOU,
            "agnostic_nms": False,
            "max_det": 300,
            "classes": None,
            "letterbox": {
                "auto": False,
                "why_auto_false": (
                    "LetterBox(auto=...) is only minimal-rect for format 'pt' or a dynamic export; "
                    "these ONNX files are fixed 640x640, so every image is padded to the full 640x640"
                ),
                "center": True,
                "padding_value": 114,
                "scaleup": True,
                "interpolation": "cv2.INTER_LINEAR (cv2.resize), skipped when the size already matches",
                "new_unpad": "(max(round(w*r),1), max(round(h*r),1)) with r = min(640/h, 640/w)",
                "padding": (
                    "dw=640-new_w, dh=640-new_h halved; top=round(dh/2-0.1), bottom=round(dh/2+0.1), "
                    "left=round(dw/2-0.1), right=round(dw/2+0.1)"
                ),
                "input": "RGB float32 /255, NCHW",
            },
            "onnx_output": (
                "output0 (1, 4+nc(+32 mask coeffs | +12 keypoints), 8400): cx, cy, w, h in 640x640 "
                "input pixels, then per-class scores with sigmoid already applied (no objectness)"
            ),
            "nms": (
                "candidates: max class score > conf (strict); best class only (multi_label=False); "
                "class-aware by offsetting boxes by class_id*7680; torchvision.ops.nms(iou); at most "
                "max_det kept, by score"
            ),
            "box_rescale": (
                "ops.scale_boxes: gain_x = new_w/w, gain_y = new_h/h (per axis, from the rounded "
                "resized size), pad = round((640-new)/2 - 0.1); subtract pad, divide by gain, clip to "
                "the original image"
            ),
        }
    )
    if task == "segment":
        settings["retina_masks"] = False
        settings["masks"] = (
            "ops.process_mask(upsample=True): coefficients @ protos (160x160) -> F.interpolate "
            "bilinear (align_corners=False) to the 640x640 letterboxed input -> > 0 (logit, i.e. "
            "sigmoid > 0.5) -> zeroed outside the box in input coordinates (crop_mask), then "
            "detections whose mask is empty are dropped. Results.masks.data is that 640x640 "
            "letterboxed mask. masks_orig in the npz: ops.scale_masks (crop the padding, "
            "F.interpolate bilinear to the original size) of masks_input, then > 0.5. polygons: "
            "Results.masks.xy = masks2segments (cv2.findContours RETR_EXTERNAL CHAIN_APPROX_SIMPLE "
            "on the 640x640 mask, pieces merged) then ops.scale_coords to original pixels"
        )
    if task == "pose":
        settings["keypoints"] = (
            "kpt_shape [4,3] (x, y, visibility score) in the order top, right, bottom, left; x,y "
            "rescaled like the boxes (ops.scale_coords: subtract pad, divide by per-axis gain, clip "
            "to the image); the score is the sigmoid already applied in the graph"
        )
    return settings


def image_size(path: Path) -> tuple[int, int]:
    image = cv2.imread(str(path))
    return image.shape[1], image.shape[0]


def stage_predict(task: str, root: Path, args) -> Path:
    from ultralytics import YOLO
    from ultralytics.utils import ops

    onnx_path = root / ONNX_NAME[task]
    images = root / "images"
    lists = json.loads((root / "images-list.json").read_text())
    if task == "classify":
        names = lists["crops"] + lists["scenes"] + lists["assets"]
    else:
        names = lists["scenes"] + lists["assets"]
    imgsz = EXPORT_IMGSZ[task]
    model = YOLO(str(onnx_path), task=task)
    out = {
        "settings": predictor_settings(task, imgsz),
        "onnx": onnx_description(onnx_path),
        "class_names": None,
        "images": {},
    }
    npz_arrays = {}
    for name in names:
        path = images / name
        width, height = image_size(path)
        kwargs = dict(imgsz=imgsz, device="cpu", verbose=False)
        if task != "classify":
            kwargs.update(conf=PREDICT_CONF, iou=PREDICT_IOU, agnostic_nms=False, max_det=300)
        if task == "segment":
            kwargs.update(retina_masks=False)
        result = model.predict(str(path), **kwargs)[0]
        if out["class_names"] is None:
            out["class_names"] = {int(k): v for k, v in result.names.items()}
        entry = {"width": width, "height": height}
        if task == "classify":
            probs = result.probs.data.cpu().numpy().astype(float)
            top = [int(i) for i in np.argsort(-probs, kind="stable")[:5]]
            entry.update(
                top5=[
                    {"class_id": i, "class_name": result.names[i], "confidence": float(probs[i])} for i in top
                ],
                top1=int(result.probs.top1),
                top5_ultralytics=[int(i) for i in result.probs.top5],
                probs=[float(p) for p in probs],
            )
        else:
            entry.update(conf=PREDICT_CONF, iou=PREDICT_IOU)
            boxes = result.boxes
            xyxy = boxes.xyxy.cpu().numpy().astype(float)
            cls = boxes.cls.cpu().numpy().astype(int)
            conf = boxes.conf.cpu().numpy().astype(float)
            detections = []
            for i in range(len(cls)):
                det = {
                    "x1": xyxy[i, 0],
                    "y1": xyxy[i, 1],
                    "x2": xyxy[i, 2],
                    "y2": xyxy[i, 3],
                    "class_id": int(cls[i]),
                    "class_name": result.names[int(cls[i])],
                    "confidence": conf[i],
                }
                if task == "pose":
                    kpts = result.keypoints.data[i].cpu().numpy().astype(float)
                    det["keypoints"] = [
                        {
                            "name": POSE_KEYPOINT_NAMES[k],
                            "x": kpts[k, 0],
                            "y": kpts[k, 1],
                            "confidence": kpts[k, 2],
                        }
                        for k in range(len(kpts))
                    ]
                detections.append(det)
            if task == "segment":
                stem = Path(name).stem
                if result.masks is not None:
                    masks_input = result.masks.data.cpu()
                    masks_orig = ops.scale_masks(masks_input[None].float(), (height, width))[0] > 0.5
                    polygons = result.masks.xy
                    for det, polygon in zip(detections, polygons, strict=True):
                        det["polygon"] = [[float(x), float(y)] for x, y in polygon]
                    npz_arrays[f"{stem}__masks_input"] = masks_input.numpy().astype(bool)
                    npz_arrays[f"{stem}__masks_orig"] = masks_orig.numpy().astype(bool)
                else:
                    npz_arrays[f"{stem}__masks_input"] = np.zeros((0, imgsz, imgsz), bool)
                    npz_arrays[f"{stem}__masks_orig"] = np.zeros((0, height, width), bool)
                entry["npz_keys"] = {
                    "masks_input": f"{stem}__masks_input",
                    "masks_orig": f"{stem}__masks_orig",
                }
            entry["detections"] = detections
        out["images"][name] = entry
        log(f"{task}: {name}: " + summarise(task, entry))
    target = root / f"reference-{task}.json"
    target.write_text(json.dumps(out, indent=1) + "\n")
    if task == "segment":
        np.savez_compressed(root / "reference-segment-masks.npz", **npz_arrays)
    log(f"{task}: wrote {target}")
    return target


def summarise(task: str, entry: dict) -> str:
    if task == "classify":
        best = entry["top5"][0]
        return f"top1 {best['class_name']} {best['confidence']:.3f}"
    dets = entry["detections"]
    return f"{len(dets)} detections " + ", ".join(
        f"{d['class_name']} {d['confidence']:.2f}" for d in dets[:8]
    )


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/work/ultra-ref"))
    parser.add_argument("--stages", default="data,train,export,predict")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (the machine is shared)")
    parser.add_argument("--workers", type=int, default=1, help="data loader workers")
    parser.add_argument("--n-train", type=int, default=480)
    parser.add_argument("--n-val", type=int, default=60)
    parser.add_argument("--n-train-cls", type=int, default=1200)
    parser.add_argument("--n-val-cls", type=int, default=200)
    parser.add_argument("--train-imgsz", type=int, default=320)
    parser.add_argument("--cls-train-imgsz", type=int, default=224)
    parser.add_argument("--epochs", default="detect=25,segment=20,classify=8,pose=20")
    parser.add_argument("--force", action="store_true", help="redo stages whose outputs exist")
    args = parser.parse_args(argv)
    args.epochs = {k: int(v) for k, v in (item.split("=") for item in args.epochs.split(","))}
    root = args.root.resolve()
    root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("YOLO_CONFIG_DIR", str(root / "config"))
    os.chdir(root)  # Ultralytics writes stray files (e.g. yolo26n.pt checks) relative to cwd
    stages = args.stages.split(",")
    tasks = [t for t in args.tasks.split(",") if t]
    configure_ultralytics(root, args.threads)
    if "data" in stages:
        stage_data(root, args)
    for task in tasks:
        if "train" in stages:
            stage_train(task, root, args)
        if "export" in stages:
            stage_export(task, root, args)
        if "predict" in stages:
            stage_predict(task, root, args)


if __name__ == "__main__":
    main()
