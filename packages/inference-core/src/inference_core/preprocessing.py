"""Per-image pre-processing in Roboflow's order, and the transform to map results back."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

STRETCH = "Stretch to"
LETTERBOX_PAD_COLOURS = {
    "Fit (black edges) in": (0, 0, 0),
    "Fit (white edges) in": (255, 255, 255),
    "Fit (grey edges) in": (114, 114, 114),
}
CONTRAST_TYPES = ("Contrast Stretching", "Histogram Equalization", "Adaptive Equalization")


@dataclass(frozen=True)
class StaticCrop:
    """Crop box in percent of the image size."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class PreprocessingConfig:
    """What environment.json asks for (or Ultralytics' defaults for imported exports)."""

    resize_mode: str = STRETCH
    auto_orient: bool = True
    static_crop: StaticCrop | None = None
    contrast: str | None = None
    grayscale: bool = False
    #: Ultralytics pads by rounding half-paddings (dw +- 0.1); Roboflow floors the first half.
    ultralytics_padding: bool = False

    @property
    def letterbox_colour(self) -> tuple[int, int, int] | None:
        return LETTERBOX_PAD_COLOURS.get(self.resize_mode)


@dataclass(frozen=True)
class PreprocessingFlags:
    """Per-request switches (the `disable_preproc_*` request fields)."""

    disable_auto_orient: bool = False
    disable_contrast: bool = False
    disable_grayscale: bool = False
    disable_static_crop: bool = False


@dataclass(frozen=True)
class ImageTransform:
    """How one original image became the network input, so boxes can be mapped back."""

    original_width: int
    original_height: int
    crop_x: int
    crop_y: int
    crop_width: int
    crop_height: int
    scale_x: float
    scale_y: float
    pad_x: float
    pad_y: float

    def to_original(self, xyxy: np.ndarray) -> np.ndarray:
        """Map (N, 4) input-pixel boxes to clipped original-image pixels (float)."""
        boxes = xyxy.astype(np.float64, copy=True)
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - self.pad_x) / self.scale_x
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - self.pad_y) / self.scale_y
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, self.crop_width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, self.crop_height)
        boxes[:, [0, 2]] += self.crop_x
        boxes[:, [1, 3]] += self.crop_y
        return boxes

    def points_to_original(self, points: np.ndarray) -> np.ndarray:
        """Map (..., 2) input-pixel points to original-image pixels (clipped)."""
        mapped = points.astype(np.float64, copy=True)
        mapped[..., 0] = ((mapped[..., 0] - self.pad_x) / self.scale_x).clip(0, self.crop_width)
        mapped[..., 1] = ((mapped[..., 1] - self.pad_y) / self.scale_y).clip(0, self.crop_height)
        mapped[..., 0] += self.crop_x
        mapped[..., 1] += self.crop_y
        return mapped


def preprocess_image(
    image: np.ndarray,
    config: PreprocessingConfig,
    input_width: int,
    input_height: int,
    flags: PreprocessingFlags = PreprocessingFlags(),
    original_size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, ImageTransform]:
    """Crop, adjust and resize a BGR uint8 image to the network size (still BGR uint8).

    `original_size` (width, height) is given when `image` was decoded at a reduced size: every
    size, crop and padding is then computed from the original size, exactly as for the full
    image, and only the pixels come from the smaller one, so the transform maps results back to
    original pixels.
    """
    decoded_height, decoded_width = image.shape[:2]
    original_width, original_height = original_size or (decoded_width, decoded_height)
    ratio_x, ratio_y = decoded_width / original_width, decoded_height / original_height
    crop_x, crop_y, crop_width, crop_height = 0, 0, original_width, original_height
    if config.static_crop is not None and not flags.disable_static_crop:
        box = static_crop_box(original_width, original_height, config.static_crop)
        if box is not None:
            crop_x, crop_y, crop_right, crop_bottom = box
            crop_width, crop_height = crop_right - crop_x, crop_bottom - crop_y
            image = image[
                round(crop_y * ratio_y) : max(round(crop_bottom * ratio_y), round(crop_y * ratio_y) + 1),
                round(crop_x * ratio_x) : max(round(crop_right * ratio_x), round(crop_x * ratio_x) + 1),
            ]
    if config.contrast and not flags.disable_contrast:
        image = apply_contrast(image, config.contrast)
    if config.grayscale and not flags.disable_grayscale:
        image = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    colour = config.letterbox_colour
    if colour is None:
        resized = cv2.resize(image, (input_width, input_height), interpolation=cv2.INTER_LINEAR)
        scale_x, scale_y = input_width / crop_width, input_height / crop_height
        pad_x = pad_y = 0.0
    else:
        resized, scale, pad_x, pad_y = letterbox(
            image, input_width, input_height, colour, config.ultralytics_padding, (crop_width, crop_height)
        )
        scale_x = scale_y = scale
        if config.ultralytics_padding:
            # Ultralytics maps boxes back with each side's own gain (its rounded resized size over the
            # original size), not the one letterbox ratio: up to half a pixel apart on each side.
            scale_x = max(round(crop_width * scale), 1) / crop_width
            scale_y = max(round(crop_height * scale), 1) / crop_height
    transform = ImageTransform(
        original_width, original_height, crop_x, crop_y, crop_width, crop_height,
        scale_x, scale_y, pad_x, pad_y,
    )
    return resized, transform


