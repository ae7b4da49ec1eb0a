"""Choose the backend that loads an artifact: by name from settings, or `auto`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from inference_core.errors import BackendUnavailableError
from inference_core.plugins import PluginSet, as_plugin_set
from inference_core.runtime import Backend
from inference_core.settings import CoreSettings


@dataclass
class BackendRegistry:
    """Backend classes by name, plus what failed to register and why."""

    backends: dict[str, type[Backend]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_plugins(cls, plugins: PluginSet) -> BackendRegistry:
        return cls(plugins.by_name("backends"), plugins.problems("backends"))

    def available(self) -> dict[str, type[Backend]]:
        return {
            name: backend
            for name, backend in self.backends.items()
            if backend.unavailable_reason() is None
        }

    def unavailable(self) -> dict[str, str]:
        """Every backend that cannot be used, with the reason, including plugin load failures."""
        reasons = dict(self.failures)
        for name, backend in self.backends.items():
            reason = backend.unavailable_reason()
            if reason is not None:
                reasons[name] = reason
        return reasons


def build_backend_registry(plugins: list[object] | PluginSet | None = None) -> BackendRegistry:
    """The installed backends (process-wide plugins), or those of an explicit plugin list (tests)."""
    return BackendRegistry.from_plugins(as_plugin_set(plugins))


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
