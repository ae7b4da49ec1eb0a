"""Mapping predictions made on a client-downsized image back to the caller's original pixels."""

from __future__ import annotations

from typing import Any

from inference_sdk.http.images import Scaling

_POINT_LISTS = ("points", "keypoints")


def rescale(result: dict[str, Any], scaling: Scaling | None) -> dict[str, Any]:
    """Scale boxes, polygon points and keypoints by the downsizing factors, in place.

    Each axis has its own factor (the shrunk size was rounded to whole pixels), and `image` gets
    the exact original size back. RLE masks stay at the size the server saw.
    """
    if scaling is None:
        return result
    if isinstance(result.get("image"), dict):
        result["image"] = {"width": scaling.original[0], "height": scaling.original[1]}
    predictions = result.get("predictions")
    if isinstance(predictions, list):
        for prediction in predictions:
            _rescale_prediction(prediction, scaling)
    return result


def _rescale_prediction(prediction: dict[str, Any], scaling: Scaling) -> None:
    if "x" in prediction and "width" in prediction:
        _scale_xy(prediction, scaling)
        prediction["width"] = prediction["width"] * scaling.x_factor
        prediction["height"] = prediction["height"] * scaling.y_factor
    for key in _POINT_LISTS:
        for point in prediction.get(key) or []:
            _scale_xy(point, scaling)


def _scale_xy(item: dict[str, Any], scaling: Scaling) -> None:
    item["x"] = item["x"] * scaling.x_factor
    item["y"] = item["y"] * scaling.y_factor
