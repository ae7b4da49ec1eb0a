"""Semantic segmentation: a (B, C, H, W) logits map to a class id and a confidence per pixel.

Decoding follows Roboflow's server (its `inference_models` path, the default on Linux):
the letterbox padding is cut off the logits, the logits are resized (bilinear) to the image
size before resizing, softmax and argmax pick each pixel's class, a static crop is placed back
on a background canvas, and pixels whose confidence is below the request's `confidence`
become the background class with confidence 0.
"""

from __future__ import annotations

import base64
import io

import cv2
import numpy as np
from PIL import Image

from inference_core import tasks
from inference_core.errors import UnsupportedModelError
from inference_core.images import ImageLoader
from inference_core.models.architecture import Match, ModelArchitecture
from inference_core.models.base import PreparedImage, VisionModel
from inference_core.params import InferenceParams
from inference_core.preprocessing import ImageTransform, images_to_tensor, preprocess_image
from inference_core.responses import (
    ImageSize,
    SemanticSegmentationInferenceResponse,
    SemanticSegmentationPrediction,
)
from inference_core.runtime import Session
from inference_core.store import ModelArtifact
from inference_core.visualization import draw_class_map

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)
BACKGROUND = "background"
#: Roboflow's model types for DeepLabV3+ (the registry has spelled it both ways).
DEEPLAB_PREFIXES = ("deeplabv3plus", "deep-lab-v3-plus", "deeplab")
#: Class ids travel as 8-bit PNG pixels, as on Roboflow's API.
MAX_CLASSES = 256


def background_class_id(class_names: list[str]) -> int:
    """The `background` class (any case); class 0 when the model names none."""
    lowered = [name.lower() for name in class_names]
    return lowered.index(BACKGROUND) if BACKGROUND in lowered else 0


