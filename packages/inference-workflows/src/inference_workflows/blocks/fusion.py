"""Fusion: `detections_consensus`, a vote between several models' detections on the same image.

A detection is kept when enough sources (one vote each: the detection itself plus the best
overlapping detection of every other source) agree on it; the agreeing detections are merged into
one (class, confidence, box or mask aggregated as the step asks). `object_present` and
`presence_confidence` then say whether the required objects are among the merged detections.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import supervision as sv

from inference_workflows import detections as D
from inference_workflows import kinds as K
from inference_workflows.blocks.base import (
    Block,
    Field,
    Output,
    is_bool,
    is_int,
    is_number,
    is_optional_str_list,
    one_of,
)
from inference_workflows.spec import is_selector

AGGREGATIONS = ("average", "max", "min")
MASK_AGGREGATIONS = ("intersection", "union", "max", "min")
PRESENCE_OVER_ALL_CLASSES = "any_object"

#: Lineage carried from the first merged detection onto the merged one.
_CARRIED_KEYS = (
    D.PARENT_ID,
    D.PARENT_COORDINATES,
    D.PARENT_DIMENSIONS,
    D.ROOT_PARENT_ID,
    D.ROOT_PARENT_COORDINATES,
    D.ROOT_PARENT_DIMENSIONS,
    D.IMAGE_DIMENSIONS,
)


def _check_required_objects(value: Any) -> str | None:
    if value is None or is_int(1)(value) is None:
        return None
    if isinstance(value, dict) and all(
        isinstance(name, str) and is_int(1)(count) is None for name, count in value.items()
    ):
        return None
    return f"expected a whole number of at least 1 or an object of class name to such a number, got {value!r}"


class DetectionsConsensus(Block):
    name = "roboflow_core/detections_consensus@v1"
    aliases = ("DetectionsConsensus",)
    title = "Detections Consensus"
    block_type = "fusion"
    description = (
        "Combine predictions from multiple detections models to make a decision about object presence."
    )
    fields = (
        Field(
            "predictions_batches",
            K.DETECTIONS,
            aliases=("predictions",),
            container="list",
            description="Selectors of the detections of several models made on the same image.",
        ),
        Field("required_votes", (K.INTEGER,), check=is_int(1), type_hint="int"),
        Field("class_aware", (K.BOOLEAN,), True, is_bool, "bool"),
        Field("iou_threshold", (K.FLOAT_ZERO_TO_ONE,), 0.3, is_number(0, 1), "float"),
        Field("confidence", (K.FLOAT_ZERO_TO_ONE,), 0.0, is_number(0, 1), "float"),
        Field("classes_to_consider", (K.LIST_OF_VALUES,), None, is_optional_str_list, "List[str]"),
        Field(
            "required_objects",
            (K.INTEGER, K.DICTIONARY),
            None,
            _check_required_objects,
            "Union[int, Dict[str, int]]",
        ),
        Field("presence_confidence_aggregation", (), "max", one_of(*AGGREGATIONS), "str"),
        Field("detections_merge_confidence_aggregation", (), "average", one_of(*AGGREGATIONS), "str"),
        Field("detections_merge_coordinates_aggregation", (), "average", one_of(*AGGREGATIONS), "str"),
        Field("detections_merge_mask_aggregation", (), "union", one_of(*MASK_AGGREGATIONS), "str"),
    )
    outputs = (
        Output("predictions", (K.OBJECT_DETECTION_PREDICTION, K.INSTANCE_SEGMENTATION_PREDICTION)),
        Output("object_present", (K.BOOLEAN, K.DICTIONARY)),
        Output("presence_confidence", (K.FLOAT_ZERO_TO_ONE, K.DICTIONARY)),
    )

    @classmethod
    def check_definition(cls, definition: dict[str, Any]) -> str | None:
        key = "predictions_batches" if "predictions_batches" in definition else "predictions"
        sources = definition.get(key)
        if sources is None:
            return None  # the engine reports the missing required field
        if not isinstance(sources, list) or not sources or not all(is_selector(item) for item in sources):
            return (
                f"{key}: expected a non-empty list of selectors of detections "
                f"(such as ['$steps.a.predictions', '$steps.b.predictions']), got {sources!r}."
            )
        return None

    def run(
        self,
        predictions_batches: list[sv.Detections],
        required_votes: int,
        class_aware: bool,
        iou_threshold: float,
        confidence: float,
        classes_to_consider: list[str] | None,
        required_objects: int | dict[str, int] | None,
        presence_confidence_aggregation: str,
        detections_merge_confidence_aggregation: str,
        detections_merge_coordinates_aggregation: str,
        detections_merge_mask_aggregation: str,
    ) -> dict[str, Any]:
        sources = list(predictions_batches)
        if all(len(source) == 0 for source in sources):
            return {"predictions": sv.Detections.empty(), "object_present": False, "presence_confidence": {}}
        _check_same_image(sources)
        if classes_to_consider:
            sources = [
                source[np.isin(source.data[D.CLASS_NAME], classes_to_consider)]
                for source in sources
                if D.CLASS_NAME in source.data
            ]
        voted: set[str] = set()
        merged: list[sv.Detections] = []
        for source_index, detection in _each_detection(sources):
            if detection.data[D.DETECTION_ID][0] in voted:
                continue
            matches = _best_match_per_source(
                detection, source_index, sources, iou_threshold, class_aware, voted
            )
            if len(matches) < required_votes - 1:
                continue
            group = _with_common_masks([detection, *matches])
            fused = _merge(
                sv.Detections.merge(group),
                detections_merge_confidence_aggregation,
                detections_merge_coordinates_aggregation,
                detections_merge_mask_aggregation,
            )
            if fused.confidence[0] < confidence:
                continue
            merged.append(fused)
            voted.update(str(item.data[D.DETECTION_ID][0]) for item in (detection, *matches))
        consensus = sv.Detections.merge(merged)
        present, presence = _presence(
            consensus, class_aware, presence_confidence_aggregation, required_objects
        )
        return {"predictions": consensus, "object_present": present, "presence_confidence": presence}


def _check_same_image(sources: list[sv.Detections]) -> None:
    parents = {
        str(parent) for source in sources if D.PARENT_ID in source.data for parent in source.data[D.PARENT_ID]
    }
    if len(parents) != 1:
        raise ValueError(
            "detections_consensus can only combine detections made on the same image, "
            f"but the sources come from {len(parents)} different images."
        )


def _each_detection(
    sources: list[sv.Detections], skip: int | None = None
) -> Iterator[tuple[int, sv.Detections]]:
    for source_index, source in enumerate(sources):
        if source_index == skip:
            continue
        for position in range(len(source)):
            yield source_index, source[position : position + 1]


def _best_match_per_source(
    detection: sv.Detections,
    source_index: int,
    sources: list[sv.Detections],
    iou_threshold: float,
    class_aware: bool,
    voted: set[str],
) -> list[sv.Detections]:
    """The most overlapping (IoU above the threshold) not yet used detection of each other source."""
    best: dict[int, tuple[sv.Detections, float]] = {}
    for other_index, other in _each_detection(sources, skip=source_index):
        if other.data[D.DETECTION_ID][0] in voted:
            continue
        if class_aware and detection.data[D.CLASS_NAME][0] != other.data[D.CLASS_NAME][0]:
            continue
        iou = float(sv.box_iou_batch(detection.xyxy, other.xyxy)[0][0])
        if math.isnan(iou) or iou <= iou_threshold:
            continue
        if other_index not in best or best[other_index][1] < iou:
            best[other_index] = (other, iou)
    return [match for match, _ in best.values()]


def _with_common_masks(group: list[sv.Detections]) -> list[sv.Detections]:
    """Give mask-less members an empty mask when any member has one, so they merge as one kind."""
    shape = next((member.mask.shape for member in group if member.mask is not None), None)
    if shape is None:
        return group
    for member in group:
        if member.mask is None:
            member.mask = np.zeros(shape, dtype=bool)
    return group


def _merge(group: sv.Detections, confidence_mode: str, boxes_mode: str, mask_mode: str) -> sv.Detections:
    class_name, class_id = _CLASS_CHOICE[confidence_mode](group)
    mask = None
    if group.mask is not None:
        mask = np.array([_MASK_CHOICE[mask_mode](group)])
        box = sv.mask_to_xyxy(mask)[0]
    else:
        box = _BOX_CHOICE[boxes_mode](group)
    data = {key: np.array([group.data[key][0]]) for key in _CARRIED_KEYS if key in group.data}
    data[D.CLASS_NAME] = np.array([class_name])
    data[D.DETECTION_ID] = np.array([str(uuid.uuid4())])
    data[D.PREDICTION_TYPE] = np.array(["object-detection"])
    return sv.Detections(
        xyxy=np.array([box], dtype=np.float64),
        mask=mask,
        class_id=np.array([class_id]),
        confidence=np.array([_aggregate(group.confidence, confidence_mode)], dtype=np.float64),
        data=data,
    )


def _majority_class(group: sv.Detections) -> tuple[str, int]:
    votes = Counter(
        (str(name), int(class_id)) for name, class_id in zip(group.data[D.CLASS_NAME], group.class_id)
    )
    return votes.most_common(1)[0][0]


def _class_at(pick: Callable[[list[float]], float]) -> Callable[[sv.Detections], tuple[str, int]]:
    def choose(group: sv.Detections) -> tuple[str, int]:
        confidences = group.confidence.astype(float).tolist()
        position = confidences.index(pick(confidences))
        return str(group.data[D.CLASS_NAME][position]), int(group.class_id[position])

    return choose


def _at_area(pick: Callable[[list[float]], float]) -> Callable[[sv.Detections], int]:
    def position(group: sv.Detections) -> int:
        areas = group.area.astype(float).tolist()
        return areas.index(pick(areas))

    return position


_CLASS_CHOICE = {"average": _majority_class, "max": _class_at(max), "min": _class_at(min)}
_BOX_CHOICE = {
    "average": lambda group: tuple(np.mean(group.xyxy, axis=0)),
    "max": lambda group: tuple(group.xyxy[_at_area(max)(group)]),
    "min": lambda group: tuple(group.xyxy[_at_area(min)(group)]),
}
_MASK_CHOICE = {
    "union": lambda group: np.any(group.mask, axis=0),
    "intersection": lambda group: np.all(group.mask, axis=0),
    "max": lambda group: group.mask[_at_area(max)(group)],
    "min": lambda group: group.mask[_at_area(min)(group)],
}
_AGGREGATE = {"average": statistics.mean, "max": max, "min": min}


def _aggregate(values: np.ndarray, mode: str) -> float:
    return float(_AGGREGATE[mode](np.asarray(values).astype(float).tolist()))


def _presence(
    consensus: sv.Detections,
    class_aware: bool,
    mode: str,
    required_objects: int | dict[str, int] | None,
) -> tuple[bool, dict[str, float]]:
    if len(consensus) == 0:
        return False, {}
    required = 0 if required_objects is None else required_objects
    if isinstance(required, dict) and not class_aware:
        required = sum(required.values())
    if isinstance(required, int) and len(consensus) < required:
        return False, {}
    if not class_aware:
        return True, {PRESENCE_OVER_ALL_CLASSES: _aggregate(consensus.confidence, mode)}
    by_class = {
        str(name): consensus[consensus.data[D.CLASS_NAME] == name]
        for name in dict.fromkeys(consensus.data[D.CLASS_NAME])
    }
    if isinstance(required, dict) and any(
        len(by_class.get(name, ())) < count for name, count in required.items()
    ):
        return False, {}
    return True, {name: _aggregate(members.confidence, mode) for name, members in by_class.items()}


FUSION_BLOCKS = [DetectionsConsensus]
