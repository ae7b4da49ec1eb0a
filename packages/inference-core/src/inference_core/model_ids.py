"""Model ids (`project/version`); aliases resolve through `model_aliases.py`, the one table."""

from __future__ import annotations

import re
from dataclasses import dataclass

from inference_core.errors import InvalidModelIdError
from inference_core.model_aliases import MODEL_ALIASES, resolve_alias

__all__ = ["MODEL_ALIASES", "ModelId", "parse_model_id", "resolve_alias"]

# fullmatch, never `$`: `$` also matches before a trailing newline.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class ModelId:
    project: str
    version: str

    def __str__(self) -> str:
        return f"{self.project}/{self.version}"


def parse_model_id(model_id: str) -> ModelId:
    """Validate `project/version`; the result is always safe to use as a path segment pair."""
    if not isinstance(model_id, str):
        raise InvalidModelIdError("Model id must be a string like 'project/1'.")
    parts = resolve_alias(model_id.strip()).split("/")
    if len(parts) != 2 or not all(_SEGMENT.fullmatch(part) for part in parts):
        raise InvalidModelIdError(
            f"Invalid model id {model_id!r}: expected 'project/version' made of letters, digits, "
            "'.', '_' and '-'."
        )
    return ModelId(project=parts[0], version=parts[1])
