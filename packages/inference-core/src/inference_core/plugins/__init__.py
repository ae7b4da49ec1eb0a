"""VisionHost's plugin system: one pluggy manager per process, one entry-point group per kind."""

from inference_core.plugins.hookspecs import PROJECT_NAME, hookimpl
from inference_core.plugins.manager import (
    ENTRY_POINT_GROUPS,
    KINDS,
    PluginRecord,
    PluginSet,
    as_plugin_set,
    get_plugins,
    load_plugins,
    plugin_classes,
)

__all__ = [
    "ENTRY_POINT_GROUPS",
    "KINDS",
    "PROJECT_NAME",
    "PluginRecord",
    "PluginSet",
    "as_plugin_set",
    "get_plugins",
    "hookimpl",
    "load_plugins",
    "plugin_classes",
]
