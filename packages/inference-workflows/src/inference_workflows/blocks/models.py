"""Roboflow model blocks (@v1 and @v2): detection, segmentation, keypoints, classification.

They run the core's models in-process through the model manager, with the same parameters as
the model routes, and answer what Roboflow's blocks answer: Detections with lineage, or the
classification response with `prediction_type`, `parent_id` and `root_parent_id` added.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from inference_core import tasks
from inference_core.errors import InvalidInputError

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
from inference_workflows.blocks.fields import IMAGES, confidence
from inference_workflows.images import WorkflowImage

MODEL_ID = Field("model_id", (K.ROBOFLOW_MODEL_ID,), type_hint="str", description="Model id, e.g. project/3.")
COMMON = (
    Field("disable_active_learning", (K.BOOLEAN,), True, is_bool, "bool"),
    Field("active_learning_target_dataset", (K.ROBOFLOW_PROJECT,), None),
)
DETECTION_FIELDS = (
    IMAGES,
    MODEL_ID,
    confidence(),
    Field("class_filter", (K.LIST_OF_VALUES,), None, is_optional_str_list, "List[str]"),
    Field("iou_threshold", (K.FLOAT_ZERO_TO_ONE,), 0.3, is_number(0, 1), "float"),
    Field("max_detections", (K.INTEGER,), 300, is_int(1), "int"),
    Field("class_agnostic_nms", (K.BOOLEAN,), False, is_bool, "bool"),
    Field("max_candidates", (K.INTEGER,), 3000, is_int(1), "int"),
    *COMMON,
)


class ModelBlock(Block):
    block_type = "model"
    task: ClassVar[str]
    multi_label: ClassVar[bool | None] = None  # classification only: which layout is required

    def run_many(self, calls: list[dict[str, Any]]) -> list[Any]:
        """Elements sharing a model and parameters go through the model as one batch."""
        results: list[Any] = [None] * len(calls)
        groups: dict[str, list[int]] = {}
        for position, call in enumerate(calls):
            key = repr(sorted((k, v) for k, v in call.items() if k != "images"))
            groups.setdefault(key, []).append(position)
        for positions in groups.values():
            first = calls[positions[0]]
            images = [calls[position]["images"] for position in positions]
            for position, result in zip(positions, self._infer(images, first)):
                results[position] = result
        return results

    def _infer(self, images: list[WorkflowImage], call: dict[str, Any]) -> list[dict[str, Any]]:
        model_id = call["model_id"]
        model = self.context.manager.get(model_id, api_key=self.context.api_key)
        if model.task != self.task:
            raise InvalidInputError(
                f"Model {model_id!r} is a {model.task} model; block {self.name} needs {self.task}."
            )
        parameters = {
            key: value for key, value in call.items() if key in INFERENCE_PARAMETERS and value is not None
        }
        responses = model.infer([image.pixels for image in images], **parameters)
        return [self._result(response.to_dict(), image, call) for response, image in zip(responses, images)]

    def _result(self, response: dict[str, Any], image: WorkflowImage, call: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


INFERENCE_PARAMETERS = {
    "confidence",
    "iou_threshold",
    "max_detections",
    "class_agnostic_nms",
    "max_candidates",
    "class_filter",
    "mask_decode_mode",
    "tradeoff_factor",
    "keypoint_confidence",
}


class DetectionsModelBlock(ModelBlock):
    prediction_kind: ClassVar[str]
    with_model_id: ClassVar[bool] = False

    def _result(self, response: dict[str, Any], image: WorkflowImage, call: dict[str, Any]) -> dict[str, Any]:
        detections = D.from_response(response, image, self.task)
        class_filter = call.get("class_filter")
        if class_filter is not None and len(detections):
            detections = detections[np.isin(detections.data[D.CLASS_NAME], class_filter)]
        result = {"inference_id": response.get("inference_id"), "predictions": detections}
        if self.with_model_id:
            result["model_id"] = call["model_id"]
        return result


def _detection_outputs(kind: str, v2: bool) -> tuple[Output, ...]:
    inference_id = Output("inference_id", (K.INFERENCE_ID if v2 else K.STRING,))
    outputs = (inference_id, Output("predictions", (kind,)))
    return (*outputs, Output("model_id", (K.ROBOFLOW_MODEL_ID,))) if v2 else outputs


class ObjectDetectionModelV1(DetectionsModelBlock):
    name = "roboflow_core/roboflow_object_detection_model@v1"
    aliases = ("RoboflowObjectDetectionModel", "ObjectDetectionModel")
    title = "Object Detection Model"
    task = tasks.OBJECT_DETECTION
    fields = DETECTION_FIELDS
    outputs = _detection_outputs(K.OBJECT_DETECTION_PREDICTION, v2=False)


class ObjectDetectionModelV2(ObjectDetectionModelV1):
    name = "roboflow_core/roboflow_object_detection_model@v2"
    aliases = ()
    with_model_id = True
    outputs = _detection_outputs(K.OBJECT_DETECTION_PREDICTION, v2=True)


SEGMENTATION_FIELDS = (
    *DETECTION_FIELDS,
    Field("mask_decode_mode", (K.STRING,), "accurate", one_of("accurate", "tradeoff", "fast"), "str"),
    Field("tradeoff_factor", (K.FLOAT_ZERO_TO_ONE,), 0.0, is_number(0, 1), "float"),
)


class InstanceSegmentationModelV1(DetectionsModelBlock):
    name = "roboflow_core/roboflow_instance_segmentation_model@v1"
    aliases = ("RoboflowInstanceSegmentationModel", "InstanceSegmentationModel")
    title = "Instance Segmentation Model"
    task = tasks.INSTANCE_SEGMENTATION
    fields = SEGMENTATION_FIELDS
    outputs = _detection_outputs(K.INSTANCE_SEGMENTATION_PREDICTION, v2=False)


class InstanceSegmentationModelV2(InstanceSegmentationModelV1):
    name = "roboflow_core/roboflow_instance_segmentation_model@v2"
    aliases = ()
    with_model_id = True
    outputs = _detection_outputs(K.INSTANCE_SEGMENTATION_PREDICTION, v2=True)


KEYPOINT_FIELDS = (
    *DETECTION_FIELDS,
    Field("keypoint_confidence", (K.FLOAT_ZERO_TO_ONE,), 0.0, is_number(0, 1), "float"),
)


class KeypointDetectionModelV1(DetectionsModelBlock):
    name = "roboflow_core/roboflow_keypoint_detection_model@v1"
    aliases = ("RoboflowKeypointDetectionModel", "KeypointsDetectionModel")
    title = "Keypoint Detection Model"
    task = tasks.KEYPOINT_DETECTION
    fields = KEYPOINT_FIELDS
    outputs = _detection_outputs(K.KEYPOINT_DETECTION_PREDICTION, v2=False)


class KeypointDetectionModelV2(KeypointDetectionModelV1):
    name = "roboflow_core/roboflow_keypoint_detection_model@v2"
    aliases = ()
    with_model_id = True
    outputs = _detection_outputs(K.KEYPOINT_DETECTION_PREDICTION, v2=True)


CLASSIFICATION_FIELDS = (IMAGES, MODEL_ID, confidence(), *COMMON)


class ClassificationModelV1(ModelBlock):
    name = "roboflow_core/roboflow_classification_model@v1"
    aliases = ("RoboflowClassificationModel", "ClassificationModel")
    title = "Single-Label Classification Model"
    task = tasks.CLASSIFICATION
    fields = CLASSIFICATION_FIELDS
    outputs = (Output("predictions", (K.CLASSIFICATION_PREDICTION,)), Output("inference_id", (K.STRING,)))
    with_model_id: ClassVar[bool] = False
    multi_label = False

    def _result(self, response: dict[str, Any], image: WorkflowImage, call: dict[str, Any]) -> dict[str, Any]:
        is_multi_label = isinstance(response.get("predictions"), dict)
        if is_multi_label != self.multi_label:
            wanted = "multi-label" if self.multi_label else "single-label"
            raise InvalidInputError(f"Model {call['model_id']!r} is not a {wanted} classification model.")
        prediction = {**response, "prediction_type": "classification"}
        prediction.pop("visualization", None)
        prediction["parent_id"] = image.parent.parent_id
        prediction["root_parent_id"] = image.root.parent_id
        result = {"predictions": prediction, "inference_id": response.get("inference_id")}
        if self.with_model_id:
            result["model_id"] = call["model_id"]
        return result


class ClassificationModelV2(ClassificationModelV1):
    name = "roboflow_core/roboflow_classification_model@v2"
    aliases = ()
    with_model_id = True
    outputs = (
        Output("predictions", (K.CLASSIFICATION_PREDICTION,)),
        Output("inference_id", (K.INFERENCE_ID,)),
        Output("model_id", (K.ROBOFLOW_MODEL_ID,)),
    )


class MultiLabelClassificationModelV1(ClassificationModelV1):
    name = "roboflow_core/roboflow_multi_label_classification_model@v1"
    aliases = ("RoboflowMultiLabelClassificationModel", "MultiLabelClassificationModel")
    title = "Multi-Label Classification Model"
    multi_label = True


class MultiLabelClassificationModelV2(ClassificationModelV2):
    name = "roboflow_core/roboflow_multi_label_classification_model@v2"
    title = "Multi-Label Classification Model"
    multi_label = True


MODEL_BLOCKS = [
    ObjectDetectionModelV1,
    ObjectDetectionModelV2,
    InstanceSegmentationModelV1,
    InstanceSegmentationModelV2,
    KeypointDetectionModelV1,
    KeypointDetectionModelV2,
    ClassificationModelV1,
    ClassificationModelV2,
    MultiLabelClassificationModelV1,
    MultiLabelClassificationModelV2,
]
