"""The architectures core decodes, registered through the same hook as any plugin's.

Object detection, instance segmentation and pose each come in the three YOLO output layouts
(v8/v11, v5/v7 with objectness, end-to-end without NMS); classification has one; YOLO-NAS
DeepLabV3+ semantic segmentation and RF-DETR (detection, segmentation) are their own modules.
"""

from __future__ import annotations

from typing import ClassVar

from inference_core import tasks
from inference_core.images import ImageLoader
from inference_core.models.architecture import Match, ModelArchitecture
from inference_core.models.base import VisionModel
from inference_core.models.classification import Classifier
from inference_core.models.detection import OutputLayout, YoloDetector, layout_match
from inference_core.models.keypoints import YoloPoseDetector
from inference_core.models.rfdetr import RFDetrDetection, RFDetrSegmentation
from inference_core.models.segmentation import YoloSegmenter
from inference_core.models.semantic_segmentation import DeepLabV3PlusSegmentation
from inference_core.models.yolo_nas import YoloNasDetection
from inference_core.onnx_metadata import parse_literal
from inference_core.plugins import hookimpl
from inference_core.runtime import Session
from inference_core.store import ModelArtifact


class YoloArchitecture(ModelArchitecture):
    """A YOLO model class decoding one output layout; subclasses only name the pair."""

    model_class: ClassVar[type[YoloDetector]]
    layout: ClassVar[OutputLayout]

    @classmethod
    def match(cls, artifact: ModelArtifact, session: Session) -> Match:
        end2end = parse_literal(artifact.file_metadata.get("end2end"), default=None)
        end2end = end2end if isinstance(end2end, bool) else None
        return layout_match(
            cls.layout, tuple(session.outputs[0].shape), len(artifact.class_names),
            cls.model_class.extra_values_for(artifact, session), artifact.model_type, end2end,
        )

    @classmethod
    def build(cls, artifact: ModelArtifact, session: Session, image_loader: ImageLoader) -> VisionModel:
        return cls.model_class(artifact, session, image_loader, layout=cls.layout)


class YoloV8Detection(YoloArchitecture):
    name, task, model_class, layout = "yolov8", tasks.OBJECT_DETECTION, YoloDetector, OutputLayout.YOLOV8


class YoloV5Detection(YoloArchitecture):
    name, task, model_class, layout = "yolov5", tasks.OBJECT_DETECTION, YoloDetector, OutputLayout.YOLOV5


class YoloEndToEndDetection(YoloArchitecture):
    name, task, model_class, layout = "yolo-end2end", tasks.OBJECT_DETECTION, YoloDetector, OutputLayout.END_TO_END


class YoloV8Segmentation(YoloArchitecture):
    name, task, model_class, layout = "yolov8-seg", tasks.INSTANCE_SEGMENTATION, YoloSegmenter, OutputLayout.YOLOV8


class YoloV5Segmentation(YoloArchitecture):
    name, task, model_class, layout = "yolov5-seg", tasks.INSTANCE_SEGMENTATION, YoloSegmenter, OutputLayout.YOLOV5


class YoloEndToEndSegmentation(YoloArchitecture):
    name, task = "yolo-end2end-seg", tasks.INSTANCE_SEGMENTATION
    model_class, layout = YoloSegmenter, OutputLayout.END_TO_END


class YoloV8Pose(YoloArchitecture):
    name, task, model_class, layout = "yolov8-pose", tasks.KEYPOINT_DETECTION, YoloPoseDetector, OutputLayout.YOLOV8


class YoloV5Pose(YoloArchitecture):
    name, task, model_class, layout = "yolov5-pose", tasks.KEYPOINT_DETECTION, YoloPoseDetector, OutputLayout.YOLOV5


class YoloEndToEndPose(YoloArchitecture):
    name, task = "yolo-end2end-pose", tasks.KEYPOINT_DETECTION
    model_class, layout = YoloPoseDetector, OutputLayout.END_TO_END


class ImageClassification(ModelArchitecture):
    """Single- and multi-label classifiers: any output of class scores."""

    name, task = "classifier", tasks.CLASSIFICATION

    @classmethod
    def match(cls, artifact: ModelArtifact, session: Session) -> Match:
        return Match.SHAPE

    @classmethod
    def build(cls, artifact: ModelArtifact, session: Session, image_loader: ImageLoader) -> VisionModel:
        return Classifier(artifact, session, image_loader)


#: In the order ties are settled: on equal evidence the earlier layout wins.
ARCHITECTURES = [
    YoloV8Detection, YoloV5Detection, YoloEndToEndDetection,
    YoloV8Segmentation, YoloV5Segmentation, YoloEndToEndSegmentation,
    YoloV8Pose, YoloV5Pose, YoloEndToEndPose,
    ImageClassification, YoloNasDetection, DeepLabV3PlusSegmentation,
    RFDetrDetection, RFDetrSegmentation,
]


@hookimpl
def register_model_architectures() -> list[type]:
    return list(ARCHITECTURES)
