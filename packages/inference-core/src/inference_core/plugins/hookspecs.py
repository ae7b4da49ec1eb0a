"""Hook specifications: the only ways a plugin extends VisionHost.

Every hook takes no argument and returns a list of classes, each with a unique string ``name``
within its kind. A plugin is any module or object with ``@hookimpl`` functions of these names,
advertised through the entry-point group of its kind (see :mod:`inference_core.plugins.manager`).
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "visionhost"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_backends() -> list[type]:
    """Return the :class:`inference_core.runtime.Backend` subclasses this plugin provides.

    Called once per process when the plugins are loaded. Each class must have a unique ``name``;
    a duplicate name is refused and recorded against the plugin that offered it. The classes are
    not instantiated until a backend is needed, and a class whose runtime is missing reports
    that through ``unavailable_reason()`` instead of failing here.
    """


@hookspec
def register_model_sources() -> list[type]:
    """Return the :class:`inference_core.sources.ModelSource` subclasses this plugin provides.

    A model source says where a model that is not in the cache can be downloaded from (Roboflow's
    platform, a plain HTTP folder, object storage); the ``MODEL_SOURCE`` setting picks one by its
    unique ``name``. The built-in sources register through this same hook and are asked first,
    so a plugin cannot take over a built-in name; the chosen class is instantiated with the
    registry settings and a download client that handles retries.
    """


@hookspec
def register_model_architectures() -> list[type]:
    """Return the :class:`inference_core.models.ModelArchitecture` subclasses this plugin provides.

    An architecture turns a loaded session into a model for one task (``task``): it says how
    strongly it recognises an artifact (``match``: from the export's metadata, Roboflow's
    ``model_type``, or only the output shapes) and builds the model (``build``). When a model is
    loaded, the architecture of the artifact's task with the strongest match is used; on a tie
    the one registered first (the built-ins) wins. See docs/ARCHITECTURE.md for a worked example.
    """


@hookspec
def register_workflow_blocks() -> list[type]:
    """Return the workflow block classes this plugin provides.

    Each class has a unique ``name`` (the block ``type`` a workflow definition refers to). The
    workflow engine collects them through :func:`inference_core.plugins.plugin_classes` with
    kind ``"workflow_blocks"``; core itself registers none, and what a block class must
    implement is defined by the workflow package that runs them.
    """


@hookspec
def register_video_sources() -> list[type]:
    """Return the video source classes this plugin provides.

    Each class has a unique ``name`` (the scheme or kind of stream it opens: a file, a camera,
    RTSP). The streaming package collects them through
    :func:`inference_core.plugins.plugin_classes` with kind ``"video_sources"``; core itself
    registers none, and the interface a source implements is defined by that package.
    """
