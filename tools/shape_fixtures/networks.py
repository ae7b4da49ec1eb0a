"""The fixture networks: a small stride-8 backbone with detect, segment, pose and classifier heads."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as functional
from synthetic_shapes import CLASS_NAMES
from torch import nn

from shape_fixtures.data import GRID, MASK_COEFFICIENTS, POSE_KEYPOINTS, STRIDE

# --- model ------------------------------------------------------------------


def conv_block(in_channels: int, out_channels: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.SiLU(inplace=True),
    )


class Backbone(nn.Module):
    """Five stride-2 stages and a small top-down path back to stride 8.

    The coarse stages give the stride-8 cells enough context (receptive field)
    to size shapes up to ~110 input pixels.
    """

    def __init__(self, widths: tuple[int, ...] = (16, 32, 48, 64, 96)) -> None:
        super().__init__()
        w0, w1, w2, w3, w4 = widths
        self.stem = nn.Sequential(conv_block(3, w0, 2), conv_block(w0, w1, 2))
        self.stage8 = nn.Sequential(conv_block(w1, w2, 2), conv_block(w2, w2))
        self.stage16 = nn.Sequential(conv_block(w2, w3, 2), conv_block(w3, w3))
        self.stage32 = nn.Sequential(conv_block(w3, w4, 2), conv_block(w4, w4))
        self.lateral32 = conv_block(w4, w3, kernel=1)
        self.merge16 = conv_block(w3, w3)
        self.lateral16 = conv_block(w3, w2, kernel=1)
        self.merge8 = conv_block(w2, w2)
        self.out_channels = w2
        self.stem_channels = w1

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns the stride-8 features and the stride-4 stem features."""
        stem = self.stem(images)
        features8 = self.stage8(stem)
        features16 = self.stage16(features8)
        features32 = self.stage32(features16)
        features16 = self.merge16(features16 + _upsample(self.lateral32(features32)))
        features8 = self.merge8(features8 + _upsample(self.lateral16(features16)))
        return features8, stem


def _upsample(features: torch.Tensor) -> torch.Tensor:
    return functional.interpolate(features, scale_factor=2.0, mode="nearest")


class ShapeDetector(nn.Module):
    """Anchor-free detector on one stride-8 grid.

    forward() returns raw class logits (B, C, 40, 40) and box side distances
    left, top, right, bottom (B, 4, 40, 40) in input pixels from each cell centre.
    """

    def __init__(self, class_count: int = len(CLASS_NAMES)) -> None:
        super().__init__()
        self.backbone = Backbone()
        width = self.backbone.out_channels
        self.class_branch = nn.Sequential(conv_block(width, width), nn.Conv2d(width, class_count, 1))
        self.box_branch = nn.Sequential(conv_block(width, width), nn.Conv2d(width, 4, 1))
        # Start with low scores (prior ~1%) so early training is not flooded by negatives.
        nn.init.constant_(self.class_branch[-1].bias, -4.6)
        self.class_count = class_count

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features, _ = self.backbone(images)
        return self.class_branch(features), self.box_branch(features)

    def class_logits(self, images: torch.Tensor) -> torch.Tensor:
        """Only the class map: what the classifiers built on this net need."""
        features, _ = self.backbone(images)
        return self.class_branch(features)


class ShapeSegmenter(nn.Module):
    """The detector plus YOLOv8-seg style masks.

    forward() adds 32 mask coefficients per cell (B, 32, 40, 40) and 32
    prototypes on the stride-4 grid (B, 32, 80, 80); a shape's mask is
    sigmoid(coefficients . prototypes).
    """

    def __init__(self) -> None:
        super().__init__()
        self.detector = ShapeDetector()
        width = self.detector.backbone.out_channels
        proto_width = 32
        self.coefficient_branch = nn.Sequential(
            conv_block(width, width), nn.Conv2d(width, MASK_COEFFICIENTS, 1)
        )
        self.proto_from_features = conv_block(width, proto_width)
        self.proto_from_stem = conv_block(self.detector.backbone.stem_channels, proto_width, kernel=1)
        self.proto_out = nn.Sequential(
            conv_block(proto_width, proto_width), nn.Conv2d(proto_width, MASK_COEFFICIENTS, 1)
        )

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        features, stem = self.detector.backbone(images)
        class_logits = self.detector.class_branch(features)
        raw_box = self.detector.box_branch(features)
        coefficients = self.coefficient_branch(features)
        # Stride-8 context upsampled onto stride-4 detail gives sharp mask edges.
        protos = self.proto_out(_upsample(self.proto_from_features(features)) + self.proto_from_stem(stem))
        return class_logits, raw_box, coefficients, protos


