"""Server information, health, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

import inference_server
from inference_server.errors import NotReadyError
from inference_server.state import State

router = APIRouter(tags=["info"])
SERVER_NAME = "VisionHost Inference Server"


@router.get("/info", summary="Server name, version, instance id, backends and plugins")
def info(state: State) -> dict:
    backends = state.manager.backend_report()
    return {
        "name": SERVER_NAME,
        "version": inference_server.__version__,
        "uuid": state.server_id,
        "backends": backends["available"],
        "backend_problems": backends["problems"],
        "plugins": state.manager.plugin_report(),
    }


@router.get("/healthz", summary="Liveness")
def healthz() -> dict:
    return {"status": "healthy"}


@router.get("/readiness", summary="Ready once the preloaded models are loaded")
def readiness(state: State) -> JSONResponse:
    if not state.ready:
        raise NotReadyError(state.not_ready_reason or "The server is still loading its preloaded models.")
    return JSONResponse({"status": "ready"})


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
def metrics(state: State) -> PlainTextResponse:
    if not state.settings.enable_prometheus:
        return JSONResponse({"message": "Metrics are disabled (ENABLE_PROMETHEUS=false)."}, status_code=404)
    return PlainTextResponse(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
