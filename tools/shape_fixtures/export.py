"""ONNX export of the fixtures in Ultralytics / YOLOv5 / end-to-end output layouts, checked against torch."""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import torch
from synthetic_shapes import CLASS_NAMES
from torch import nn

from shape_fixtures.data import (
    HELD_OUT_SEED_BASE,
    INPUT_SIZE,
    POSE_KEYPOINTS,
    STRIDE,
    letterbox,
    scene_for_seed,
    to_network_input,
)
from shape_fixtures.evaluate import onnx_session
from shape_fixtures.networks import (
    PresenceClassifier,
    ShapeDetector,
    ShapePoseNet,
    ShapeSegmenter,
    decode_boxes,
    decode_keypoints,
)

OPSET = 17
FIXTURE_VERSION = "1.0.0"


# --- export wrappers (one per output layout) --------------------------------


class YoloV8DetectLayout(nn.Module):
    """(B, 4+C, N): cx, cy, w, h in input pixels, then sigmoid class scores."""

    def __init__(self, detector: ShapeDetector) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        boxes, scores = _flat_boxes_and_scores(self.detector, images)
        centre, size = _centre_and_size(boxes)
        return torch.cat([centre, size, scores], dim=1)


class YoloV5DetectLayout(nn.Module):
    """(B, N, 5+C): cx, cy, w, h, objectness, class scores.

    objectness = the best class score and class scores = score / best, so
    objectness x class score reproduces the YOLOv8 file's scores exactly.
    """

    def __init__(self, detector: ShapeDetector) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        boxes, scores = _flat_boxes_and_scores(self.detector, images)
        centre, size = _centre_and_size(boxes)
        objectness = scores.amax(dim=1, keepdim=True)
        class_scores = scores / objectness.clamp(min=1e-9)
        return torch.cat([centre, size, objectness, class_scores], dim=1).transpose(1, 2)


END2END_CANDIDATES = 300
END2END_DETECTIONS = 100
END2END_IOU = 0.5


class EndToEndDetectLayout(nn.Module):
    """(B, 100, 6): x1, y1, x2, y2, score, class id; sorted by score, no NMS needed.

    Inside the graph: each cell's best class, the top 300 cells by score, a
    class-aware "fast NMS" (a box is dropped when a higher-scoring box of the
    same class overlaps it with IoU > 0.5; its score becomes 0), then the top
    100 by score. Rows past the real detections carry score 0 or tiny scores.
    """

    def __init__(self, detector: ShapeDetector) -> None:
        super().__init__()
        self.detector = detector

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        boxes, scores = _flat_boxes_and_scores(self.detector, images)
        best_score, best_class = scores.max(dim=1)  # (B, N)
        top_score, top_index = best_score.topk(END2END_CANDIDATES, dim=1)
        top_boxes = boxes.transpose(1, 2).gather(1, top_index.unsqueeze(-1).expand(-1, -1, 4))
        top_class = best_class.gather(1, top_index).to(torch.float32)
        kept_score = top_score * _fast_nms_keep(top_boxes, top_class)
        final_score, final_index = kept_score.topk(END2END_DETECTIONS, dim=1)
        final_boxes = top_boxes.gather(1, final_index.unsqueeze(-1).expand(-1, -1, 4))
        final_class = top_class.gather(1, final_index)
        return torch.cat([final_boxes, final_score.unsqueeze(-1), final_class.unsqueeze(-1)], dim=2)


def _centre_and_size(boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 4, N) x1y1x2y2 -> the (B, 2, N) centres and (B, 2, N) widths and heights."""
    return (boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]


def _fast_nms_keep(boxes: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
    """1.0 where no higher-ranked same-class box overlaps more than END2END_IOU.

    boxes (B, K, 4) are sorted by descending score, so "higher-ranked" is the
    strict upper triangle of the pairwise IoU matrix.
    """
    iou = _pairwise_iou(boxes)
    same_class = classes.unsqueeze(2) == classes.unsqueeze(1)
    count = boxes.shape[1]
    earlier = torch.ones(count, count, dtype=torch.bool, device=boxes.device).triu(diagonal=1)
    overlap = torch.where(same_class & earlier, iou, torch.zeros_like(iou))
    return (overlap.amax(dim=1) <= END2END_IOU).to(boxes.dtype)


def _pairwise_iou(boxes: torch.Tensor) -> torch.Tensor:
    first, second = boxes.unsqueeze(2), boxes.unsqueeze(1)
    top_left = torch.maximum(first[..., :2], second[..., :2])
    bottom_right = torch.minimum(first[..., 2:], second[..., 2:])
    intersection = (bottom_right - top_left).clamp(min=0).prod(dim=-1)
    area = (boxes[..., 2:] - boxes[..., :2]).prod(dim=-1)
    return intersection / (area.unsqueeze(2) + area.unsqueeze(1) - intersection + 1e-9)


def _flat_boxes_and_scores(
    detector: ShapeDetector, images: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 4, N) x1y1x2y2 and (B, C, N) sigmoid scores, N = 40*40 in row-major cell order."""
    class_logits, raw_box = detector(images)
    boxes = decode_boxes(raw_box).flatten(2)
    scores = class_logits.sigmoid().flatten(2)
    return boxes, scores


