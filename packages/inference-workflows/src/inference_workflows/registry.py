"""Which blocks exist: every class registered through the `register_workflow_blocks` hook of
VisionHost's plugin manager (entry-point group `visionhost.workflow_blocks`), the built-in
blocks included, collected once per process.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from inference_core.plugins import PluginSet, as_plugin_set

from inference_workflows.blocks.base import Block, BlockSet

KIND = "workflow_blocks"


@dataclass
class BlockRegistry:
    blocks: BlockSet = field(default_factory=BlockSet)
    #: plugin or class -> why it was not loaded
    failures: dict[str, str] = field(default_factory=dict)


def build_block_registry(plugins: list[object] | PluginSet | None = None) -> BlockRegistry:
    """Blocks from the installed plugins (None), a plugin set, or core plus a list of plugins."""
    plugin_set = as_plugin_set(plugins)
    registry = BlockRegistry(failures=dict(plugin_set.problems(KIND)))
    for candidate in plugin_set.classes(KIND):
        _add(registry, candidate)
    if plugins is None and not registry.blocks.blocks():
        # Run from a source tree without installed entry points: the built-ins still count.
        from inference_workflows.blocks import plugin as builtin

        for candidate in builtin.register_workflow_blocks():
            _add(registry, candidate)
    return registry


def _add(registry: BlockRegistry, candidate: type) -> None:
    if not issubclass(candidate, Block):
        registry.failures[repr(candidate)] = "not a workflow Block subclass"
        return
    for type_name in candidate.type_names():
        existing = registry.blocks.get(type_name)
        if existing is not None and existing is not candidate:
            registry.failures[f"{candidate.name} ({candidate.__module__})"] = (
                f"duplicate block type {type_name!r}: already provided by {existing.__module__}"
            )
            return
    registry.blocks.add(candidate)


_default: BlockRegistry | None = None
_lock = threading.Lock()


def default_registry() -> BlockRegistry:
    global _default
    with _lock:
        if _default is None:
            _default = build_block_registry()
        return _default
