"""RF-DETR detection and instance segmentation, decoded as Roboflow's server does.

An RF-DETR ONNX export (the `rfdetr` package's `model.export()`, or a Roboflow-trained model)
takes one RGB image stretched to S x S, scaled to 0-1 and normalised with the ImageNet mean and
std, and answers per query: `dets` (normalised centre x, y, width, height), `labels` (raw class
logits, one column more than there are classes: the last is "no object") and, for segmentation,
`masks` (per-query mask logits on a grid a quarter of the input's size).

Decoding: sigmoid over every query x class logit, the top `num_queries` of that flat grid (no
NMS), drop pairs whose class is not a named class, keep scores above the confidence threshold,
highest first. Where the `rfdetr` package's own `predict()` and Roboflow's server differ, we
follow the server (see docs/rfdetr.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from inference_core import tasks
from inference_core.environment import RFDETR_SOURCE
from inference_core.errors import ModelArtifactError, UnsupportedModelError
from inference_core.images import ImageLoader
from inference_core.models.architecture import Match, ModelArchitecture
from inference_core.models.base import PreparedImage, VisionModel
from inference_core.models.detection import box_predictions
from inference_core.models.masks import encode_coco_rle, largest_polygon
from inference_core.params import InferenceParams
from inference_core.preprocessing import STRETCH, ImageTransform, apply_contrast, static_crop_box
from inference_core.responses import (
    ImageSize,
    InstanceSegmentationInferenceResponse,
    ObjectDetectionInferenceResponse,
    Point,
)
from inference_core.runtime import Session
from inference_core.store import ModelArtifact

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: A class name Roboflow puts in an RF-DETR class list to hold the slot of a background class.
BACKGROUND_CLASS = "background_class83422"
INFERENCE_CONFIG_FILE = "inference_config.json"

#: `model_type` values (Roboflow's registry and cache) that name an RF-DETR detector / segmenter.
DETECTION_TYPES = frozenset({
    "rfdetr", "rfdetr-base", "rfdetr-nano", "rfdetr-small", "rfdetr-medium", "rfdetr-large",
    "rfdetr-xlarge", "rfdetr-2xlarge",
})
SEGMENTATION_TYPES = frozenset({
    "rfdetr", "rfdetr-seg-preview", "rfdetr-seg-nano", "rfdetr-seg-small", "rfdetr-seg-medium",
    "rfdetr-seg-large", "rfdetr-seg-xlarge", "rfdetr-seg-xxlarge", "rfdetr-seg-2xlarge",
})


@dataclass(frozen=True)
class InputConfig:
    """What `inference_config.json` (when present) says about the network input."""

    mean: tuple[float, float, float] | None = IMAGENET_MEAN
    std: tuple[float, float, float] | None = IMAGENET_STD
    removed_classes: frozenset[str] = frozenset()
    resize_mode: str = "stretch"


def read_input_config(directory: Path) -> InputConfig:
    """Roboflow's model-package `inference_config.json`; ImageNet stretch when there is none."""
    path = directory / INFERENCE_CONFIG_FILE
    if not path.is_file():
        return InputConfig()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        network_input = raw.get("network_input") or {}
        normalization = network_input.get("normalization")
        mean, std = IMAGENET_MEAN, IMAGENET_STD
        if normalization is not None:
            mean, std = tuple(float(v) for v in normalization[0]), tuple(float(v) for v in normalization[1])
        elif network_input.get("scaling_factor") is not None:
            mean = std = None
        removed = frozenset(
            str(operation["class_name"])
            for operation in raw.get("class_names_operations") or []
            if operation.get("type") == "class_name_removal"
        )
        resize_mode = str(network_input.get("resize_mode") or "stretch")
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
        raise ModelArtifactError(f"{INFERENCE_CONFIG_FILE} of model in {directory} is malformed: {error}") from error
    # Roboflow's server substitutes a stretch for fit-longer-edge on RF-DETR; so do we.
    if resize_mode == "fit-longer-edge":
        resize_mode = "stretch"
    return InputConfig(mean, std, removed, resize_mode)


@dataclass(frozen=True)
class ClassLayout:
    """Maps logit columns to the model's named classes; -1 marks a column that is not a class."""

    names: list[str]
    column_to_class: np.ndarray  # (columns,) int64

    @classmethod
    def build(cls, listed_names: list[str], removed: frozenset[str], columns: int) -> ClassLayout:
        """Columns past the class list ("no object") and removed names (the background slot) map to -1."""
        removed = removed | {BACKGROUND_CLASS}
        mapping = np.full(columns, -1, dtype=np.int64)
        names: list[str] = []
        for column, name in enumerate(listed_names[:columns]):
            if name not in removed:
                mapping[column] = len(names)
                names.append(name)
        return cls(names, mapping)


