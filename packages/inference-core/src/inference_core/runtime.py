"""The contract between models and runtimes.

A backend turns an artifact file into a :class:`Session`: named arrays in, arrays out. Models
never learn which runtime answered; backends never learn which task they serve.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from inference_core.config import EnvReader
from inference_core.errors import InputShapeError
from inference_core.settings import CoreSettings


@dataclass(frozen=True)
class TensorSpec:
    """A model input or output. Symbolic dimensions are strings, unknown ones None."""

    name: str
    shape: tuple[int | str | None, ...]
    dtype: str = "float32"

    def fixed_dim(self, index: int) -> int | None:
        value = self.shape[index] if index < len(self.shape) else None
        return value if isinstance(value, int) and value > 0 else None


@dataclass
class SessionInfo:
    backend: str
    device: str
    providers: list[str] = field(default_factory=list)


class Session(ABC):
    """One loaded model in one runtime. Implementations must allow concurrent `run` calls."""

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    info: SessionInfo

    @abstractmethod
    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Run the model; outputs come back in the order of `outputs`."""

    def check_feeds(self, feeds: dict[str, np.ndarray]) -> None:
        """Raise InputShapeError unless every input is present with a shape the model accepts."""
        for spec in self.inputs:
            array = feeds.get(spec.name)
            if array is None:
                raise InputShapeError(f"Missing model input {spec.name!r}.")
            if array.ndim != len(spec.shape) or any(
                isinstance(expected, int) and expected > 0 and expected != actual
                for expected, actual in zip(spec.shape, array.shape)
            ):
                raise InputShapeError(f"Input {spec.name!r} has shape {array.shape}; the model expects {spec.shape}.")

    closed: bool = False

    def close(self) -> None:  # noqa: B027 - optional for backends with nothing to free
        """Mark the session unloaded; it must keep serving calls still in flight.

        The manager calls this when it unloads the model. Requests that already hold the model
        may still be running or queued, so the runtime session is not torn down here: it is
        freed with this object when the last request holding it lets go. A backend overrides
        this only to release something that in-flight calls do not use.
        """
        self.closed = True


class Backend(ABC):
    """A runtime plugin. Constructed once per process with the core settings.

    A runtime's own options (execution providers, devices) are not core settings: the backend
    reads them with :meth:`read_settings` from the environment core was configured from
    (``settings.environ``), so an environment handed to ``CoreSettings.from_env`` reaches it and
    a bad value is refused at start-up like any other setting.
    """

    name: ClassVar[str]
    #: Higher wins when the setting is `auto` and several backends can load an artifact.
    auto_priority: ClassVar[int] = 0

    def __init__(self, settings: CoreSettings) -> None:
        self.settings = settings

    @classmethod
    def read_settings(cls, env: EnvReader) -> Any:
        """This runtime's own settings, read through `env`; None when it has none."""
        return None

    @classmethod
    def auto_rank(cls) -> int:
        """Rank under `auto` on this machine (higher wins); defaults to `auto_priority`."""
        return cls.auto_priority

    @classmethod
    @abstractmethod
    def unavailable_reason(cls) -> str | None:
        """None when the runtime can be used here, else a sentence saying why not."""

    @abstractmethod
    def can_load(self, path: Path) -> bool:
        """Whether this backend understands the artifact file at `path`."""

    @abstractmethod
    def load(self, path: Path) -> Session:
        """Open a session; raise a BackendError subclass on failure."""