class YoloV8SegmentLayout(nn.Module):
    """output0 (B, 4+C+32, N): cx, cy, w, h, sigmoid class scores, mask coefficients;
    output1 (B, 32, 80, 80): prototypes. mask = sigmoid(coefficients @ prototypes)."""

    def __init__(self, segmenter: ShapeSegmenter) -> None:
        super().__init__()
        self.segmenter = segmenter

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        class_logits, raw_box, coefficients, protos = self.segmenter(images)
        boxes = decode_boxes(raw_box).flatten(2)
        centre, size = _centre_and_size(boxes)
        rows = torch.cat([centre, size, class_logits.sigmoid().flatten(2), coefficients.flatten(2)], dim=1)
        return rows, protos


class YoloV5SegmentLayout(nn.Module):
    """output0 (B, N, 5+C+32): cx, cy, w, h, objectness, class scores, coefficients;
    output1 (B, 32, 80, 80). Objectness and class scores split as in YoloV5DetectLayout."""

    def __init__(self, segmenter: ShapeSegmenter) -> None:
        super().__init__()
        self.segmenter = segmenter

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        class_logits, raw_box, coefficients, protos = self.segmenter(images)
        boxes = decode_boxes(raw_box).flatten(2)
        centre, size = _centre_and_size(boxes)
        scores = class_logits.sigmoid().flatten(2)
        objectness = scores.amax(dim=1, keepdim=True)
        class_scores = scores / objectness.clamp(min=1e-9)
        rows = torch.cat([centre, size, objectness, class_scores, coefficients.flatten(2)], dim=1)
        return rows.transpose(1, 2), protos


class YoloV8PoseLayout(nn.Module):
    """(B, 4+1+3K, N): cx, cy, w, h, score, then per corner x, y, visibility.

    Corners are rotated in-graph to start at the top-most one (smallest y),
    then clockwise on screen.
    """

    def __init__(self, pose_net: ShapePoseNet) -> None:
        super().__init__()
        self.pose_net = pose_net

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        class_logits, raw_box, raw_keypoints = self.pose_net(images)
        boxes = decode_boxes(raw_box).flatten(2)
        centre, size = _centre_and_size(boxes)
        keypoints = decode_keypoints(raw_keypoints).flatten(3)  # (B, K, 3, N)
        keypoints = _start_at_top_most(keypoints)
        batch, count = keypoints.shape[0], keypoints.shape[3]
        keypoints = keypoints.reshape(batch, POSE_KEYPOINTS * 3, count)
        return torch.cat([centre, size, class_logits.sigmoid().flatten(2), keypoints], dim=1)


def _start_at_top_most(keypoints: torch.Tensor) -> torch.Tensor:
    """Cyclically rotate (B, K, 3, N) corners so index 0 has the smallest y."""
    first = keypoints[:, :, 1].argmin(dim=1, keepdim=True)  # (B, 1, N)
    steps = torch.arange(POSE_KEYPOINTS, device=keypoints.device).view(1, -1, 1)
    order = torch.remainder(first + steps, POSE_KEYPOINTS)  # (B, K, N)
    return keypoints.gather(1, order.unsqueeze(2).expand(-1, -1, 3, -1))


