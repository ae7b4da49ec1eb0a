"""The YOLO-NAS-layout and DeepLabV3+-style fixtures, and every reference file for the
YOLO-NAS, YOLO26 and semantic-segmentation agreement tests.

Needs PyTorch and torchvision (and `ultralytics` for the YOLO26 reference); the product never
imports them.

    python tools/fixtures_models2.py nas                 # assets/models/shapes-det-yolonas.onnx
    python tools/fixtures_models2.py semseg --minutes 6  # assets/models/shapes-semseg-deeplab.onnx
    python tools/fixtures_models2.py images              # assets/images/reference/*.jpg
    python tools/fixtures_models2.py reference           # assets/models/*.reference.json
    python tools/fixtures_models2.py reference --models shapes-det-yolo26 shapes-det-yolo26-nms --confidence 0.1

YOLO-NAS (Deci's super-gradients) cannot be installed here, so the YOLO-NAS fixture is a network
with exactly the inputs and outputs of a YOLO-NAS export: one (1, 3, 320, 320) RGB input scaled
to 0-1, `boxes` (1, N, 4) as x1, y1, x2, y2 in input pixels and `scores` (1, N, C) per-class
probabilities. Its weights are the trained shapes detector's, read back from the committed
`shapes-det-yolov8.onnx` (batch norm already folded into the convolutions), so it detects real
shapes without another training run.

The semantic-segmentation fixture is DeepLabV3+ in miniature: that same trained backbone
(stride 8) with an atrous spatial pyramid pooling head (dilations 1, 2, 4 and image pooling), a
decoder that joins the stride-4 features, and full-resolution (1, 5, 320, 320) logits for
`background`, `circle`, `square`, `triangle`, `star`. It takes ImageNet-normalised RGB like
Roboflow's DeepLabV3+ models and is trained here for a few minutes on synthetic scenes.

The reference decoders below follow Roboflow's server (`inference_models`): torchvision's
batched NMS for YOLO-NAS; letterbox crop, bilinear resize, softmax, argmax and the confidence
threshold for semantic segmentation. YOLO26's reference is Ultralytics' own predictor.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as functional
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic_shapes import CLASS_NAMES, render_scene  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "assets" / "models"
IMAGES = ROOT / "assets" / "images" / "reference"
INPUT_SIZE = 320
STRIDE = 8
GRID = INPUT_SIZE // STRIDE
GREY = 114
SEMANTIC_CLASSES = ("background", *CLASS_NAMES)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
OPSET = 17
#: Reference images: seed, width, height (held-out seeds, never trained on).
REFERENCE_SCENES = [
    (20_000_001, 640, 480), (20_000_002, 480, 640), (20_000_003, 320, 320),
    (20_000_004, 800, 450), (20_000_005, 517, 333), (20_000_006, 1024, 768),
    (20_000_007, 300, 200), (20_000_008, 640, 640),
]
SEMSEG_TRAIN_SEED = 4_000_000


# --- the trained shapes backbone, read from the committed ONNX ------------------------------


def conv(in_channels: int, out_channels: int, stride: int = 1, kernel: int = 3, dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel, stride, dilation * (kernel // 2), dilation=dilation)


class FoldedShapeDetector(nn.Module):
    """tools/train_fixtures.py's ShapeDetector with batch norm folded into each convolution."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.ModuleList([conv(3, 16, 2), conv(16, 32, 2)])
        self.stage8 = nn.ModuleList([conv(32, 48, 2), conv(48, 48)])
        self.stage16 = nn.ModuleList([conv(48, 64, 2), conv(64, 64)])
        self.stage32 = nn.ModuleList([conv(64, 96, 2), conv(96, 96)])
        self.lateral32, self.merge16 = conv(96, 64, kernel=1), conv(64, 64)
        self.lateral16, self.merge8 = conv(64, 48, kernel=1), conv(48, 48)
        self.class_branch = nn.ModuleList([conv(48, 48), conv(48, len(CLASS_NAMES), kernel=1)])
        self.box_branch = nn.ModuleList([conv(48, 48), conv(48, 4, kernel=1)])

    def ordered_convs(self) -> list[nn.Conv2d]:
        """In the order the exported graph runs them."""
        return [
            *self.stem, *self.stage8, *self.stage16, *self.stage32, self.lateral32, self.merge16,
            self.lateral16, self.merge8, *self.class_branch, *self.box_branch,
        ]

    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stride-8 features (48 channels) and stride-4 stem features (32 channels)."""
        act = functional.silu
        stem = act(self.stem[1](act(self.stem[0](images))))
        f8 = act(self.stage8[1](act(self.stage8[0](stem))))
        f16 = act(self.stage16[1](act(self.stage16[0](f8))))
        f32 = act(self.stage32[1](act(self.stage32[0](f16))))
        f16 = act(self.merge16(f16 + functional.interpolate(act(self.lateral32(f32)), scale_factor=2.0)))
        f8 = act(self.merge8(f8 + functional.interpolate(act(self.lateral16(f16)), scale_factor=2.0)))
        return f8, stem

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, 4) x1y1x2y2 boxes in input pixels and (B, N, C) sigmoid scores, N = 40 x 40."""
        features, _ = self.features(images)
        class_logits = self.class_branch[1](functional.silu(self.class_branch[0](features)))
        raw_box = self.box_branch[1](functional.silu(self.box_branch[0](features)))
        distances = functional.softplus(raw_box) * STRIDE
        steps = (torch.arange(GRID, dtype=torch.float32) + 0.5) * STRIDE
        grid_y, grid_x = torch.meshgrid(steps, steps, indexing="ij")
        centres = torch.stack([grid_x, grid_y]).unsqueeze(0)
        boxes = torch.cat([centres - distances[:, :2], centres + distances[:, 2:]], dim=1)
        return boxes.flatten(2).transpose(1, 2), class_logits.sigmoid().flatten(2).transpose(1, 2)


