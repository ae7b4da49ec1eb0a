"""What a model source is: given a model id and a key, say which files make up the model.

A source only describes; the :class:`~inference_core.sources.fetcher.ModelFetcher` downloads,
checks and files the artifacts, so every source gets the same locking, retries and atomic writes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from inference_core.model_ids import ModelId
from inference_core.settings import RegistrySettings

#: `progress(file_name, bytes_received, total_bytes_or_None)`, called as bytes arrive.
ProgressCallback = Callable[[str, int, "int | None"], None]

#: what an artifact must look like; the fetcher checks each kind before filing it.
ONNX, JSON_OBJECT, JSON_LIST, TEXT = "onnx", "json-object", "json-list", "text"


@dataclass(frozen=True)
class Artifact:
    """One file of a model: its name in the cache, where to get it, and what it must be."""

    name: str
    location: str
    kind: str
    required: bool = True


@dataclass
class ModelPackage:
    """Everything needed to file one model in the cache."""

    artifacts: list[Artifact]
    #: files written as given (class_names.txt, model_type.json, ...).
    files: dict[str, str] = field(default_factory=dict)
    #: keys added to environment.json when it lacks them (Roboflow's COLORS, for example).
    environment_defaults: dict[str, Any] = field(default_factory=dict)


class ModelSource(ABC):
    """A registry models can be fetched from; plugins add their own through a hook."""

    #: the name settings use to pick this source (MODEL_SOURCE).
    name: ClassVar[str]
    #: whether artifact locations come from a registry's answers (checked against the artifact
    #: policy, see sources/trust.py) rather than from the server's own settings.
    locations_from_registry: ClassVar[bool] = True

    def __init__(self, settings: RegistrySettings, client: Any) -> None:
        self.settings = settings
        #: the :class:`~inference_core.sources.http.RegistryClient` that sources talk through.
        self.client = client

    @abstractmethod
    def describe(self, model_id: ModelId, api_key: str | None) -> ModelPackage:
        """The model's artifacts; raise ModelNotFoundError / Registry*Error when it cannot say."""