class SoftmaxClassifierLayout(nn.Module):
    """(B, C) softmax probabilities, as Ultralytics' classify export emits."""

    def __init__(self, classifier: PresenceClassifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(images).softmax(dim=1)


class SigmoidClassifierLayout(nn.Module):
    """(B, C) independent sigmoid probabilities for multi-label classification."""

    def __init__(self, classifier: PresenceClassifier) -> None:
        super().__init__()
        self.classifier = classifier

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(images).sigmoid()


# --- ONNX export ------------------------------------------------------------


def ultralytics_metadata(
    task: str,
    description: str,
    extra: dict[str, str] | None = None,
    stride: int = STRIDE,
    image_size: int = INPUT_SIZE,
    names: tuple[str, ...] = CLASS_NAMES,
) -> dict[str, str]:
    """metadata_props in the format Ultralytics' exporter writes (str() of each value)."""
    metadata = {
        "description": description,
        "author": "inference fixtures (tools/train_fixtures.py)",
        "date": datetime.datetime.now().isoformat(),
        "version": FIXTURE_VERSION,
        "license": "Synthetic training data only; same license as this repository",
        "docs": "tools/README.md",
        "stride": str(stride),
        "task": task,
        "batch": "1",
        "imgsz": str([image_size, image_size]),
        "names": str(dict(enumerate(names))),
        "channels": "3",
        "end2end": "False",
    }
    metadata.update(extra or {})
    return metadata


def export_onnx(
    module: nn.Module,
    path: Path,
    input_shape: tuple[int, ...],
    output_names: list[str],
    dynamic_batch: bool,
    metadata: dict[str, str],
) -> None:
    """Export with the TorchScript-based exporter and attach metadata."""
    import onnx

    module.eval()
    example = torch.zeros(input_shape)
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {"images": {0: "batch"}, **{name: {0: "batch"} for name in output_names}}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        module,
        (example,),
        str(path),
        input_names=["images"],
        output_names=output_names,
        dynamic_axes=dynamic_axes,
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )
    model_proto = onnx.load(str(path))
    _set_output_shapes(model_proto, module, example, dynamic_batch)
    onnx.checker.check_model(model_proto)
    for key, value in metadata.items():
        entry = model_proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    onnx.save(model_proto, str(path))
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB)")


def _set_output_shapes(model_proto, module: nn.Module, example: torch.Tensor, dynamic_batch: bool) -> None:
    """Write the real output sizes into the graph (the exporter leaves names like 'Concatoutput0_dim_1')."""
    with torch.no_grad():
        outputs = module(example)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    for graph_output, tensor in zip(model_proto.graph.output, outputs, strict=True):
        dims = graph_output.type.tensor_type.shape.dim
        for index, (dim, size) in enumerate(zip(dims, tensor.shape, strict=True)):
            if index == 0 and dynamic_batch:
                dim.dim_param = "batch"
            else:
                dim.dim_value = int(size)


def check_onnx_matches(module: nn.Module, path: Path, batch: np.ndarray, comparable=None) -> float:
    """Max abs difference between torch and onnxruntime outputs on a real batch.

    comparable maps the output tuple to what must agree, e.g. the YOLOv5
    confidence objectness x class score rather than the ratio of two tiny
    sigmoids, or the end-to-end rows with a real score rather than the order
    of near-zero ties.
    """
    session = onnx_session(path)
    with torch.no_grad():
        expected = module(torch.from_numpy(batch))
    expected = tuple(item.numpy() for item in (expected if isinstance(expected, tuple) else (expected,)))
    actual = tuple(session.run(None, {"images": batch}))
    if comparable is not None:
        expected, actual = comparable(expected), comparable(actual)
    difference = max(
        float(np.abs(want - got).max()) for want, got in zip(expected, actual, strict=True) if want.size
    )
    print(f"  onnxruntime vs torch on {path.name}: max abs diff {difference:.2e}")
    if difference > 1e-3:
        raise RuntimeError(f"{path.name}: onnxruntime and torch disagree by {difference}")
    return difference


def yolov5_confidences(outputs: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Boxes and objectness x class scores of a (B, N, 5+C[+32]) YOLOv5 output."""
    rows = outputs[0]
    class_end = 5 + len(CLASS_NAMES)
    confidences = rows[..., 4:5] * rows[..., 5:class_end]
    return (rows[..., :5], confidences, rows[..., class_end:], *outputs[1:])


def end2end_confident_rows(
    outputs: tuple[np.ndarray, ...], minimum_score: float = 0.05
) -> tuple[np.ndarray, ...]:
    """The leading end-to-end rows whose score is at least minimum_score (scores are sorted)."""
    rows = outputs[0]
    count = int((rows[..., 4] >= minimum_score).sum(axis=1).max())
    return (rows[:, :count],)


def held_out_inputs(batch: int, image_size: int = INPUT_SIZE) -> np.ndarray:
    """Real held-out inputs for comparing torch and onnxruntime outputs."""
    images = [
        letterbox(scene_for_seed(HELD_OUT_SEED_BASE + index).image, image_size)[0] for index in range(batch)
    ]
    return np.stack([to_network_input(image) for image in images])
