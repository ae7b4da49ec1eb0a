"""What routes share: settings, the model manager, the runner, metrics, readiness."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from inference_core.manager import ModelManager

from inference_server.metrics import Metrics
from inference_server.runner import InferenceRunner
from inference_server.settings import ServerSettings


@dataclass
class ServerState:
    settings: ServerSettings
    manager: ModelManager
    runner: InferenceRunner
    metrics: Metrics
    server_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ready: bool = False
    #: why the server is not ready (a preload failed), for /readiness.
    not_ready_reason: str | None = None

    def registry(self) -> dict:
        return {"models": self.manager.describe()}


async def server_state(request: Request) -> ServerState:
    # async on purpose: FastAPI runs a plain-def dependency in a thread pool, a hop per request
    return request.app.state.server


#: The shared state, as a route parameter type.
State = Annotated[ServerState, Depends(server_state)]
