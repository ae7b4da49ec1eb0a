"""Collecting model sources from the built-ins and plugins, and building the configured fetcher."""

from __future__ import annotations

from dataclasses import dataclass, field

from inference_core.plugins import PluginSet, as_plugin_set
from inference_core.settings import RegistrySettings
from inference_core.sources.base import ModelSource
from inference_core.sources.fetcher import ModelFetcher
from inference_core.sources.http import RegistryClient
from inference_core.store import ModelStore

#: MODEL_SOURCE values that turn downloading off.
NO_SOURCE = ("none", "off", "")


@dataclass
class SourceRegistry:
    """Model source classes by name, plus the plugins' registration failures."""

    sources: dict[str, type[ModelSource]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


    @classmethod
    def from_plugins(cls, plugins: PluginSet) -> SourceRegistry:
        return cls(plugins.by_name("model_sources"), plugins.problems("model_sources"))


def build_source_registry(plugins: list[object] | PluginSet | None = None) -> SourceRegistry:
    """The installed sources (process-wide plugins), or core's plus an explicit plugin list (tests)."""
    return SourceRegistry.from_plugins(as_plugin_set(plugins))


def build_fetcher(
    store: ModelStore, settings: RegistrySettings, plugins: list[object] | PluginSet | None = None
) -> ModelFetcher:
    """The fetcher for `settings.source`; an unknown name is reported when a download is needed."""
    name = settings.source
    if name in NO_SOURCE:
        return ModelFetcher(store, settings, None)
    registry = build_source_registry(plugins)
    source_class = registry.sources.get(name)
    if source_class is None:
        problem = (
            f"MODEL_SOURCE={name!r} is not an installed model source; installed: "
            f"{', '.join(sorted(registry.sources))}."
        )
        return ModelFetcher(store, settings, None, source_problem=problem)
    return ModelFetcher(store, settings, source_class(settings, RegistryClient(settings)))
