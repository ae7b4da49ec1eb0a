"""Roboflow's import path of `get_model`."""

from inference_core.api import get_model

get_roboflow_model = get_model

__all__ = ["get_model", "get_roboflow_model"]