def png_base64(image: np.ndarray) -> str:
    """A 2-D uint8 array as a base64 8-bit greyscale PNG (PIL's encoder, like Roboflow's)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def resize_map(values: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize one float map as torchvision's bilinear resize with antialiasing does.

    Growing an axis is plain bilinear with half-pixel centres (OpenCV's INTER_LINEAR gives the
    same values); shrinking one averages the input under a triangle filter as wide as the scale.
    """
    rows, columns = values.shape
    if height < rows:
        values = shrink_weights(rows, height) @ values
    elif height > rows:
        values = cv2.resize(values, (values.shape[1], height), interpolation=cv2.INTER_LINEAR)
    if width < columns:
        values = values @ shrink_weights(columns, width).T
    elif width > columns:
        values = cv2.resize(values, (width, values.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.ascontiguousarray(values, dtype=np.float32)


def shrink_weights(source: int, target: int) -> np.ndarray:
    """(target, source) weights of an antialiased bilinear shrink (triangle filter, normalised)."""
    scale = source / target
    centres = (np.arange(target) + 0.5) * scale
    first = np.maximum((centres - scale + 0.5).astype(np.int64), 0)
    last = np.minimum((centres + scale + 0.5).astype(np.int64), source)
    positions = np.arange(source)
    weights = np.clip(1.0 - np.abs((positions[None, :] - centres[:, None] + 0.5) / scale), 0.0, None)
    weights[(positions[None, :] < first[:, None]) | (positions[None, :] >= last[:, None])] = 0.0
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def decode_logits(
    logits: np.ndarray, padding: tuple[int, int, int, int], width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """(C, h, w) logits -> (class ids, max softmax probability), each (height, width).

    `padding` (top, bottom, left, right) is cut off first, in logit cells. One class map at a
    time is resized, so memory stays at a few full-size float maps whatever C is.
    """
    top, bottom, left, right = padding
    rows, columns = logits.shape[1:]
    logits = logits[:, top : rows - bottom, left : columns - right].astype(np.float32, copy=False)
    if logits.shape[0] == 1:
        # a single-channel head scores the one foreground class with a sigmoid
        probability = 1.0 / (1.0 + np.exp(-resize_map(logits[0], width, height)))
        return np.zeros((height, width), dtype=np.int64), probability
    best = np.full((height, width), -np.inf, dtype=np.float32)
    class_ids = np.zeros((height, width), dtype=np.int64)
    for index, channel in enumerate(logits):
        resized = resize_map(channel, width, height)
        better = resized > best  # strict: ties keep the lower class id, as argmax does
        best[better] = resized[better]
        class_ids[better] = index
    total = np.zeros((height, width), dtype=np.float32)
    for channel in logits:
        total += np.exp(resize_map(channel, width, height) - best)
    return class_ids, 1.0 / total


def logit_padding(transform: ImageTransform, logits_shape: tuple[int, int], input_size: tuple[int, int],
                  content_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Letterbox padding (top, bottom, left, right) in logit cells, rounded as Roboflow does."""
    rows, columns = logits_shape
    input_height, input_width = input_size
    content_height, content_width = content_size
    row_scale, column_scale = rows / input_height, columns / input_width
    pad_top, pad_left = int(transform.pad_y), int(transform.pad_x)
    pad_bottom = input_height - pad_top - content_height
    pad_right = input_width - pad_left - content_width
    return (
        round(row_scale * pad_top), round(row_scale * pad_bottom),
        round(column_scale * pad_left), round(column_scale * pad_right),
    )


class SemanticSegmenter(VisionModel):
    """DeepLabV3+-style models: one (B, C, H, W) logits output, C classes (or C + background)."""

    task = tasks.SEMANTIC_SEGMENTATION

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        output_shape = tuple(self.session.outputs[0].shape)
        if len(output_shape) != 4:
            raise UnsupportedModelError(
                f"Semantic segmentation output has shape {output_shape}; expected (B, C, H, W) logits."
            )
        if len(self.class_names) > MAX_CLASSES:
            raise UnsupportedModelError(
                f"Semantic segmentation supports at most {MAX_CLASSES} classes; "
                f"the model has {len(self.class_names)}."
            )
        self.background_id = background_class_id(self.class_names)
        self.mean, self.std = self._normalisation()

    def _normalisation(self):
        if self.artifact.model_type.strip().lower().startswith(DEEPLAB_PREFIXES):
            return IMAGENET_MEAN, IMAGENET_STD
        return HALF, HALF  # Roboflow's default for semantic models

    def preprocess(self, image: np.ndarray, params: InferenceParams) -> PreparedImage:
        resized, transform = preprocess_image(
            image, self.artifact.environment.preprocessing, self.input_width, self.input_height, params.flags
        )
        return PreparedImage(images_to_tensor([resized], self.mean, self.std), transform)

    def postprocess(self, outputs: list[np.ndarray], transform: ImageTransform, params: InferenceParams):
        class_ids, confidence = self.class_and_confidence(outputs[0][0], transform)
        below = confidence < params.confidence
        class_ids[below] = self.background_id
        confidence[below] = 0.0
        class_ids_u8 = class_ids.astype(np.uint8)
        confidence_u8 = (confidence * 255).astype(np.uint8)  # truncated, as Roboflow's server does
        prediction = SemanticSegmentationPrediction(
            segmentation_mask=png_base64(class_ids_u8),
            class_map={str(index): name for index, name in enumerate(self.class_names)},
            confidence_mask=png_base64(confidence_u8),
            present_class_ids=np.flatnonzero(np.bincount(class_ids_u8.ravel(), minlength=MAX_CLASSES))
            .tolist(),
        )
        response = SemanticSegmentationInferenceResponse(
            image=ImageSize(transform.original_width, transform.original_height), predictions=prediction
        )
        response.class_id_map = class_ids_u8  # kept off the wire, for drawing
        return response

    def class_and_confidence(
        self, logits: np.ndarray, transform: ImageTransform
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per original-image pixel: class id (full class list) and softmax confidence."""
        channels = logits.shape[0]
        if channels not in (len(self.class_names), len(self.class_names) - 1) and channels != 1:
            raise UnsupportedModelError(
                f"Semantic segmentation output has {channels} channels for {len(self.class_names)} classes."
            )
        padding = logit_padding(
            transform, logits.shape[1:], (self.input_height, self.input_width), self._content_size(transform)
        )
        class_ids, confidence = decode_logits(logits, padding, transform.crop_width, transform.crop_height)
        if channels < len(self.class_names):
            # the head has no background channel: shift foreground ids past the background slot
            foreground = np.array([i for i in range(len(self.class_names)) if i != self.background_id])
            class_ids = foreground[class_ids]
        crop_size = (transform.crop_width, transform.crop_height)
        if crop_size != (transform.original_width, transform.original_height) or transform.crop_x or transform.crop_y:
            class_ids, confidence = self._on_original_canvas(class_ids, confidence, transform)
        return class_ids, confidence

    def _content_size(self, transform: ImageTransform) -> tuple[int, int]:
        """Height and width of the resized image inside the network input (letterbox-free part)."""
        if transform.pad_x == 0 and transform.pad_y == 0:
            return self.input_height, self.input_width
        rounding = round if self.artifact.environment.preprocessing.ultralytics_padding else int
        return (
            max(rounding(transform.crop_height * transform.scale_y), 1),
            max(rounding(transform.crop_width * transform.scale_x), 1),
        )

    def _on_original_canvas(self, class_ids, confidence, transform: ImageTransform):
        size = (transform.original_height, transform.original_width)
        canvas_ids = np.full(size, self.background_id, np.int64)
        canvas_confidence = np.zeros(size, np.float32)
        rows = slice(transform.crop_y, transform.crop_y + transform.crop_height)
        columns = slice(transform.crop_x, transform.crop_x + transform.crop_width)
        canvas_ids[rows, columns] = class_ids
        canvas_confidence[rows, columns] = confidence
        return canvas_ids, canvas_confidence

    def draw(self, image: np.ndarray, response, params: InferenceParams) -> np.ndarray:
        return draw_class_map(
            image, response.class_id_map, self.class_names, self.background_id,
            self.artifact.environment.colors,
        )


class DeepLabV3PlusSegmentation(ModelArchitecture):
    """DeepLabV3+ (`deeplabv3plus`), or any model filed as semantic segmentation without a type,
    answering one (B, C, H, W) logits output."""

    name, task = "deeplabv3plus", tasks.SEMANTIC_SEGMENTATION

    @classmethod
    def match(cls, artifact: ModelArtifact, session: Session) -> Match:
        four_dimensional = len(session.outputs) >= 1 and len(session.outputs[0].shape) == 4
        family = artifact.model_type.strip().lower()
        if not four_dimensional:
            return Match.NONE
        if family.startswith(DEEPLAB_PREFIXES):
            return Match.MODEL_TYPE
        return Match.SHAPE if not family else Match.NONE

    @classmethod
    def build(cls, artifact: ModelArtifact, session: Session, image_loader: ImageLoader) -> VisionModel:
        return SemanticSegmenter(artifact, session, image_loader)
