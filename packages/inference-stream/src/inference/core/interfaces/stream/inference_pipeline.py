"""Roboflow's import path of `InferencePipeline`."""

from inference_stream.pipeline import InferencePipeline, SinkMode

__all__ = ["InferencePipeline", "SinkMode"]
