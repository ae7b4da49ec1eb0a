"""The process-wide plugin set: every plugin loaded once, what each registered, what failed.

Plugins are found through one entry-point group per kind (``visionhost.backends``,
``visionhost.model_sources``, ...). Each is loaded, registered with one pluggy manager, and asked
for its classes through the hook of every kind. Nothing a plugin does can stop the process: an
import error, a hook that raises, a class without a ``name`` or a name already taken is recorded
against that plugin and shown by ``inference plugins`` and ``/info``.

Core's own model sources and architectures are plugins like any other (entry points in core's
``pyproject.toml``); they are asked first, so a third-party plugin cannot take over their names.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, PackageNotFoundError, entry_points, version
from typing import Any

import pluggy

from inference_core.plugins import hookspecs

#: Every kind of plugin class, in the order hooks are asked.
KINDS = ("backends", "model_sources", "model_architectures", "workflow_blocks", "video_sources")
#: kind -> the entry-point group plugins of that kind advertise themselves in.
ENTRY_POINT_GROUPS = {kind: f"{hookspecs.PROJECT_NAME}.{kind}" for kind in KINDS}
#: kind -> how one class of that kind is called in messages.
KIND_LABELS = {
    "backends": "backend",
    "model_sources": "model source",
    "model_architectures": "model architecture",
    "workflow_blocks": "workflow block",
    "video_sources": "video source",
}
#: kind -> the base class its classes must derive from ("module:attribute"; imported when checked).
BASE_CLASSES = {
    "backends": "inference_core.runtime:Backend",
    "model_sources": "inference_core.sources.base:ModelSource",
    "model_architectures": "inference_core.models.architecture:ModelArchitecture",
}
#: The distribution whose plugins are the built-ins (asked first).
CORE_DISTRIBUTION = "visionhost-core"
#: Core's built-in plugins (as named in core's entry points), used with an explicit plugin list.
CORE_PLUGIN_MODULES = {
    "core-sources": "inference_core.sources.builtin",
    "core-architectures": "inference_core.models.builtin",
}


@dataclass
class PluginRecord:
    """One plugin: where it came from, what it registered, what went wrong."""

    name: str
    distribution: str | None = None
    version: str | None = None
    #: entry-point groups it was found in (empty for a plugin passed in explicitly).
    groups: list[str] = field(default_factory=list)
    #: kind -> names of the classes it registered.
    registers: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "registers": {kind: list(names) for kind, names in self.registers.items()},
            "error": "; ".join(self.errors) or None,
        }


class PluginSet:
    """Plugins registered with one pluggy manager, and the classes they provide by kind."""

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        self.records: list[PluginRecord] = []
        self._classes: dict[str, dict[str, type]] = {kind: {} for kind in KINDS}
        self._owners: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self._problems: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        self._plugins: list[tuple[PluginRecord, object]] = []

    def classes(self, kind: str) -> list[type]:
        """The registered classes of `kind`, built-ins first."""
        return list(self._by_kind(kind).values())

    def by_name(self, kind: str) -> dict[str, type]:
        return dict(self._by_kind(kind))

    def problems(self, kind: str) -> dict[str, str]:
        """What went wrong for `kind`: refused classes, and load errors of plugins of that group."""
        self._by_kind(kind)
        return dict(self._problems[kind])

    def report(self) -> list[dict[str, Any]]:
        """Every plugin, for `inference plugins` and `/info`."""
        return [record.as_dict() for record in self.records]

    def _by_kind(self, kind: str) -> dict[str, type]:
        if kind not in self._classes:
            raise KeyError(f"Unknown plugin kind {kind!r}; kinds: {', '.join(KINDS)}.")
        return self._classes[kind]

    def add(self, record: PluginRecord, plugin: object) -> None:
        """Register one loaded plugin and file the classes it offers for every kind."""
        self.records.append(record)
        try:
            self.manager.register(plugin, name=f"{record.distribution or 'local'}:{record.name}")
        except ValueError as error:  # the same object registered twice, or a clashing name
            self._fail(record, f"not registered: {error}")
            return
        self._plugins.append((record, plugin))
        for kind in KINDS:
            for implementation in getattr(self.manager.hook, f"register_{kind}").get_hookimpls():
                if implementation.plugin is plugin:
                    self._collect(kind, record, implementation.function)

    def fail_to_load(self, record: PluginRecord, error: BaseException) -> None:
        self.records.append(record)
        self._fail(record, f"{type(error).__name__}: {error}")

    def _fail(self, record: PluginRecord, message: str) -> None:
        record.errors.append(message)
        for kind, group in ENTRY_POINT_GROUPS.items():
            if group in record.groups:
                self._problems[kind][record.name] = message

    def _collect(self, kind: str, record: PluginRecord, hook) -> None:
        try:
            offered = list(hook() or [])
        except Exception as error:  # a broken hook is that plugin's problem only
            message = f"register_{kind}() raised {type(error).__name__}: {error}"
            record.errors.append(message)
            self._problems[kind][record.name] = message
            return
        base = _base_class(kind)
        label = KIND_LABELS[kind]
        for candidate in offered:
            name = getattr(candidate, "name", None)
            if not isinstance(candidate, type) or not isinstance(name, str) or (
                base is not None and not issubclass(candidate, base)
            ):
                wanted = f"a {base.__name__} subclass" if base is not None else "a class"
                message = f"{candidate!r} is not {wanted} with a string `name`"
                record.errors.append(message)
                self._problems[kind][repr(candidate)] = message
                continue
            if name in self._classes[kind]:
                message = f"duplicate {label} name {name!r}: already provided by {self._owners[kind][name]}"
                record.errors.append(message)
                self._problems[kind][f"{name} ({candidate.__module__})"] = message
                continue
            self._classes[kind][name] = candidate
            self._owners[kind][name] = record.name
            record.registers.setdefault(kind, []).append(name)


def _base_class(kind: str) -> type | None:
    location = BASE_CLASSES.get(kind)
    if location is None:
        return None
    module_name, _, attribute = location.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def load_plugins(plugins: list[object] | None = None) -> PluginSet:
    """A new plugin set: the installed entry points, or core's built-ins plus `plugins` (tests)."""
    plugin_set = PluginSet()
    if plugins is not None:
        version = _distribution_version(CORE_DISTRIBUTION)
        for name, module_name in CORE_PLUGIN_MODULES.items():
            record = PluginRecord(name=name, distribution=CORE_DISTRIBUTION, version=version)
            plugin_set.add(record, importlib.import_module(module_name))
        for index, plugin in enumerate(plugins):
            name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{index}"
            plugin_set.add(PluginRecord(name=name), plugin)
        return plugin_set
    for record, entry_point in _installed_plugins():
        try:
            plugin = entry_point.load()
        except Exception as error:  # a broken plugin must not take the process down
            plugin_set.fail_to_load(record, error)
            continue
        plugin_set.add(record, plugin)
    return plugin_set