class ShapePoseNet(nn.Module):
    """A one-class (square) detector plus 4 corner keypoints per cell.

    forward() adds raw keypoints (B, 4*3, 40, 40): per corner dx, dy (in
    strides from the cell centre) and a visibility logit. Corners come out in
    a consistent clockwise cycle but from an arbitrary start; the export
    wrapper rotates them to start at the top-most corner.
    """

    def __init__(self) -> None:
        super().__init__()
        self.detector = ShapeDetector(class_count=1)
        width = self.detector.backbone.out_channels
        self.keypoint_branch = nn.Sequential(
            conv_block(width, width), nn.Conv2d(width, POSE_KEYPOINTS * 3, 1)
        )

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        features, _ = self.detector.backbone(images)
        class_logits = self.detector.class_branch(features)
        raw_box = self.detector.box_branch(features)
        return class_logits, raw_box, self.keypoint_branch(features)


def decode_keypoints(raw_keypoints: torch.Tensor) -> torch.Tensor:
    """(B, K*3, G, G) raw -> (B, K, 3, G, G): x, y in input pixels, visibility in 0..1."""
    batch, _, rows, columns = raw_keypoints.shape
    raw = raw_keypoints.view(batch, POSE_KEYPOINTS, 3, rows, columns)
    centres = cell_centres(raw_keypoints.device)
    positions = centres + raw[:, :, :2] * STRIDE
    return torch.cat([positions, raw[:, :, 2:].sigmoid()], dim=2)


def load_detector_weights(
    target: ShapeDetector, checkpoint: Path, class_ids: list[int] | None = None
) -> None:
    """Start a phase-2 model from the trained detector.

    class_ids picks rows of the final class layer when the target has fewer
    classes (the pose net keeps only "square").
    """
    state = torch.load(checkpoint, map_location="cpu")
    if class_ids is not None:
        for key in ("class_branch.1.weight", "class_branch.1.bias"):
            state[key] = state[key][class_ids]
    target.load_state_dict(state)


def side_distances(raw_box: torch.Tensor) -> torch.Tensor:
    """Raw box outputs -> non-negative distances in input pixels."""
    return functional.softplus(raw_box) * STRIDE


def cell_centres(device: torch.device | None = None) -> torch.Tensor:
    """(2, 40, 40) x and y of each cell centre in input pixels."""
    steps = (torch.arange(GRID, dtype=torch.float32, device=device) + 0.5) * STRIDE
    grid_y, grid_x = torch.meshgrid(steps, steps, indexing="ij")
    return torch.stack([grid_x, grid_y])


def decode_boxes(raw_box: torch.Tensor) -> torch.Tensor:
    """(B, 4, G, G) raw -> (B, 4, G, G) x1, y1, x2, y2 in input pixels."""
    distances = side_distances(raw_box)
    centres = cell_centres(raw_box.device).unsqueeze(0)
    top_left = centres - distances[:, :2]
    bottom_right = centres + distances[:, 2:]
    return torch.cat([top_left, bottom_right], dim=1)


class PresenceClassifier(nn.Module):
    """Image-level class logits: the detector's class map, max over all cells.

    A shape is present when some cell is sure of it, which suits both the
    single-label (softmax) and the multi-label (sigmoid) fixtures.
    normalised_input undoes (x/255 - 0.5)/0.5 back to the x/255 the
    detector was trained on. upscale enlarges the input inside the graph
    first: squeezed into 224 pixels, the smallest shapes of a scene are under
    10 pixels, below what the stride-8 detector sees reliably.
    """

    def __init__(self, detector: ShapeDetector, normalised_input: bool = False, upscale: int = 1) -> None:
        super().__init__()
        self.detector = detector
        self.normalised_input = normalised_input
        self.upscale = upscale

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if self.normalised_input:
            images = (images + 1) / 2
        if self.upscale != 1:
            images = functional.interpolate(
                images, scale_factor=float(self.upscale), mode="bilinear", align_corners=False
            )
        return self.detector.class_logits(images).amax(dim=(2, 3))
