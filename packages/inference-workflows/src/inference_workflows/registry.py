"""Which blocks exist: the built-in ones and every plugin's, collected once.

Blocks are plugins: a distribution declares an entry point in the group
`inference.workflow_blocks` naming a module (or object) with a `register_workflow_blocks()`
hook that returns Block classes. The built-in blocks register through the same group.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from inference_workflows.blocks.base import Block, BlockSet

ENTRY_POINT_GROUP = "inference.workflow_blocks"


@dataclass
class BlockRegistry:
    blocks: BlockSet = field(default_factory=BlockSet)
    #: plugin or class -> why it was not loaded
    failures: dict[str, str] = field(default_factory=dict)


def build_block_registry(plugins: list[object] | None = None) -> BlockRegistry:
    """Collect blocks from `plugins` (objects with `register_workflow_blocks`), or the entry points."""
    registry = BlockRegistry()
    for plugin_name, plugin in _plugins(plugins, registry.failures):
        try:
            classes = plugin.register_workflow_blocks()
        except Exception as error:  # a broken plugin must not take the others down
            registry.failures[plugin_name] = f"{type(error).__name__}: {error}"
            continue
        for candidate in classes or []:
            _add(registry, candidate)
    if plugins is None and not registry.blocks.blocks():
        # Not installed as a distribution (e.g. run from a source tree): the built-ins still count.
        from inference_workflows.blocks import plugin as builtin

        for candidate in builtin.register_workflow_blocks():
            _add(registry, candidate)
    return registry


def _add(registry: BlockRegistry, candidate: object) -> None:
    name = getattr(candidate, "name", None)
    if not (isinstance(candidate, type) and issubclass(candidate, Block) and isinstance(name, str)):
        registry.failures[repr(candidate)] = "not a Block subclass with a string `name`"
        return
    for type_name in candidate.type_names():
        existing = registry.blocks.get(type_name)
        if existing is not None and existing is not candidate:
            registry.failures[f"{name} ({candidate.__module__})"] = (
                f"duplicate block type {type_name!r}: already provided by {existing.__module__}"
            )
            return
    registry.blocks.add(candidate)


def _plugins(plugins: list[object] | None, failures: dict[str, str]):
    if plugins is not None:
        for index, plugin in enumerate(plugins):
            yield getattr(plugin, "__name__", f"plugin-{index}"), plugin
        return
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            module_name, _, attribute = entry_point.value.partition(":")
            loaded = importlib.import_module(module_name.strip())
            yield entry_point.name, getattr(loaded, attribute.strip()) if attribute else loaded
        except Exception as error:
            failures[entry_point.name] = f"{type(error).__name__}: {error}"


_default: BlockRegistry | None = None
_lock = threading.Lock()


def default_registry() -> BlockRegistry:
    global _default
    with _lock:
        if _default is None:
            _default = build_block_registry()
        return _default
