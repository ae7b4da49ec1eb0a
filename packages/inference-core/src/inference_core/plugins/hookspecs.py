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


@hookspec
def register_model_sources() -> list[type]:
    """Return the :class:`inference_core.sources.ModelSource` subclasses this plugin provides.

    Called once when the manager is built. A model source says where a model that is not in the
    cache can be downloaded from (Roboflow's platform, a plain HTTP folder, object storage); the
    ``MODEL_SOURCE`` setting picks one by its unique ``name``. The built-in sources register
    through this same hook, a duplicate name is rejected and recorded, and the chosen class is
    instantiated with the registry settings and a download client that handles retries.
    """
