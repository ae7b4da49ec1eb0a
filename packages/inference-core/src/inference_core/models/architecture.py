"""What a model architecture plugin implements, and how the one for an artifact is chosen.

An architecture knows one family of exports for one task (YOLOv8 detection, YOLOv5
segmentation, RF-DETR, ...): how sure it is that an artifact is one of its own (:meth:`match`)
and how to build the :class:`VisionModel` that decodes it (:meth:`build`). Architectures are
registered through the ``register_model_architectures`` hook; the built-ins live in
:mod:`inference_core.models.builtin`. Choosing never names an architecture: adding one is
registering a class, not editing this module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import IntEnum
from typing import ClassVar

from inference_core.errors import UnsupportedModelError
from inference_core.images import ImageLoader
from inference_core.models.base import VisionModel
from inference_core.runtime import Session
from inference_core.store import ModelArtifact


class Match(IntEnum):
    """How an architecture recognised an artifact; the strongest wins."""

    NONE = 0
    #: only the output shapes fit (a plain export without telling metadata).
    SHAPE = 1
    #: Roboflow's ``model_type`` (model_type.json or the registry) names this family.
    MODEL_TYPE = 2
    #: the export's own metadata says so (an ``end2end`` flag, a format marker).
    METADATA = 3


class ModelArchitecture(ABC):
    """One decodable family of models for one task."""

    #: unique among architectures; shown by `inference plugins`.
    name: ClassVar[str]
    #: the task it serves, as spelled in :mod:`inference_core.tasks`.
    task: ClassVar[str]

    @classmethod
    @abstractmethod
    def match(cls, artifact: ModelArtifact, session: Session) -> Match:
        """How strongly this architecture recognises `artifact` loaded as `session`."""

    @classmethod
    @abstractmethod
    def build(cls, artifact: ModelArtifact, session: Session, image_loader: ImageLoader) -> VisionModel:
        """The model that pre-processes, runs and decodes this artifact."""


def choose_architecture(
    artifact: ModelArtifact, session: Session, architectures: list[type[ModelArchitecture]]
) -> type[ModelArchitecture]:
    """The architecture of the artifact's task that recognises it best (first registered on a tie).

    Raises UnsupportedModelError naming the model type and task when none recognises it.
    """
    best, best_match = None, Match.NONE
    for architecture in architectures:
        if architecture.task != artifact.task:
            continue
        found = Match(architecture.match(artifact, session))
        if found > best_match:
            best, best_match = architecture, found
    if best is None:
        raise UnsupportedModelError(_unsupported_message(artifact, session, architectures))
    return best


def build_model(
    artifact: ModelArtifact,
    session: Session,
    image_loader: ImageLoader,
    architectures: list[type[ModelArchitecture]],
) -> VisionModel:
    """The model for `artifact`, built by the architecture that recognises it."""
    architecture = choose_architecture(artifact, session, architectures)
    model = architecture.build(artifact, session, image_loader)
    model.architecture = architecture.name
    return model


def _unsupported_message(
    artifact: ModelArtifact, session: Session, architectures: list[type[ModelArchitecture]]
) -> str:
    for_task = sorted(item.name for item in architectures if item.task == artifact.task)
    shapes = ", ".join(str(tuple(spec.shape)) for spec in session.outputs)
    installed = ", ".join(for_task) if for_task else "none"
    if not architectures:  # not even core's: the packages' entry points are missing
        installed += "; no model architecture is registered at all: reinstall the packages"
        installed += " (./scripts/setup.sh)"
    return (
        f"Unsupported model: model type {artifact.model_type!r} ({artifact.task}) of {artifact.model_id!r} "
        f"is not recognised by any installed model architecture (installed for {artifact.task}: "
        f"{installed}); its outputs have shapes {shapes}. `inference plugins` lists what is installed."
    )
