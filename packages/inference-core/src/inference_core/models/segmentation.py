"""YOLO instance segmentation (v8/v11-seg and v5-seg layouts): boxes plus prototype masks."""

from __future__ import annotations

import numpy as np

from inference_core import tasks
from inference_core.models.detection import YoloDetector, box_predictions
from inference_core.models.masks import decode_masks, encode_coco_rle, largest_polygon, mask_in_original
from inference_core.params import InferenceParams
from inference_core.preprocessing import ImageTransform
from inference_core.responses import ImageSize, InstanceSegmentationInferenceResponse, Point

MASK_COEFFICIENTS = 32


class YoloSegmenter(YoloDetector):
    task = tasks.INSTANCE_SEGMENTATION
    extra_values = MASK_COEFFICIENTS

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.prototype_index = next(
            index for index, spec in enumerate(self.session.outputs) if len(spec.shape) == 4
        )

    def postprocess(self, outputs: list[np.ndarray], transform: ImageTransform, params: InferenceParams):
        found = self.candidates(outputs, params)
        masks, _ = decode_masks(
            found.extras[:, :MASK_COEFFICIENTS], outputs[self.prototype_index][0], found.boxes,
            (self.input_height, self.input_width), params.mask_decode_mode, params.tradeoff_factor,
        )
        grid_scale = (self.input_width / masks.shape[2], self.input_height / masks.shape[1])
        boxes = np.round(transform.to_original(found.boxes))
        predictions = box_predictions(boxes, found.scores, found.class_ids, self.class_name)
        for prediction, mask in zip(predictions, masks, strict=True):
            if params.response_mask_format == "rle":
                prediction.rle = encode_coco_rle(mask_in_original(mask, grid_scale, transform))
                prediction.mask_format = "rle"
            else:
                polygon = largest_polygon(mask) * np.array(grid_scale)
                points = transform.points_to_original(polygon)
                prediction.points = [Point(x, y) for x, y in points.tolist()]
                prediction.mask_format = "polygon"
        return InstanceSegmentationInferenceResponse(
            image=ImageSize(transform.original_width, transform.original_height), predictions=predictions
        )
