"""Turns a batch of frames into predictions: one forward pass for the whole batch."""

from __future__ import annotations

from typing import Any

from inference_stream.entities import VideoFrame
from inference_stream.settings import ModelConfig


def default_process_frame(
    video_frame: list[VideoFrame], model: Any, inference_config: ModelConfig
) -> list[dict]:
    """Predictions for every frame, as the dicts Roboflow's pipeline hands to `on_prediction`."""
    responses = model.infer(
        [frame.image for frame in video_frame], **inference_config.to_postprocessing_params()
    )
    return [response.to_dict() for response in responses]
