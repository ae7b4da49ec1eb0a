"""The in-process API: `get_model("project/1").infer(image)`."""

from __future__ import annotations

import threading

from inference_core.backend_selection import BackendRegistry, BackendSelector
from inference_core.images import ImageLoader
from inference_core.manager import ModelManager
from inference_core.models import VisionModel
from inference_core.plugins import as_plugin_set
from inference_core.settings import CoreSettings
from inference_core.sources import ProgressCallback, build_fetcher
from inference_core.store import ModelArtifact, ModelStore

_default_manager: ModelManager | None = None
_default_lock = threading.Lock()


def build_manager(settings: CoreSettings, plugins: list[object] | None = None) -> ModelManager:
    """A manager wired from settings and the process-wide plugins.

    `plugins` replaces the installed third-party plugins with an explicit list (core's own
    built-ins are kept): the seam tests use to add a backend or source without installing it.
    """
    plugin_set = as_plugin_set(plugins)
    store = ModelStore(settings.model_cache_dir)
    return ModelManager(
        store=store,
        backends=BackendSelector(BackendRegistry.from_plugins(plugin_set), settings),
        image_loader=ImageLoader(settings.image_limits, settings.url_policy, settings.reduced_jpeg_decode),
        capacity=settings.max_active_models,
        fetcher=build_fetcher(store, settings.registry, plugin_set),
        plugins=plugin_set,
    )


def default_manager() -> ModelManager:
    """The process-wide manager, configured from the environment on first use."""
    global _default_manager
    with _default_lock:
        if _default_manager is None:
            _default_manager = build_manager(CoreSettings.from_env())
        return _default_manager


def get_model(model_id: str, api_key: str | None = None) -> VisionModel:
    """Load (once) and return the model; `api_key` downloads it when it is not cached yet."""
    return default_manager().get(model_id, api_key=api_key)


def pull_model(
    model_id: str,
    api_key: str | None = None,
    progress: ProgressCallback | None = None,
    settings: CoreSettings | None = None,
    plugins: list[object] | None = None,
) -> tuple[ModelArtifact, bool]:
    """Download a model into the cache without loading it; the artifact and whether it was fetched.

    `progress(file_name, bytes_received, total_bytes_or_None)` is called as bytes arrive.
    """
    settings = settings or CoreSettings.from_env()
    store = ModelStore(settings.model_cache_dir)
    fetched = build_fetcher(store, settings.registry, plugins).ensure(model_id, api_key, progress=progress)
    return store.read(model_id), fetched
