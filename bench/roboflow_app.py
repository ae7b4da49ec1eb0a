"""Roboflow Inference's HTTP app, assembled the way its CPU Docker image does (docker/config/cpu_http.py).

Imported by uvicorn from Roboflow's own venv (`inference-cpu[http]==1.8.3`), never by our code:

    ~/.cache/visionhost-bench/roboflow-venv/bin/python -m uvicorn roboflow_app:app --port 9002
"""

from inference.core.env import MAX_ACTIVE_MODELS
from inference.core.interfaces.http.http_api import HttpInterface
from inference.core.managers.base import ModelManager
from inference.core.managers.decorators.fixed_size_cache import WithFixedSizeCache
from inference.core.registries.roboflow import RoboflowModelRegistry
from inference.models.utils import ROBOFLOW_MODEL_TYPES

model_registry = RoboflowModelRegistry(ROBOFLOW_MODEL_TYPES)
model_manager = WithFixedSizeCache(ModelManager(model_registry=model_registry), max_size=MAX_ACTIVE_MODELS)
model_manager.init_pingback()
app = HttpInterface(model_manager).app
