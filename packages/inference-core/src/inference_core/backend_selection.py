"""Choose the backend that loads an artifact: by name from settings, or `auto`."""

from __future__ import annotations

import threading
from pathlib import Path

from inference_core.errors import BackendUnavailableError
from inference_core.plugins import BackendRegistry
from inference_core.runtime import Backend
from inference_core.settings import CoreSettings


class BackendSelector:
    def __init__(self, registry: BackendRegistry, settings: CoreSettings) -> None:
        self.registry = registry
        self.settings = settings
        self._instances: dict[str, Backend] = {}
        self._lock = threading.Lock()

    def backend(self, name: str) -> Backend:
        with self._lock:
            if name not in self._instances:
                backend_class = self.registry.backends.get(name)
                if backend_class is None:
                    raise BackendUnavailableError(self._missing_message(name))
                reason = backend_class.unavailable_reason()
                if reason is not None:
                    raise BackendUnavailableError(f"Backend {name!r} is unavailable: {reason}")
                self._instances[name] = backend_class(self.settings)
            return self._instances[name]

    def for_artifact(self, weights_path: Path) -> Backend:
        if self.settings.backend != "auto":
            return self.backend(self.settings.backend)
        ranked = sorted(self.registry.available().values(), key=lambda cls: -cls.auto_rank())
        for backend_class in ranked:
            backend = self.backend(backend_class.name)
            if backend.can_load(weights_path):
                return backend
        raise BackendUnavailableError(
            f"No installed backend can load {weights_path.name}. {self._missing_message(None)}"
        )

    def _missing_message(self, name: str | None) -> str:
        available = ", ".join(sorted(self.registry.available())) or "none"
        problems = "; ".join(f"{key}: {value}" for key, value in self.registry.unavailable().items())
        prefix = f"Backend {name!r} is not installed. " if name else ""
        hint = " Install one, e.g. `pip install visionhost-backend-onnx`."
        return f"{prefix}Available backends: {available}." + (f" Problems: {problems}." if problems else "") + hint
