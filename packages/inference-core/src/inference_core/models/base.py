"""The model template: pre-process, forward, post-process, each a separate step.

The server's dynamic batcher calls the three steps itself to gather images from many requests
into one forward pass; the in-process `infer` strings them together for one call.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from inference_core.errors import UnsupportedModelError
from inference_core.images import ImageLoader
from inference_core.params import InferenceParams
from inference_core.preprocessing import ImageTransform, resize_target
from inference_core.runtime import Session
from inference_core.store import ModelArtifact
from inference_core.visualization import draw_predictions, encode_jpeg_base64

#: Largest batch sent to a model whose batch dimension is dynamic.
MAX_DYNAMIC_BATCH = 16
DEFAULT_INPUT_SIZE = 640


@dataclass
class PreparedImage:
    tensor: np.ndarray  # (1, 3, H, W) float32
    transform: ImageTransform
    original: np.ndarray | None = None  # kept only when predictions are to be drawn


class VisionModel(ABC):
    task: ClassVar[str]
    #: name of the model architecture that built this model (set by `build_model`).
    architecture: str = ""
    #: whether `preprocess` takes `original_size`, so a large JPEG may be decoded at reduced size.
    accepts_reduced_images: ClassVar[bool] = False

    def __init__(self, artifact: ModelArtifact, session: Session, image_loader: ImageLoader) -> None:
        self.artifact = artifact
        self.session = session
        self.image_loader = image_loader
        spec = session.inputs[0]
        if len(spec.shape) != 4:
            raise UnsupportedModelError(
                f"Unsupported model: input {spec.name!r} of {artifact.model_id!r} has shape {spec.shape}; "
                "only image inputs laid out as NCHW (batch, channels, height, width) are supported."
            )
        self.input_name = spec.name
        self.batch_size = spec.fixed_dim(0)
        environment = artifact.environment
        self.input_height = spec.fixed_dim(2) or environment.resize_height or DEFAULT_INPUT_SIZE
        self.input_width = spec.fixed_dim(3) or environment.resize_width or DEFAULT_INPUT_SIZE

    @property
    def model_id(self) -> str:
        return self.artifact.model_id

    @property
    def device(self) -> str:
        """Where the model runs, as its backend names it (`cpu`, `cuda:0`, `GPU`)."""
        return self.session.info.device

    @property
    def class_names(self) -> list[str]:
        return self.artifact.class_names

    def class_name(self, class_id: int) -> str:
        """The name of a class id; the id itself as text when the model has no name for it."""
        names = self.artifact.class_names
        return names[class_id] if 0 <= class_id < len(names) else str(class_id)

    def infer(self, images: Any, **kwargs: Any) -> list[Any]:
        """Predict on one image or a list; returns one response per image, in order."""
        started = time.perf_counter()
        params = InferenceParams.from_kwargs(**kwargs)
        sources = list(images) if isinstance(images, (list, tuple)) else [images]
        prepared = [self.prepare(source, params) for source in sources]
        outputs = self.forward([item.tensor for item in prepared])
        responses = [self.finish(image_outputs, item, params) for image_outputs, item in zip(outputs, prepared)]
        elapsed = time.perf_counter() - started
        for response in responses:
            response.time = elapsed
            response.inference_id = str(uuid.uuid4())
        return responses

    def prepare(self, source: Any, params: InferenceParams) -> PreparedImage:
        if self.accepts_reduced_images and self.image_loader.reduced_jpeg_decode and not params.visualize_predictions:
            return self._prepare_reduced(source, params)
        image = self.load_image(source, params)
        prepared = self.preprocess(image, params)
        if params.visualize_predictions:
            prepared.original = image
        return prepared

    def _prepare_reduced(self, source: Any, params: InferenceParams) -> PreparedImage:
        """A large JPEG decoded at reduced size (REDUCED_JPEG_DECODE); geometry from its full size."""
        config = self.artifact.environment.preprocessing

        def target(width: int, height: int) -> tuple[float, float]:
            return resize_target(width, height, config, self.input_width, self.input_height, params.flags)

        auto_orient = config.auto_orient and not params.flags.disable_auto_orient
        image, size = self.image_loader.load_for_network(source, auto_orient, target)
        return self.preprocess(image, params, original_size=size)

    def load_image(self, source: Any, params: InferenceParams) -> np.ndarray:
        """The original BGR image, oriented as this model's pre-processing asks."""
        auto_orient = self.artifact.environment.preprocessing.auto_orient
        return self.image_loader.load(source, auto_orient and not params.flags.disable_auto_orient)

    def forward(self, tensors: list[np.ndarray]) -> list[list[np.ndarray]]:
        """Run (1, 3, H, W) tensors in as few batches as the model allows; outputs per image."""
        chunk_size = self.batch_size or MAX_DYNAMIC_BATCH
        per_image: list[list[np.ndarray]] = []
        for start in range(0, len(tensors), chunk_size):
            chunk = tensors[start : start + chunk_size]
            batch = np.concatenate(chunk, axis=0) if len(chunk) > 1 else chunk[0]
            if self.batch_size and len(chunk) < self.batch_size:
                padding = np.zeros((self.batch_size - len(chunk), *batch.shape[1:]), dtype=batch.dtype)
                batch = np.concatenate([batch, padding], axis=0)
            outputs = self.session.run({self.input_name: batch})
            per_image.extend([output[index : index + 1] for output in outputs] for index in range(len(chunk)))
        return per_image

    def finish(self, outputs: list[np.ndarray], prepared: PreparedImage, params: InferenceParams) -> Any:
        """Post-process one image and, when asked, attach the drawn predictions (base64 JPEG)."""
        response = self.postprocess(outputs, prepared.transform, params)
        if params.visualize_predictions and prepared.original is not None:
            response.visualization = encode_jpeg_base64(self.draw(prepared.original, response, params))
        return response

    def draw(self, image: np.ndarray, response: Any, params: InferenceParams) -> np.ndarray:
        """The original image with this response drawn in the model's class colours."""
        return draw_predictions(
            image, response, self.artifact.environment.colors, params.visualization_stroke_width,
            params.visualization_labels, self.skeleton(),
        )

    def skeleton(self) -> list[tuple[int, int]]:
        """Keypoint index pairs to join when drawing; pose models override."""
        return []

    @abstractmethod
    def preprocess(self, image: np.ndarray, params: InferenceParams) -> PreparedImage:
        """BGR uint8 original image to a (1, 3, H, W) tensor and the transform to undo."""

    @abstractmethod
    def postprocess(self, outputs: list[np.ndarray], transform: ImageTransform, params: InferenceParams) -> Any:
        """One image's outputs (each with a leading batch dim of 1) to its response."""

    def describe(self) -> dict[str, Any]:
        return {
            "model_id": self.model_id,
            "task_type": self.task,
            "batch_size": self.batch_size,
            "input_height": self.input_height,
            "input_width": self.input_width,
        }
