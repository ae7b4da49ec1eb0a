"""Roboflow's import path of the stream entities."""

from inference_stream.entities import AnyPrediction, VideoFrame
from inference_stream.settings import ModelConfig
from inference_stream.watchdog import LatencyMonitorReport, PipelineStateReport

__all__ = ["AnyPrediction", "LatencyMonitorReport", "ModelConfig", "PipelineStateReport", "VideoFrame"]
