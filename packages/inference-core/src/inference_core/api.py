"""The in-process API: `get_model("project/1").infer(image)`."""

from __future__ import annotations

import threading

from inference_core.backend_selection import BackendSelector
from inference_core.images import ImageLoader
from inference_core.manager import ModelManager
from inference_core.models import VisionModel
from inference_core.plugins import build_backend_registry
from inference_core.settings import CoreSettings
from inference_core.store import ModelStore

_default_manager: ModelManager | None = None
_default_lock = threading.Lock()


def build_manager(settings: CoreSettings, plugins: list[object] | None = None) -> ModelManager:
    """A manager wired from settings; `plugins` overrides entry-point discovery (tests)."""
    registry = build_backend_registry(plugins)
    return ModelManager(
        store=ModelStore(settings.model_cache_dir),
        backends=BackendSelector(registry, settings),
        image_loader=ImageLoader(settings.image_limits, settings.url_policy),
        capacity=settings.max_active_models,
    )


def default_manager() -> ModelManager:
    """The process-wide manager, configured from the environment on first use."""
    global _default_manager
    with _default_lock:
        if _default_manager is None:
            _default_manager = build_manager(CoreSettings.from_env())
        return _default_manager


def get_model(model_id: str, api_key: str | None = None) -> VisionModel:
    """Load (once) and return the model; `api_key` is accepted for Roboflow compatibility."""
    return default_manager().get(model_id)
