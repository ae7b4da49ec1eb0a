"""Hook specifications: the only ways a plugin extends VisionHost."""

from __future__ import annotations

import pluggy

PROJECT_NAME = "inference"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_backends() -> list[type]:
    """Return the :class:`inference_core.runtime.Backend` subclasses this plugin provides.

    Called once when the backend registry is built. Each class must have a unique ``name``;
    a duplicate name is rejected and recorded as a load failure. The classes are not
    instantiated until a backend is needed, and a class whose runtime is missing reports that
    through ``unavailable_reason()`` instead of failing here.
    """
