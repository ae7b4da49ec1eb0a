"""The `inference` import name, as Roboflow's package offers it, over VisionHost's packages.

A thin compatibility layer: `from inference import InferencePipeline, get_model` and the sinks at
`inference.core.interfaces.stream.sinks` resolve to `inference_stream` and `inference_core`, so
Roboflow's documented snippets run unchanged. Names load lazily, as Roboflow's do.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "InferencePipeline": ("inference_stream.pipeline", "InferencePipeline"),
    "get_model": ("inference_core.api", "get_model"),
    "get_roboflow_model": ("inference_core.api", "get_model"),
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'inference' has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    return getattr(importlib.import_module(module_name), attribute)