def _installed_plugins() -> list[tuple[PluginRecord, EntryPoint]]:
    """One record per plugin object advertised in any of the groups; core's first, then by name."""
    found: dict[tuple[str | None, str], tuple[PluginRecord, EntryPoint]] = {}
    for group in ENTRY_POINT_GROUPS.values():
        for entry_point in entry_points(group=group):
            distribution = entry_point.dist.name if entry_point.dist is not None else None
            key = (distribution, entry_point.value)
            if key not in found:
                version = entry_point.dist.version if entry_point.dist is not None else None
                found[key] = (PluginRecord(entry_point.name, distribution, version), entry_point)
            found[key][0].groups.append(group)
    def order(item: tuple[PluginRecord, EntryPoint]) -> tuple:
        record = item[0]
        return (record.distribution != CORE_DISTRIBUTION, record.distribution or "", record.name)

    return sorted(found.values(), key=order)


def _distribution_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


_process_plugins: PluginSet | None = None
_process_lock = threading.Lock()


def get_plugins() -> PluginSet:
    """The process-wide plugin set, loaded from the installed entry points on first use."""
    global _process_plugins
    with _process_lock:
        if _process_plugins is None:
            _process_plugins = load_plugins()
        return _process_plugins


def as_plugin_set(plugins: list[object] | PluginSet | None) -> PluginSet:
    """The process-wide set for None, a set as given, or core's built-ins plus a list (tests)."""
    if plugins is None:
        return get_plugins()
    return plugins if isinstance(plugins, PluginSet) else load_plugins(plugins)


def plugin_classes(kind: str) -> list[type]:
    """The classes of `kind` every installed plugin registered (process-wide, loaded once)."""
    return get_plugins().classes(kind)
