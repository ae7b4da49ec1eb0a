"""Model sources: where a model missing from the cache is downloaded from, and how safely."""

from inference_core.sources.base import Artifact, ModelPackage, ModelSource, ProgressCallback
from inference_core.sources.fetcher import ModelFetcher
from inference_core.sources.http import RegistryClient
from inference_core.sources.registry import SourceRegistry, build_fetcher, build_source_registry

__all__ = [
    "Artifact",
    "ModelFetcher",
    "ModelPackage",
    "ModelSource",
    "ProgressCallback",
    "RegistryClient",
    "SourceRegistry",
    "build_fetcher",
    "build_source_registry",
]
