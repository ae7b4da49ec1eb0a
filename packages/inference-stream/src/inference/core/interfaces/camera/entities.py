"""Roboflow's import path of frames and status updates."""

from inference_stream.entities import SourceProperties, StatusUpdate, UpdateSeverity, VideoFrame

__all__ = ["SourceProperties", "StatusUpdate", "UpdateSeverity", "VideoFrame"]
