"""Loaded models: each loaded once even under concurrent requests, LRU capacity, pinning."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from inference_core.backend_selection import BackendSelector
import numpy as np

from inference_core.errors import InferenceError, InvalidInputError
from inference_core.images import ImageLoader
from inference_core.model_ids import parse_model_id
from inference_core.models import ModelArchitecture, VisionModel, build_model
from inference_core.plugins import PluginSet, get_plugins
from inference_core.sources.fetcher import ModelFetcher
from inference_core.store import ModelStore


class ModelManager:
    def __init__(
        self,
        store: ModelStore,
        backends: BackendSelector,
        image_loader: ImageLoader,
        capacity: int = 8,
        fetcher: ModelFetcher | None = None,
        plugins: PluginSet | None = None,
    ) -> None:
        if capacity < 1:
            raise InvalidInputError("MAX_ACTIVE_MODELS must be at least 1.")
        self.store = store
        self.backends = backends
        self.image_loader = image_loader
        self.capacity = capacity
        #: downloads models missing from the store; None serves only what is on disk.
        self.fetcher = fetcher
        #: where backends, sources and model architectures came from.
        self.plugins = plugins if plugins is not None else get_plugins()
        self.architectures: list[type[ModelArchitecture]] = self.plugins.classes("model_architectures")
        self._models: OrderedDict[str, VisionModel] = OrderedDict()
        self._pinned: set[str] = set()
        self._lock = threading.Lock()
        self._load_locks: dict[str, threading.Lock] = {}

    def get(self, model_id: str, pin: bool = False, api_key: str | None = None) -> VisionModel:
        """The loaded model, loading it first if needed (only one thread loads each model).

        `api_key` is used to download the model when it is not in the store yet.
        """
        key = str(parse_model_id(model_id))
        with self._lock:
            model = self._touch(key, pin)
            if model is not None:
                return model
            load_lock = self._load_locks.setdefault(key, threading.Lock())
        with load_lock:
            with self._lock:
                model = self._touch(key, pin)
                if model is not None:
                    return model
            model = self._load(key, api_key)
            with self._lock:
                self._models[key] = model
                if pin:
                    self._pinned.add(key)
                self._evict_over_capacity()
                self._load_locks.pop(key, None)
            return model

    def loaded(self, model_id: str, pin: bool = False) -> VisionModel | None:
        """The model if it is loaded already, else None; never loads, so it never blocks for long."""
        key = str(parse_model_id(model_id))
        with self._lock:
            return self._touch(key, pin)

    def is_loaded(self, model_id: str) -> bool:
        with self._lock:
            return str(parse_model_id(model_id)) in self._models

    def remove(self, model_id: str) -> None:
        key = str(parse_model_id(model_id))
        with self._lock:
            model = self._models.pop(key, None)
            self._pinned.discard(key)
        if model is not None:
            model.session.close()

    def clear(self) -> None:
        with self._lock:
            models = list(self._models.values())
            self._models.clear()
            self._pinned.clear()
        for model in models:
            model.session.close()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [model.describe() for model in self._models.values()]

    def cached_models(self) -> dict[str, Any]:
        """The model cache: its directory and every model in it, with its task or its problem."""
        models = []
        for model_id in self.store.list_models():
            try:
                models.append({"model_id": model_id, "task": self.store.task_of(model_id)})
            except InferenceError as error:
                models.append({"model_id": model_id, "task": None, "problem": error.message})
        return {"cache_dir": str(self.store.cache_dir), "models": models}

    def load_pickled_array(self, payload: bytes) -> np.ndarray:
        """An image sent as `pickle.dumps(ndarray)`, read by the restricted unpickler, within limits."""
        return self.image_loader.load_numpy_pickle_bytes(payload)

    def backend_report(self) -> dict[str, Any]:
        """The backends usable here (`available`) and why the others are not (`problems`)."""
        registry = self.backends.registry
        return {"available": sorted(registry.available()), "problems": registry.unavailable()}

    def plugin_report(self) -> list[dict[str, Any]]:
        """Every plugin this manager was built from: what it registers, its version, its error."""
        return self.plugins.report()

    def loaded_ids(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def _touch(self, key: str, pin: bool) -> VisionModel | None:
        model = self._models.get(key)
        if model is not None:
            self._models.move_to_end(key)
            if pin:
                self._pinned.add(key)
        return model

    def _load(self, key: str, api_key: str | None = None) -> VisionModel:
        if self.fetcher is not None:
            self.fetcher.ensure(key, api_key=api_key, keep=self.loaded_ids())
        artifact = self.store.read(key)
        backend = self.backends.for_artifact(artifact.weights_path)
        session = backend.load(artifact.weights_path)
        try:
            return build_model(artifact, session, self.image_loader, self.architectures)
        except BaseException:
            session.close()
            raise

    def _evict_over_capacity(self) -> None:
        evictable = [key for key in self._models if key not in self._pinned]
        while len(self._models) > self.capacity and evictable:
            victim = evictable.pop(0)
            self._models.pop(victim).session.close()