def resize_target(
    width: int,
    height: int,
    config: PreprocessingConfig,
    input_width: int,
    input_height: int,
    flags: PreprocessingFlags = PreprocessingFlags(),
) -> tuple[float, float]:
    """The size a whole `width` x `height` image is resized to on its way to the network (a static
    crop is resized as the part of that size it covers)."""
    crop_width, crop_height = width, height
    if config.static_crop is not None and not flags.disable_static_crop:
        box = static_crop_box(width, height, config.static_crop)
        if box is not None:
            crop_width, crop_height = box[2] - box[0], box[3] - box[1]
    scale_x, scale_y = input_width / crop_width, input_height / crop_height
    if config.letterbox_colour is not None:
        scale_x = scale_y = min(scale_x, scale_y)
    return width * scale_x, height * scale_y


def letterbox(
    image: np.ndarray,
    width: int,
    height: int,
    colour: tuple[int, int, int],
    ultralytics_padding: bool = False,
    source_size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, float, float, float]:
    """Resize keeping aspect ratio and pad to (width, height); returns image, scale, pads.

    The scale and pads come from `source_size` (width, height) when given (the image's size
    before a reduced-resolution decode), else from the image itself.
    """
    source_width, source_height = source_size or (image.shape[1], image.shape[0])
    scale = min(width / source_width, height / source_height)
    if ultralytics_padding:
        new_width, new_height = round(source_width * scale), round(source_height * scale)
        left = round((width - new_width) / 2 - 0.1)
        top = round((height - new_height) / 2 - 0.1)
    else:
        new_width, new_height = int(source_width * scale), int(source_height * scale)
        left, top = (width - new_width) // 2, (height - new_height) // 2
    new_width, new_height = max(new_width, 1), max(new_height, 1)
    if (new_width, new_height) != (image.shape[1], image.shape[0]):
        image = cv2.resize(image, (new_width, new_height), interpolation=cv2.INTER_LINEAR)
    padded = cv2.copyMakeBorder(
        image, top, height - new_height - top, left, width - new_width - left,
        cv2.BORDER_CONSTANT, value=colour,
    )
    return padded, scale, float(left), float(top)


def static_crop_box(width: int, height: int, crop: StaticCrop) -> tuple[int, int, int, int] | None:
    """The crop as pixel bounds (x_min, y_min, x_max, y_max), or None when it is empty."""
    x_min, x_max = int(crop.x_min / 100 * width), int(crop.x_max / 100 * width)
    y_min, y_max = int(crop.y_min / 100 * height), int(crop.y_max / 100 * height)
    if x_max <= x_min or y_max <= y_min:
        return None
    return x_min, y_min, x_max, y_max


def apply_contrast(image: np.ndarray, contrast_type: str) -> np.ndarray:
    if contrast_type == "Contrast Stretching":
        low, high = np.percentile(image, (2, 98))
        if high <= low:
            return image
        stretched = (image.astype(np.float32) - low) * (255.0 / (high - low))
        return np.clip(stretched, 0, 255).astype(np.uint8)
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if contrast_type == "Histogram Equalization":
        return cv2.cvtColor(cv2.equalizeHist(gray), cv2.COLOR_GRAY2BGR)
    if contrast_type == "Adaptive Equalization":
        clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
        return cv2.cvtColor(clahe.apply(gray), cv2.COLOR_GRAY2BGR)
    return image


def images_to_tensor(
    images: list[np.ndarray],
    mean: tuple[float, float, float] | None = None,
    std: tuple[float, float, float] | None = None,
) -> np.ndarray:
    """Stack BGR uint8 images (all of one size) into an RGB NCHW float32 tensor scaled to 0-1, then
    (x-mean)/std. Each channel is split out contiguously and scaled straight into its plane."""
    height, width = images[0].shape[:2]
    tensor = np.empty((len(images), 3, height, width), dtype=np.float32)
    scale = np.float32(1.0 / 255.0)
    for index, image in enumerate(images):
        if image.shape != (height, width, 3):
            raise ValueError(f"images_to_tensor takes BGR images of one size, not {image.shape}")
        for channel, plane in enumerate(reversed(cv2.split(image))):  # BGR to RGB
            np.multiply(plane, scale, out=tensor[index, channel])
    if mean is not None and std is not None:
        tensor -= np.asarray(mean, dtype=np.float32).reshape(1, 3, 1, 1)
        tensor /= np.asarray(std, dtype=np.float32).reshape(1, 3, 1, 1)
    return tensor
