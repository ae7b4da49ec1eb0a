"""Models laid out as the cache is, in a plain HTTP folder or a local (or mounted) folder.

`{MODEL_SOURCE_URL}/{project}/{version}/weights.onnx` is required; `environment.json`,
`class_names.txt`, `model_type.json` and `keypoints_metadata.json` are fetched when present.
"""

from __future__ import annotations

from pathlib import Path

from inference_core.errors import RegistryUnavailableError
from inference_core.model_ids import ModelId
from inference_core.sources.base import (
    JSON_LIST,
    JSON_OBJECT,
    ONNX,
    TEXT,
    Artifact,
    ModelPackage,
    ModelSource,
)

FOLDER_FILES = (
    ("weights.onnx", ONNX, True),
    ("environment.json", JSON_OBJECT, False),
    ("class_names.txt", TEXT, False),
    ("model_type.json", JSON_OBJECT, False),
    ("keypoints_metadata.json", JSON_LIST, False),
)


class HttpFolderSource(ModelSource):
    name = "http-folder"
    locations_from_registry = False  # built from MODEL_SOURCE_URL, set by whoever runs the server

    def describe(self, model_id: ModelId, api_key: str | None) -> ModelPackage:
        base = self.settings.source_url
        if not base:
            raise RegistryUnavailableError(
                f"MODEL_SOURCE={self.name} needs MODEL_SOURCE_URL, the folder that holds "
                "{project}/{version}/weights.onnx."
            )
        return ModelPackage(
            artifacts=[
                Artifact(name, self._location(base, model_id, name), kind, required)
                for name, kind, required in FOLDER_FILES
            ]
        )

    def _location(self, base: str, model_id: ModelId, name: str) -> str:
        if base.startswith(("http://", "https://")):
            return f"{base.rstrip('/')}/{model_id.project}/{model_id.version}/{name}"
        return str(Path(base.removeprefix("file://")) / model_id.project / model_id.version / name)


class LocalFolderSource(HttpFolderSource):
    """The same layout in a local or mounted folder (MODEL_SOURCE_URL is a path)."""

    name = "local-folder"
