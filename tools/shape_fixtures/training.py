"""Targets, losses and the wall-clock training loop shared by every fixture task."""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as functional
from torch import nn

from shape_fixtures.data import (
    GRID,
    POSE_KEYPOINTS,
    PROTO_SIZE,
    STRIDE,
    SceneSet,
    flip_detection,
    flip_keypoints,
    flip_masks,
    to_network_input,
)
from shape_fixtures.networks import ShapeDetector, decode_boxes, decode_keypoints

# --- loss -------------------------------------------------------------------

# A cell is a positive for a shape when its centre lies inside the shape's box
# and within this many cells of the box centre (the centre cell always is).
POSITIVE_RADIUS_CELLS = 1.5


def assign_targets(
    boxes: np.ndarray, classes: np.ndarray, class_count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-cell training targets for one image.

    Returns class targets (C, G, G) in {0, 1}, box targets (4, G, G) x1y1x2y2,
    and the owner index of each positive cell (G, G), -1 for negatives. When
    two shapes claim a cell, the smaller one wins: it has fewer cells to spare.
    """
    class_targets = np.zeros((class_count, GRID, GRID), np.float32)
    box_targets = np.zeros((4, GRID, GRID), np.float32)
    owners = np.full((GRID, GRID), -1, np.int64)
    owner_area = np.full((GRID, GRID), np.inf, np.float32)
    centres = (np.arange(GRID, dtype=np.float32) + 0.5) * STRIDE
    for index, box in enumerate(boxes):
        x1, y1, x2, y2 = box
        centre_x, centre_y = (x1 + x2) / 2, (y1 + y2) / 2
        near_x = (
            (np.abs(centres - centre_x) <= POSITIVE_RADIUS_CELLS * STRIDE) & (centres > x1) & (centres < x2)
        )
        near_y = (
            (np.abs(centres - centre_y) <= POSITIVE_RADIUS_CELLS * STRIDE) & (centres > y1) & (centres < y2)
        )
        claimed = near_y[:, None] & near_x[None, :]
        centre_cell = (min(int(centre_y // STRIDE), GRID - 1), min(int(centre_x // STRIDE), GRID - 1))
        claimed[centre_cell] = True
        area = (x2 - x1) * (y2 - y1)
        claimed &= area < owner_area
        owners[claimed] = index
        owner_area[claimed] = area
    for index, (box, class_id) in enumerate(zip(boxes, classes, strict=True)):
        mine = owners == index
        class_targets[class_id][mine] = 1.0
        box_targets[:, mine] = np.asarray(box, np.float32)[:, None]
    return class_targets, box_targets, owners


def giou_loss(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - generalised IoU for (N, 4) x1y1x2y2 boxes."""
    inter_x1 = torch.maximum(predicted[:, 0], target[:, 0])
    inter_y1 = torch.maximum(predicted[:, 1], target[:, 1])
    inter_x2 = torch.minimum(predicted[:, 2], target[:, 2])
    inter_y2 = torch.minimum(predicted[:, 3], target[:, 3])
    intersection = (inter_x2 - inter_x1).clamp(min=0) * (inter_y2 - inter_y1).clamp(min=0)
    area_predicted = (predicted[:, 2] - predicted[:, 0]) * (predicted[:, 3] - predicted[:, 1])
    area_target = (target[:, 2] - target[:, 0]) * (target[:, 3] - target[:, 1])
    union = area_predicted + area_target - intersection + 1e-6
    iou = intersection / union
    hull_width = torch.maximum(predicted[:, 2], target[:, 2]) - torch.minimum(predicted[:, 0], target[:, 0])
    hull_height = torch.maximum(predicted[:, 3], target[:, 3]) - torch.minimum(predicted[:, 1], target[:, 1])
    hull = hull_width * hull_height + 1e-6
    return 1 - iou + (hull - union) / hull


def detection_loss(
    class_logits: torch.Tensor, raw_box: torch.Tensor, class_targets: torch.Tensor, box_targets: torch.Tensor
) -> tuple[torch.Tensor, dict[str, float]]:
    positive = class_targets.amax(dim=1) > 0  # (B, G, G)
    positive_count = max(int(positive.sum()), 1)
    class_loss = (
        functional.binary_cross_entropy_with_logits(class_logits, class_targets, reduction="sum")
        / positive_count
    )
    predicted = decode_boxes(raw_box).permute(0, 2, 3, 1)[positive]
    wanted = box_targets.permute(0, 2, 3, 1)[positive]
    box_giou = giou_loss(predicted, wanted).mean()
    box_l1 = (predicted - wanted).abs().mean() / STRIDE
    total = class_loss + 2.0 * box_giou + box_l1
    parts = {"cls": class_loss.item(), "giou": box_giou.item(), "l1": box_l1.item()}
    return total, parts


MASK_SAMPLES_PER_BATCH = 192


def segmentation_loss(
    outputs: tuple[torch.Tensor, ...], batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, dict[str, float]]:
    """Detection loss plus per-pixel BCE of positive cells' masks inside their box.

    Like YOLOv8-seg, only pixels inside the ground-truth box count, since the
    decoder crops masks to the box anyway.
    """
    class_logits, raw_box, coefficients, protos = outputs
    loss, parts = detection_loss(class_logits, raw_box, batch["class_targets"], batch["box_targets"])
    image_index, row, column = torch.nonzero(batch["owners"] >= 0, as_tuple=True)
    if len(image_index) > MASK_SAMPLES_PER_BATCH:
        chosen = torch.randperm(len(image_index))[:MASK_SAMPLES_PER_BATCH]
        image_index, row, column = image_index[chosen], row[chosen], column[chosen]
    owner = batch["owners"][image_index, row, column]
    cell_coefficients = coefficients[image_index, :, row, column]  # (P, 32)
    mask_logits = torch.einsum("pc,pchw->phw", cell_coefficients, protos[image_index])
    target = batch["masks"][owner]
    inside = _inside_box_grid(batch["object_boxes"][owner] / 4)
    pixel_loss = functional.binary_cross_entropy_with_logits(mask_logits, target, reduction="none")
    mask_loss = ((pixel_loss * inside).sum(dim=(1, 2)) / inside.sum(dim=(1, 2)).clamp(min=1)).mean()
    parts["mask"] = mask_loss.item()
    return loss + 2.0 * mask_loss, parts


def _inside_box_grid(boxes: torch.Tensor, size: int = PROTO_SIZE) -> torch.Tensor:
    """(P, size, size) 1.0 where a grid pixel centre lies inside each x1y1x2y2 box (grid units)."""
    steps = torch.arange(size, dtype=torch.float32) + 0.5
    inside_x = (steps[None, :] >= boxes[:, 0:1]) & (steps[None, :] <= boxes[:, 2:3])
    inside_y = (steps[None, :] >= boxes[:, 1:2]) & (steps[None, :] <= boxes[:, 3:4])
    return (inside_y[:, :, None] & inside_x[:, None, :]).float()


def pose_loss(
    outputs: tuple[torch.Tensor, ...], batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, dict[str, float]]:
    """Detection loss plus corner L1 and visibility BCE, taking the best cyclic start.

    A square looks the same after a quarter turn, so which corner comes
    "first" is only a convention; scoring every cyclic shift of the target
    and keeping the best lets the net learn a smooth function of rotation.
    """
    class_logits, raw_box, raw_keypoints = outputs
    loss, parts = detection_loss(class_logits, raw_box, batch["class_targets"], batch["box_targets"])
    image_index, row, column = torch.nonzero(batch["owners"] >= 0, as_tuple=True)
    predicted = decode_keypoints(raw_keypoints)[image_index, :, :, row, column]  # (P, K, 3)
    raw_visibility = raw_keypoints.view(raw_keypoints.shape[0], POSE_KEYPOINTS, 3, GRID, GRID)[
        image_index, :, 2, row, column
    ]
    target = batch["keypoints"][batch["owners"][image_index, row, column]]  # (P, K, 3)
    shifted = torch.stack(
        [target.roll(shift, dims=1) for shift in range(POSE_KEYPOINTS)], dim=1
    )  # (P, S, K, 3)
    distance = (predicted[:, None, :, :2] - shifted[..., :2]).abs().sum(dim=-1).mean(
        dim=-1
    ) / STRIDE  # (P, S)
    best_distance, best_shift = distance.min(dim=1)
    best_target = shifted[torch.arange(len(best_shift)), best_shift]
    visibility_loss = functional.binary_cross_entropy_with_logits(raw_visibility, best_target[..., 2])
    keypoint_loss = best_distance.mean() if len(best_distance) else raw_keypoints.sum() * 0
    parts["kpt"] = keypoint_loss.item()
    parts["vis"] = visibility_loss.item() if len(best_distance) else 0.0
    total = loss + 2.0 * keypoint_loss + (0.5 * visibility_loss if len(best_distance) else 0)
    return total, parts


# --- training ---------------------------------------------------------------


def scene_batches(data: SceneSet, batch_size: int, rng: np.random.Generator, class_count: int):
    """Endless shuffled batches of scene tensors with random flips.

    Each batch is a dict: images, class_targets, box_targets, owners (per cell
    the index of its shape in the batch's shape list, -1 for none),
    object_boxes, and masks / keypoints when the set has them.
    """
    while True:
        order = rng.permutation(len(data.images))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            yield _collate(
                [_scene_sample(data, index, rng, class_count) for index in order[start : start + batch_size]]
            )


def _scene_sample(
    data: SceneSet, index: int, rng: np.random.Generator, class_count: int
) -> dict[str, np.ndarray]:
    horizontal, vertical = rng.random() < 0.5, rng.random() < 0.5
    image, boxes = flip_detection(data.images[index], data.boxes[index], horizontal, vertical)
    class_targets, box_targets, owners = assign_targets(boxes, data.classes[index], class_count)
    sample = {
        "images": to_network_input(image),
        "class_targets": class_targets,
        "box_targets": box_targets,
        "owners": owners,
        "object_boxes": boxes,
    }
    if data.masks is not None:
        sample["masks"] = flip_masks(data.masks[index], horizontal, vertical).astype(np.float32) / 255.0
    if data.keypoints is not None:
        sample["keypoints"] = flip_keypoints(data.keypoints[index], horizontal, vertical)
    return sample


def _collate(samples: list[dict[str, np.ndarray]]) -> dict[str, torch.Tensor]:
    """Stack per-image arrays; concatenate per-shape arrays and re-number owners."""
    batch = {
        name: torch.from_numpy(np.stack([sample[name] for sample in samples]))
        for name in ("images", "class_targets", "box_targets")
    }
    offsets = np.cumsum([0] + [len(sample["object_boxes"]) for sample in samples])
    owners = [
        np.where(sample["owners"] >= 0, sample["owners"] + offset, -1)
        for sample, offset in zip(samples, offsets[:-1], strict=True)
    ]
    batch["owners"] = torch.from_numpy(np.stack(owners))
    for name in ("object_boxes", "masks", "keypoints"):
        if name in samples[0]:
            batch[name] = torch.from_numpy(
                np.ascontiguousarray(np.concatenate([sample[name] for sample in samples]))
            )
    return batch


def train_detector(
    data: SceneSet,
    minutes: float,
    batch_size: int,
    seed: int,
    detector: ShapeDetector | None = None,
    peak_learning_rate: float = 3e-3,
) -> ShapeDetector:
    torch.manual_seed(seed)
    detector = detector or ShapeDetector()

    def loss_function(outputs, batch):
        return detection_loss(*outputs, batch["class_targets"], batch["box_targets"])

    batches = scene_batches(data, batch_size, np.random.default_rng(seed), detector.class_count)
    return train_model(detector, batches, loss_function, minutes, peak_learning_rate)


def train_model(
    model: nn.Module, batches, loss_function, minutes: float, peak_learning_rate: float
) -> nn.Module:
    """AdamW for a fixed wall-clock time; batches are dicts with an "images" tensor."""
    optimiser = torch.optim.AdamW(model.parameters(), lr=peak_learning_rate, weight_decay=5e-4)
    deadline = time.monotonic() + minutes * 60
    started = time.monotonic()
    step = 0
    model.train()
    while time.monotonic() < deadline:
        progress = (time.monotonic() - started) / (minutes * 60)
        _set_learning_rate(optimiser, peak_learning_rate, progress)
        batch = next(batches)
        loss, parts = loss_function(model(batch["images"]), batch)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        step += 1
        if step % 50 == 0:
            details = " ".join(f"{name}={value:.3f}" for name, value in parts.items())
            print(f"step {step} {progress:5.1%} loss={loss.item():.3f} {details}", flush=True)
    model.eval()
    return model


def _set_learning_rate(optimiser: torch.optim.Optimizer, peak: float, progress: float) -> None:
    """Short linear warm-up, then cosine decay to 2% of the peak, over wall-clock time."""
    warmup = 0.03
    if progress < warmup:
        rate = peak * max(progress / warmup, 0.05)
    else:
        cosine = 0.5 * (1 + math.cos(math.pi * min((progress - warmup) / (1 - warmup), 1.0)))
        rate = peak * (0.02 + 0.98 * cosine)
    for group in optimiser.param_groups:
        group["lr"] = rate


def image_label_batches(
    images: np.ndarray, labels: np.ndarray, batch_size: int, rng: np.random.Generator, to_input
):
    """Endless shuffled {"images", "labels"} batches with random flips (flips keep every class)."""
    while True:
        order = rng.permutation(len(images))
        for start in range(0, len(order) - batch_size + 1, batch_size):
            chosen = order[start : start + batch_size]
            inputs = [to_input(_random_flip(images[index], rng)) for index in chosen]
            yield {"images": torch.from_numpy(np.stack(inputs)), "labels": torch.from_numpy(labels[chosen])}


def _random_flip(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        image = image[:, ::-1]
    if rng.random() < 0.5:
        image = image[::-1]
    return image


def train_or_load(model: nn.Module, options: argparse.Namespace, train) -> nn.Module:
    """Train (and save when asked), or load trained weights to only re-export."""
    if options.from_checkpoint:
        model.load_state_dict(torch.load(options.from_checkpoint, map_location="cpu"))
        model.eval()
        return model
    if options.resume:  # more training for a model saved with --checkpoint (use instead of --init)
        model.load_state_dict(torch.load(options.resume, map_location="cpu"))
    model = train(model)
    if options.checkpoint:
        torch.save(model.state_dict(), options.checkpoint)
    return model


def timed_build(build):
    started = time.monotonic()
    data = build()
    print(f"training set ready after {time.monotonic() - started:.0f}s", flush=True)
    return data