@dataclass
class Selected:
    """The kept query/class pairs of one image, highest score first."""

    queries: np.ndarray  # (N,) query index
    class_ids: np.ndarray  # (N,) named class id
    scores: np.ndarray  # (N,)


def sigmoid(values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float32, copy=False)
    exp = np.exp(-np.abs(values))
    return np.where(values >= 0, 1.0 / (1.0 + exp), exp / (1.0 + exp))


def select(logits: np.ndarray, layout: ClassLayout, params: InferenceParams, class_name) -> Selected:
    """Top `queries` pairs of the flat sigmoid grid, named classes only, above the threshold."""
    queries, columns = logits.shape
    scores = sigmoid(logits).reshape(-1)
    top = np.argsort(-scores, kind="stable")[:queries]
    pair_scores = scores[top]
    class_ids = layout.column_to_class[top % columns]
    keep = (class_ids >= 0) & (pair_scores > params.confidence)
    top, pair_scores, class_ids = top[keep], pair_scores[keep], class_ids[keep]
    if params.class_filter is not None:
        wanted = np.array([class_name(int(c)) in params.class_filter for c in class_ids], dtype=bool)
        top, pair_scores, class_ids = top[wanted], pair_scores[wanted], class_ids[wanted]
    limit = params.max_detections
    return Selected(top[:limit] // columns, class_ids[:limit], pair_scores[:limit])


def stretch_to_tensor(
    image: np.ndarray, width: int, height: int, mean: tuple | None, std: tuple | None
) -> np.ndarray:
    """BGR uint8 to a (1, 3, H, W) RGB float32 tensor: PIL bilinear stretch, /255, (x - mean) / std."""
    rgb = np.ascontiguousarray(image[..., ::-1])
    resized = np.asarray(Image.fromarray(rgb).resize((width, height), Image.BILINEAR), dtype=np.float32)
    tensor = resized.transpose(2, 0, 1)[None] * np.float32(1.0 / 255.0)
    if mean is not None and std is not None:
        tensor -= np.asarray(mean, dtype=np.float32).reshape(1, 3, 1, 1)
        tensor /= np.asarray(std, dtype=np.float32).reshape(1, 3, 1, 1)
    return np.ascontiguousarray(tensor, dtype=np.float32)


def resize_logits(logits: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize of one float mask; PIL's filter (which widens when shrinking) below the grid."""
    if (logits.shape[1], logits.shape[0]) == (width, height):
        return logits
    if width >= logits.shape[1] and height >= logits.shape[0]:
        return cv2.resize(logits, (width, height), interpolation=cv2.INTER_LINEAR)
    image = Image.fromarray(np.ascontiguousarray(logits, dtype=np.float32), mode="F")
    return np.asarray(image.resize((width, height), Image.BILINEAR))


class RFDetrDetector(VisionModel):
    """RF-DETR object detection (every size: nano, small, medium, base, large, ...)."""

    task = tasks.OBJECT_DETECTION

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.boxes_index, self.logits_index, self.masks_index = output_indices(self.session.outputs)
        if self.task == tasks.INSTANCE_SEGMENTATION and self.masks_index is None:
            raise UnsupportedModelError(
                f"RF-DETR segmentation model {self.model_id!r} has no `masks` output."
            )
        config = read_input_config(self.artifact.directory)
        if config.resize_mode != "stretch" or self.artifact.environment.preprocessing.resize_mode != STRETCH:
            mode = config.resize_mode if config.resize_mode != "stretch" else (
                self.artifact.environment.preprocessing.resize_mode
            )
            raise UnsupportedModelError(
                f"RF-DETR model {self.model_id!r} asks for the {mode!r} resize; only stretch is supported."
            )
        self.input_config = config
        columns = self.session.outputs[self.logits_index].shape[-1]
        if not isinstance(columns, int):
            raise UnsupportedModelError(f"RF-DETR model {self.model_id!r} has no fixed number of class logits.")
        self.layout = ClassLayout.build(self.artifact.class_names, config.removed_classes, columns)

    @property
    def class_names(self) -> list[str]:
        return self.layout.names

    def class_name(self, class_id: int) -> str:
        names = self.layout.names
        return names[class_id] if 0 <= class_id < len(names) else str(class_id)

    def preprocess(
        self, image: np.ndarray, params: InferenceParams, original_size: tuple[int, int] | None = None
    ) -> PreparedImage:
        """Static crop, contrast, grayscale, then the PIL stretch; `original_size` (width, height) when
        `image` was decoded smaller than the original, so the transform maps to original pixels."""
        steps = self.artifact.environment.preprocessing
        decoded_height, decoded_width = image.shape[:2]
        original_width, original_height = original_size or (decoded_width, decoded_height)
        crop_x, crop_y, crop_width, crop_height = 0, 0, original_width, original_height
        if steps.static_crop is not None and not params.flags.disable_static_crop:
            box = static_crop_box(original_width, original_height, steps.static_crop)
            if box is not None:
                crop_x, crop_y, right, bottom = box
                crop_width, crop_height = right - crop_x, bottom - crop_y
                ratio_x, ratio_y = decoded_width / original_width, decoded_height / original_height
                image = image[round(crop_y * ratio_y) : max(round(bottom * ratio_y), round(crop_y * ratio_y) + 1),
                              round(crop_x * ratio_x) : max(round(right * ratio_x), round(crop_x * ratio_x) + 1)]
        if steps.contrast and not params.flags.disable_contrast:
            image = apply_contrast(image, steps.contrast)
        if steps.grayscale and not params.flags.disable_grayscale:
            image = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        tensor = stretch_to_tensor(
            image, self.input_width, self.input_height, self.input_config.mean, self.input_config.std
        )
        transform = ImageTransform(
            original_width, original_height, crop_x, crop_y, crop_width, crop_height,
            self.input_width / crop_width, self.input_height / crop_height, 0.0, 0.0,
        )
        return PreparedImage(tensor, transform)

    def boxes_in_original(self, boxes_cxcywh: np.ndarray, transform: ImageTransform) -> np.ndarray:
        """Normalised centre boxes to whole-pixel xyxy in the original image, clipped to it."""
        boxes = boxes_cxcywh.astype(np.float32)
        half = boxes[:, 2:] * 0.5
        xyxy = np.concatenate([boxes[:, :2] - half, boxes[:, :2] + half], axis=1)
        xyxy *= np.array([transform.crop_width, transform.crop_height] * 2, dtype=np.float32)
        xyxy += np.array([transform.crop_x, transform.crop_y] * 2, dtype=np.float32)
        limits = np.array([transform.original_width, transform.original_height] * 2, dtype=np.float32)
        return np.round(np.clip(xyxy, 0, limits))

    def postprocess(self, outputs: list[np.ndarray], transform: ImageTransform, params: InferenceParams):
        chosen = select(outputs[self.logits_index][0], self.layout, params, self.class_name)
        boxes = self.boxes_in_original(outputs[self.boxes_index][0][chosen.queries], transform)
        predictions = box_predictions(boxes, chosen.scores, chosen.class_ids, self.class_name)
        return ObjectDetectionInferenceResponse(
            image=ImageSize(transform.original_width, transform.original_height), predictions=predictions
        )


class RFDetrSegmenter(RFDetrDetector):
    """RF-DETR instance segmentation: detection plus one mask-logit grid per query."""

    task = tasks.INSTANCE_SEGMENTATION

    def postprocess(self, outputs: list[np.ndarray], transform: ImageTransform, params: InferenceParams):
        chosen = select(outputs[self.logits_index][0], self.layout, params, self.class_name)
        boxes = self.boxes_in_original(outputs[self.boxes_index][0][chosen.queries], transform)
        mask_logits = outputs[self.masks_index][0][chosen.queries]
        predictions = box_predictions(boxes, chosen.scores, chosen.class_ids, self.class_name)
        for prediction, logits in zip(predictions, mask_logits, strict=True):
            if params.response_mask_format == "rle":
                prediction.rle = encode_coco_rle(self.mask_in_original(logits, transform, 1.0))
                prediction.mask_format = "rle"
            else:
                prediction.points = self.polygon(logits, transform, params)
                prediction.mask_format = "polygon"
        return InstanceSegmentationInferenceResponse(
            image=ImageSize(transform.original_width, transform.original_height), predictions=predictions
        )

    def mask_in_original(self, logits: np.ndarray, transform: ImageTransform, factor: float) -> np.ndarray:
        """Mask logits resized onto the (cropped) image, or a grid between it and the mask grid, > 0.

        With factor 1 the mask has the original image's size (a static crop is placed on a
        blank canvas at its offset); below 1 the crop region is returned on the reduced grid.
        """
        grid_height, grid_width = logits.shape
        if factor >= 1.0:
            height, width = transform.crop_height, transform.crop_width
        else:
            height = max(1, round(grid_height * (1 - factor) + transform.crop_height * factor))
            width = max(1, round(grid_width * (1 - factor) + transform.crop_width * factor))
        mask = resize_logits(logits.astype(np.float32), width, height) > 0
        if factor < 1.0 or (transform.crop_width, transform.crop_height) == (
            transform.original_width, transform.original_height
        ):
            return mask
        full = np.zeros((transform.original_height, transform.original_width), dtype=bool)
        full[transform.crop_y : transform.crop_y + height, transform.crop_x : transform.crop_x + width] = mask
        return full

    def polygon(self, logits: np.ndarray, transform: ImageTransform, params: InferenceParams) -> list[Point]:
        factor = {"accurate": 1.0, "fast": 0.0}.get(params.mask_decode_mode, params.tradeoff_factor)
        mask = self.mask_in_original(logits, transform, factor)
        points = largest_polygon(mask)
        if factor < 1.0:
            points = points * np.array([transform.crop_width / mask.shape[1], transform.crop_height / mask.shape[0]])
            points = points + np.array([transform.crop_x, transform.crop_y])
        return [Point(x, y) for x, y in points.tolist()]


def output_indices(outputs) -> tuple[int, int, int | None]:
    """Positions of the `dets`, `labels` and (optional) `masks` outputs.

    By name first; else by shape: `dets` is the rank-3 output ending in 4, `labels` the other
    rank-3 one, `masks` the rank-4 one. (OpenVINO may report a tensor by another of its names,
    such as the producing node's, so names alone are not enough.)
    """
    names = [spec.name for spec in outputs]
    found = {key: next((i for i, name in enumerate(names) if name == key), None) for key in ("dets", "labels", "masks")}
    rank3 = [i for i, spec in enumerate(outputs) if len(spec.shape) == 3]
    rank4 = [i for i, spec in enumerate(outputs) if len(spec.shape) == 4]
    if found["dets"] is None:
        found["dets"] = next((i for i in rank3 if outputs[i].shape[-1] == 4 and i != found["labels"]), None)
    if found["labels"] is None:
        found["labels"] = next((i for i in rank3 if i != found["dets"]), None)
    if found["masks"] is None and len(rank4) == 1:
        found["masks"] = rank4[0]
    if found["dets"] is None or found["labels"] is None or len(outputs) - len(rank3) - len(rank4) > 0:
        raise UnsupportedModelError(
            f"Outputs {names} do not look like an RF-DETR export (expected `dets`, `labels` and optionally `masks`)."
        )
    return found["dets"], found["labels"], found["masks"]


def is_detection_type(model_type: str) -> bool:
    """Roboflow's RF-DETR detector types: `rfdetr`, `rfdetr-base`, `rfdetr-nano`, ... (no seg, keypoints, NAS)."""
    kind = model_type.strip().lower()
    return kind in DETECTION_TYPES or (
        kind.startswith("rfdetr-") and not any(part in kind for part in ("seg", "sem", "keypoint", "nas"))
    )


def is_segmentation_type(model_type: str) -> bool:
    kind = model_type.strip().lower()
    return kind in SEGMENTATION_TYPES or (kind.startswith("rfdetr-seg") and "nas" not in kind)


def has_rfdetr_outputs(session, masks: bool) -> bool:
    try:
        _, _, masks_index = output_indices(session.outputs)
    except UnsupportedModelError:
        return False
    return (masks_index is not None) == masks


class _RFDetrArchitecture(ModelArchitecture):
    """What both RF-DETR architectures share: the outputs decide, then our import marker, then the type."""

    #: whether the export has the masks output.
    masks: bool
    model_class: type[VisionModel]
    #: whether a Roboflow `model_type` names this architecture.
    is_own_type: Callable[[str], bool]

    @classmethod
    def match(cls, artifact: ModelArtifact, session: Session) -> Match:
        if not has_rfdetr_outputs(session, masks=cls.masks):
            return Match.NONE
        if artifact.environment.source == RFDETR_SOURCE:
            return Match.METADATA
        return Match.MODEL_TYPE if cls.is_own_type(artifact.model_type) else Match.NONE

    @classmethod
    def build(cls, artifact: ModelArtifact, session: Session, image_loader: ImageLoader) -> VisionModel:
        return cls.model_class(artifact, session, image_loader)


class RFDetrDetection(_RFDetrArchitecture):
    """Roboflow's RF-DETR detector types, and imported exports of the `rfdetr` package."""

    name, task = "rfdetr", tasks.OBJECT_DETECTION
    masks, model_class = False, RFDetrDetector
    is_own_type = staticmethod(is_detection_type)


class RFDetrSegmentation(_RFDetrArchitecture):
    """Roboflow's RF-DETR segmentation types (`rfdetr-seg-preview`, `rfdetr-seg-nano`, ...)."""

    name, task = "rfdetr-seg", tasks.INSTANCE_SEGMENTATION
    masks, model_class = True, RFDetrSegmenter
    is_own_type = staticmethod(is_segmentation_type)
