"""Image classification: single-label (softmax) and multi-label (per-class probabilities)."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from inference_core import tasks
from inference_core.models.base import PreparedImage, VisionModel
from inference_core.params import InferenceParams
from inference_core.preprocessing import ImageTransform, images_to_tensor, preprocess_image
from inference_core.responses import (
    ClassificationInferenceResponse,
    ClassificationPrediction,
    ImageSize,
    MultiLabelClassificationInferenceResponse,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)


class Classifier(VisionModel):
    task = tasks.CLASSIFICATION

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.multilabel = self.artifact.environment.multiclass
        self.mean, self.std = self._normalisation()

    def _normalisation(self):
        if self.artifact.environment.is_ultralytics_import:
            return None, None  # Ultralytics classifiers take plain x / 255
        if "resnet" in self.artifact.model_type.lower():
            return IMAGENET_MEAN, IMAGENET_STD
        return HALF, HALF

    def preprocess(self, image: np.ndarray, params: InferenceParams) -> PreparedImage:
        if self.artifact.environment.is_ultralytics_import:
            resized, transform = self._centre_crop(image)
        else:
            resized, transform = preprocess_image(
                image, self.artifact.environment.preprocessing, self.input_width, self.input_height, params.flags
            )
        return PreparedImage(images_to_tensor([resized], self.mean, self.std), transform)

    def _centre_crop(self, image: np.ndarray) -> tuple[np.ndarray, ImageTransform]:
        """Ultralytics' classify transform (torchvision Resize(size) + CenterCrop(size) on PIL).

        PIL's antialiased bilinear resize is used on purpose: OpenCV's differs when shrinking,
        and classification scores would drift from Ultralytics' own predictor.
        """
        height, width = image.shape[:2]
        size = self.input_height
        if width <= height:
            new_width, new_height = size, int(size * height / width)
        else:
            new_width, new_height = int(size * width / height), size
        rgb = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        resized = np.asarray(rgb.resize((new_width, new_height), Image.BILINEAR))
        top = int(round((new_height - self.input_height) / 2.0))
        left = int(round((new_width - self.input_width) / 2.0))
        cropped = resized[top : top + self.input_height, left : left + self.input_width, ::-1]
        scale = new_width / width
        transform = ImageTransform(width, height, 0, 0, width, height, scale, scale, -left, -top)
        return np.ascontiguousarray(cropped), transform

    def postprocess(self, outputs: list[np.ndarray], transform: ImageTransform, params: InferenceParams):
        scores = outputs[0][0].astype(np.float64).reshape(-1)
        image = ImageSize(transform.original_width, transform.original_height)
        if self.multilabel:
            return self._multilabel(to_probabilities(scores, multilabel=True), image, params)
        probabilities = to_probabilities(scores, multilabel=False)
        order = np.argsort(-probabilities, kind="stable")
        predictions = [
            ClassificationPrediction(self.class_name(index), int(index), round(float(probabilities[index]), 4))
            for index in order
            if probabilities[index] >= params.confidence
        ]
        top = predictions[0] if predictions else None
        return ClassificationInferenceResponse(
            image=image, predictions=predictions, top=top.class_name if top else "",
            confidence=top.confidence if top else 0.0,
        )

    def _multilabel(self, probabilities: np.ndarray, image: ImageSize, params: InferenceParams):
        predictions = {
            self.class_name(index): {"confidence": round(float(value), 4), "class_id": index}
            for index, value in enumerate(probabilities)
        }
        predicted = [self.class_name(index) for index, value in enumerate(probabilities) if value >= params.confidence]
        return MultiLabelClassificationInferenceResponse(image=image, predictions=predictions, predicted_classes=predicted)


def to_probabilities(scores: np.ndarray, multilabel: bool) -> np.ndarray:
    """Models emit either logits or probabilities; only logits are squashed."""
    in_unit_range = scores.size and scores.min() >= 0.0 and scores.max() <= 1.0
    if multilabel:
        return scores if in_unit_range else 1.0 / (1.0 + np.exp(-scores))
    if in_unit_range and abs(scores.sum() - 1.0) < 1e-3:
        return scores
    shifted = np.exp(scores - scores.max())
    return shifted / shifted.sum()
