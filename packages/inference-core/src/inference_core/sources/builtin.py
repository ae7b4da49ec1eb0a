"""The sources that ship with core, registered through the same hook as any plugin's."""

from __future__ import annotations

from inference_core.plugins import hookimpl
from inference_core.sources.folder import HttpFolderSource, LocalFolderSource
from inference_core.sources.roboflow import RoboflowSource


@hookimpl
def register_model_sources() -> list[type]:
    return [RoboflowSource, HttpFolderSource, LocalFolderSource]
