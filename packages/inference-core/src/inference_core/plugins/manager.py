"""Collects backends from entry points (or an explicit plugin list) once, tolerating failures."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType

import pluggy

from inference_core.plugins import hookspecs
from inference_core.runtime import Backend

ENTRY_POINT_GROUP = "inference.backends"


@dataclass
class BackendRegistry:
    """Backend classes by name, plus what failed to load and why."""

    backends: dict[str, type[Backend]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

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


def build_backend_registry(plugins: list[object] | None = None) -> BackendRegistry:
    """Build the registry from `plugins`, or from the installed entry points when None."""
    registry = BackendRegistry()
    manager = plugin_manager(plugins, registry.failures)
    for backend_classes in manager.hook.register_backends():
        for backend in backend_classes:
            add_named_class(registry.backends, registry.failures, backend, Backend, "backend")
    return registry


def plugin_manager(plugins: list[object] | None, failures: dict[str, str]) -> pluggy.PluginManager:
    """A pluggy manager holding `plugins`, or the installed entry points (failures recorded)."""
    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    for name, plugin in _plugins(plugins, failures):
        manager.register(plugin, name=name)
    return manager


def _plugins(plugins: list[object] | None, failures: dict[str, str]):
    if plugins is not None:
        for index, plugin in enumerate(plugins):
            yield getattr(plugin, "__name__", f"plugin-{index}"), plugin
        return
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            yield entry_point.name, _load_entry_point(entry_point.value)
        except Exception as error:  # a broken plugin must not take the server down
            failures[entry_point.name] = f"{type(error).__name__}: {error}"


def _load_entry_point(value: str) -> ModuleType | object:
    module_name, _, attribute = value.partition(":")
    module = importlib.import_module(module_name.strip())
    return getattr(module, attribute.strip()) if attribute else module


def add_named_class(
    found: dict[str, type], failures: dict[str, str], candidate: object, base: type, kind: str
) -> None:
    """File a plugin-provided class under its `name`, or record why it was refused.

    Shared by every registry of plugin classes (backends, model sources): a candidate must be a
    subclass of `base` with a string `name`, and the first class to claim a name keeps it.
    """
    name = getattr(candidate, "name", None)
    if not isinstance(name, str) or not (isinstance(candidate, type) and issubclass(candidate, base)):
        failures[repr(candidate)] = f"not a {base.__name__} subclass with a string `name`"
        return
    if name in found:
        failures[f"{name} ({candidate.__module__})"] = (
            f"duplicate {kind} name {name!r}: already provided by {found[name].__module__}"
        )
        return
    found[name] = candidate
