"""Task names, as Roboflow spells them on the wire."""

from __future__ import annotations

OBJECT_DETECTION = "object-detection"
INSTANCE_SEGMENTATION = "instance-segmentation"
CLASSIFICATION = "classification"
KEYPOINT_DETECTION = "keypoint-detection"
SEMANTIC_SEGMENTATION = "semantic-segmentation"

ALL_TASKS = (
    OBJECT_DETECTION, INSTANCE_SEGMENTATION, CLASSIFICATION, KEYPOINT_DETECTION, SEMANTIC_SEGMENTATION,
)

# Ultralytics' `task` metadata values, and Roboflow's occasional variants, to our names.
TASK_ALIASES = {
    "detect": OBJECT_DETECTION,
    "segment": INSTANCE_SEGMENTATION,
    "classify": CLASSIFICATION,
    "pose": KEYPOINT_DETECTION,
    "keypoints-detection": KEYPOINT_DETECTION,
    "single-label-classification": CLASSIFICATION,
    "multi-label-classification": CLASSIFICATION,
}


def normalise_task(task: str) -> str | None:
    task = task.strip().lower()
    if task in ALL_TASKS:
        return task
    return TASK_ALIASES.get(task)