def load_folded_detector(source: Path = MODELS / "shapes-det-yolov8.onnx") -> FoldedShapeDetector:
    """The trained detector's weights from its ONNX file, checked against onnxruntime."""
    import onnx
    import onnxruntime
    from onnx import numpy_helper

    graph = onnx.load(str(source)).graph
    initialisers = {item.name: numpy_helper.to_array(item) for item in graph.initializer}
    convs = [node for node in graph.node if node.op_type == "Conv"]
    model = FoldedShapeDetector()
    targets = model.ordered_convs()
    if len(convs) != len(targets):
        raise SystemExit(f"{source.name} has {len(convs)} convolutions; expected {len(targets)}")
    with torch.no_grad():
        for node, target in zip(convs, targets):
            target.weight.copy_(torch.from_numpy(initialisers[node.input[1]]))
            target.bias.copy_(torch.from_numpy(initialisers[node.input[2]]))
    model.eval()
    example = np.random.default_rng(0).random((1, 3, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)
    (reference,) = onnxruntime.InferenceSession(str(source)).run(None, {"images": example})
    boxes, scores = model(torch.from_numpy(example))
    centre = (boxes[..., :2] + boxes[..., 2:]) / 2
    size = boxes[..., 2:] - boxes[..., :2]
    ours = torch.cat([centre, size, scores], dim=2).transpose(1, 2).detach().numpy()
    difference = float(np.abs(ours - reference).max())
    print(f"folded torch detector vs {source.name}: max abs diff {difference:.2e}")
    if difference > 1e-3:
        raise SystemExit("the folded detector does not reproduce the ONNX file")
    return model


# --- DeepLabV3+ in miniature -------------------------------------------------------------


class ConvBnAct(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int, kernel: int = 3, dilation: int = 1) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel, 1, dilation * (kernel // 2), dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class AtrousPyramid(nn.Module):
    """ASPP: parallel 1x1 and dilated 3x3 branches plus image pooling, projected to one map."""

    def __init__(self, in_channels: int, width: int, dilations: tuple[int, ...] = (2, 4)) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            [ConvBnAct(in_channels, width, kernel=1)] + [ConvBnAct(in_channels, width, 3, d) for d in dilations]
        )
        self.pooled = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, width, 1), nn.ReLU(inplace=True))
        self.project = ConvBnAct(width * (len(dilations) + 2), width, kernel=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        pooled = self.pooled(features).expand(-1, -1, features.shape[2], features.shape[3])
        return self.project(torch.cat([branch(features) for branch in self.branches] + [pooled], dim=1))


class MiniDeepLabV3Plus(nn.Module):
    """ImageNet-normalised RGB (B, 3, H, W) -> class logits (B, 5, H, W)."""

    def __init__(self, backbone: FoldedShapeDetector) -> None:
        super().__init__()
        self.backbone = backbone
        self.aspp = AtrousPyramid(48, 64)
        self.low_level = ConvBnAct(32, 24, kernel=1)
        self.decoder = nn.Sequential(ConvBnAct(64 + 24, 64), ConvBnAct(64, 64))
        self.classifier = nn.Conv2d(64, len(SEMANTIC_CLASSES), 1)
        # the backbone was trained on plain x / 255 input: undo the ImageNet normalisation first
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features8, stem4 = self.backbone.features(images * self.std + self.mean)
        context = functional.interpolate(self.aspp(features8), size=stem4.shape[2:], mode="bilinear",
                                         align_corners=False)
        decoded = self.decoder(torch.cat([context, self.low_level(stem4)], dim=1))
        return functional.interpolate(self.classifier(decoded), size=images.shape[2:], mode="bilinear",
                                      align_corners=False)


def semantic_label(scene, width: int, height: int) -> np.ndarray:
    """(height, width) class ids, 0 = background, stretched like the network input."""
    label = np.zeros(scene.image.shape[:2], dtype=np.uint8)
    for shape in scene.objects:
        label[shape.mask] = shape.class_id + 1
    return cv2.resize(label, (width, height), interpolation=cv2.INTER_NEAREST)


def normalised_tensor(images_bgr: list[np.ndarray]) -> torch.Tensor:
    batch = np.stack(images_bgr)[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    tensor = torch.from_numpy(np.ascontiguousarray(batch))
    return (tensor - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def semseg_batch(rng: np.random.Generator, seed: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = [], []
    for offset in range(batch_size):
        scene_rng = np.random.default_rng(seed + offset)
        width, height = int(scene_rng.integers(240, 641)), int(scene_rng.integers(240, 641))
        scene = render_scene(scene_rng, width, height, min_objects=1, max_objects=5)
        image = cv2.resize(scene.image, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
        label = semantic_label(scene, INPUT_SIZE, INPUT_SIZE)
        if rng.random() < 0.5:
            image, label = image[:, ::-1], label[:, ::-1]
        images.append(np.ascontiguousarray(image))
        labels.append(np.ascontiguousarray(label))
    return normalised_tensor(images), torch.from_numpy(np.stack(labels)).long()


def train_semseg(minutes: float, threads: int, batch_size: int = 12) -> MiniDeepLabV3Plus:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = MiniDeepLabV3Plus(load_folded_detector())
    backbone = list(model.backbone.parameters())
    head = [parameter for name, parameter in model.named_parameters() if not name.startswith("backbone.")]
    optimiser = torch.optim.AdamW([{"params": backbone, "lr": 3e-4}, {"params": head, "lr": 3e-3}],
                                  weight_decay=1e-4)
    rng = np.random.default_rng(1)
    # shapes are a small share of the pixels: weigh them up so edges are learnt
    weights = torch.tensor([0.5, 1.0, 1.0, 1.0, 1.0])
    started, step = time.monotonic(), 0
    model.train()
    while time.monotonic() - started < minutes * 60:
        images, labels = semseg_batch(rng, SEMSEG_TRAIN_SEED + step * batch_size, batch_size)
        loss = functional.cross_entropy(model(images), labels, weight=weights)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if step % 20 == 0:
            print(f"step {step} loss {loss.item():.4f} ({time.monotonic() - started:.0f} s)", flush=True)
        step += 1
    model.eval()
    return model


def semseg_quality(model: MiniDeepLabV3Plus, count: int = 40) -> dict[str, float]:
    """Pixel accuracy and per-class IoU on held-out scenes (stretched, at the input size)."""
    intersections = np.zeros(len(SEMANTIC_CLASSES))
    unions = np.zeros(len(SEMANTIC_CLASSES))
    correct = total = 0
    with torch.no_grad():
        for index in range(count):
            rng = np.random.default_rng(30_000_000 + index)
            scene = render_scene(rng, 640, 480, min_objects=1, max_objects=5)
            image = cv2.resize(scene.image, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
            label = semantic_label(scene, INPUT_SIZE, INPUT_SIZE)
            predicted = model(normalised_tensor([image]))[0].argmax(0).numpy()
            correct += int((predicted == label).sum())
            total += label.size
            for class_id in range(len(SEMANTIC_CLASSES)):
                intersections[class_id] += np.logical_and(predicted == class_id, label == class_id).sum()
                unions[class_id] += np.logical_or(predicted == class_id, label == class_id).sum()
    ious = intersections / np.maximum(unions, 1)
    return {"pixel_accuracy": correct / total, **{f"iou_{n}": float(v) for n, v in zip(SEMANTIC_CLASSES, ious)},
            "mean_iou": float(ious.mean())}


# --- export ---------------------------------------------------------------------------


def export_onnx(module: nn.Module, path: Path, output_names: list[str], metadata: dict[str, str]) -> None:
    import onnx
    import onnxruntime

    module.eval()
    example = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE)
    torch.onnx.export(module, (example,), str(path), input_names=["images"], output_names=output_names,
                      opset_version=OPSET, do_constant_folding=True, dynamo=False)
    proto = onnx.load(str(path))
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    batch = normalised_tensor([reference_image(seed, INPUT_SIZE, INPUT_SIZE) for seed, *_ in REFERENCE_SCENES[:2]])
    with torch.no_grad():
        expected = module(batch[:1])
    expected = expected if isinstance(expected, tuple) else (expected,)
    actual = onnxruntime.InferenceSession(str(path)).run(None, {"images": batch[:1].numpy()})
    difference = max(float(np.abs(e.numpy() - a).max()) for e, a in zip(expected, actual))
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB); onnxruntime vs torch max abs diff {difference:.2e}")
    if difference > 1e-3:
        raise SystemExit("onnxruntime and torch disagree")


def fixture_metadata(description: str) -> dict[str, str]:
    return {"description": description, "author": "VisionHost fixtures (tools/fixtures_models2.py)",
            "license": "Synthetic training data only; same license as this repository"}


def make_nas() -> None:
    export_onnx(load_folded_detector(), MODELS / "shapes-det-yolonas.onnx", ["boxes", "scores"],
                fixture_metadata("Shapes detector in the YOLO-NAS export layout (boxes xyxy, class scores)"))


def make_semseg(minutes: float, threads: int) -> None:
    model = train_semseg(minutes, threads)
    torch.save(model.state_dict(), "/tmp/models2-semseg.pt")
    print(json.dumps(semseg_quality(model), indent=2))
    export_onnx(model, MODELS / "shapes-semseg-deeplab.onnx", ["logits"],
                fixture_metadata("DeepLabV3+-style semantic segmentation of shapes (background + 4 classes)"))


# --- reference images and predictions ---------------------------------------------------


def reference_image(seed: int, width: int, height: int) -> np.ndarray:
    return render_scene(np.random.default_rng(seed), width, height, min_objects=2, max_objects=5).image


def reference_image_path(seed: int, width: int, height: int) -> Path:
    return IMAGES / f"scene-{seed}-{width}x{height}.jpg"


def make_images() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for seed, width, height in REFERENCE_SCENES:
        path = reference_image_path(seed, width, height)
        cv2.imwrite(str(path), reference_image(seed, width, height), [cv2.IMWRITE_JPEG_QUALITY, 92])
        print(f"wrote {path}")


def letterbox(image: np.ndarray, size: int, pad_value: int) -> tuple[np.ndarray, float, int, int]:
    """Roboflow's letterbox (inference_models): int() sizes, int() half paddings."""
    height, width = image.shape[:2]
    scale = min(size / width, size / height)
    new_width, new_height = int(width * scale), int(height * scale)
    top, left = int((size - new_height) / 2), int((size - new_width) / 2)
    canvas = np.full((size, size, 3), pad_value, dtype=np.uint8)
    canvas[top : top + new_height, left : left + new_width] = cv2.resize(image, (new_width, new_height))
    return canvas, scale, left, top


def nas_reference(model: FoldedShapeDetector, image: np.ndarray, confidence: float, iou: float) -> list[dict]:
    """Roboflow's YOLO-NAS decode: best class score > confidence, batched NMS, rescale, round."""
    import torchvision

    canvas, scale, left, top = letterbox(image, INPUT_SIZE, GREY)
    tensor = torch.from_numpy(np.ascontiguousarray(canvas[..., ::-1].transpose(2, 0, 1))).float()[None] / 255.0
    with torch.no_grad():
        boxes, scores = model(tensor)
    class_confidence, class_ids = scores[0].max(dim=-1)
    keep = class_confidence > confidence
    boxes, class_confidence, class_ids = boxes[0][keep], class_confidence[keep], class_ids[keep]
    kept = torchvision.ops.batched_nms(boxes, class_confidence, class_ids, iou)
    height, width = image.shape[:2]
    rows = []
    for index in kept.tolist():
        x1, y1, x2, y2 = boxes[index].tolist()
        box = [(x1 - left) / scale, (y1 - top) / scale, (x2 - left) / scale, (y2 - top) / scale]
        box = [min(max(box[0], 0), width), min(max(box[1], 0), height),
               min(max(box[2], 0), width), min(max(box[3], 0), height)]
        rows.append({"box": [round(value) for value in box], "confidence": float(class_confidence[index]),
                     "class_id": int(class_ids[index]), "class": CLASS_NAMES[int(class_ids[index])]})
    return rows


def png_base64(mask: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def semseg_reference(model: MiniDeepLabV3Plus, image: np.ndarray, confidence: float, resize: str) -> dict:
    """Roboflow's semantic-segmentation decode (inference_models), in torch."""
    from torchvision.transforms import functional as tv

    height, width = image.shape[:2]
    if resize == "stretch":
        canvas = cv2.resize(image, (INPUT_SIZE, INPUT_SIZE))
        pads = (0, 0, 0, 0)
    else:
        canvas, scale, left, top = letterbox(image, INPUT_SIZE, 0)
        new_width, new_height = int(width * scale), int(height * scale)
        pads = (top, INPUT_SIZE - top - new_height, left, INPUT_SIZE - left - new_width)
    with torch.no_grad():
        logits = model(normalised_tensor([canvas]))[0]
    rows, columns = logits.shape[1:]
    top, bottom, left, right = (round(rows / INPUT_SIZE * pads[0]), round(rows / INPUT_SIZE * pads[1]),
                                round(columns / INPUT_SIZE * pads[2]), round(columns / INPUT_SIZE * pads[3]))
    logits = logits[:, top : rows - bottom, left : columns - right]
    if logits.shape[1:] != (height, width):
        logits = tv.resize(logits, [height, width], interpolation=tv.InterpolationMode.BILINEAR)
    probabilities = torch.softmax(logits, dim=0)
    best, class_ids = probabilities.max(dim=0)
    below = best < confidence
    class_ids[below] = 0
    best[below] = 0.0
    class_map = class_ids.to(torch.uint8).numpy()
    return {"segmentation_mask": png_base64(class_map), "confidence_mask": png_base64((best * 255).to(torch.uint8).numpy()),
            "present_class_ids": sorted(np.unique(class_map).tolist())}


YOLO26_INPUT_SIZE = 256
#: Ultralytics' predictor's own NMS IoU default (the `-nms` export needs NMS; the other has none).
ULTRALYTICS_IOU = 0.7


def yolo26_reference(onnx_path: Path, image_path: Path, confidence: float) -> list[dict]:
    from ultralytics import YOLO

    model = YOLO(str(onnx_path), task="detect")
    (result,) = model.predict(str(image_path), conf=confidence, iou=ULTRALYTICS_IOU, imgsz=YOLO26_INPUT_SIZE,
                              verbose=False, device="cpu")
    rows = []
    for box, score, class_id in zip(result.boxes.xyxy.tolist(), result.boxes.conf.tolist(), result.boxes.cls.tolist()):
        rows.append({"box": [float(value) for value in box], "confidence": float(score), "class_id": int(class_id),
                     "class": CLASS_NAMES[int(class_id)]})
    return rows


REFERENCE_MODELS = ("shapes-det-yolonas", "shapes-det-yolo26", "shapes-det-yolo26-nms", "shapes-semseg-deeplab")


def make_reference(models: list[str], confidence: float, iou: float) -> None:
    import torchvision
    import ultralytics

    versions = {"torch": torch.__version__, "torchvision": torchvision.__version__,
                "ultralytics": ultralytics.__version__, "opencv": cv2.__version__}
    for model_name in models:
        if model_name == "shapes-det-yolonas":
            nas = load_folded_detector()
            content = {"predictor": "the torch network + Roboflow's YOLO-NAS decode (torchvision batched_nms)",
                       "resize": "Fit (grey edges) in", "iou_threshold": iou}
            predict = lambda path, image: nas_reference(nas, image, confidence, iou)  # noqa: E731
        elif model_name.startswith("shapes-det-yolo26"):
            content = {"predictor": "Ultralytics YOLO(onnx).predict", "iou_threshold": ULTRALYTICS_IOU}
            onnx_path = MODELS / f"{model_name}.onnx"
            predict = lambda path, image, onnx_path=onnx_path: yolo26_reference(  # noqa: E731
                onnx_path, path, confidence)
        else:
            semseg = MiniDeepLabV3Plus(FoldedShapeDetector())
            semseg.load_state_dict(torch.load("/tmp/models2-semseg.pt"))
            semseg.eval()
            content = {"predictor": "the torch network + Roboflow's semantic-segmentation decode (inference_models)"}
            predict = lambda path, image: {  # noqa: E731
                mode: semseg_reference(semseg, image, confidence, mode) for mode in ("stretch", "letterbox")
            }
        content.update({"confidence": confidence, "versions": versions, "images": {}})
        for seed, width, height in REFERENCE_SCENES:
            path = reference_image_path(seed, width, height)
            content["images"][path.name] = predict(path, cv2.imread(str(path)))
        target = MODELS / f"{model_name}.reference.json"
        target.write_text(json.dumps(content, indent=1) + "\n")
        print(f"wrote {target} ({target.stat().st_size / 1e3:.0f} kB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("nas")
    semseg = commands.add_parser("semseg")
    semseg.add_argument("--minutes", type=float, default=6)
    semseg.add_argument("--threads", type=int, default=1)
    commands.add_parser("images")
    reference = commands.add_parser("reference")
    reference.add_argument("--confidence", type=float, default=0.4)
    reference.add_argument("--iou", type=float, default=0.3)
    reference.add_argument("--models", nargs="+", default=list(REFERENCE_MODELS), choices=REFERENCE_MODELS)
    arguments = parser.parse_args()
    if arguments.command == "nas":
        make_nas()
    elif arguments.command == "semseg":
        make_semseg(arguments.minutes, arguments.threads)
    elif arguments.command == "images":
        make_images()
    else:
        make_reference(arguments.models, arguments.confidence, arguments.iou)


if __name__ == "__main__":
    main()
