"""Model management: what is loaded, load, unload."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from inference_server.auth import require_api_key
from inference_server.schemas import AddModelRequest, RegistryResponse, RemoveModelRequest
from inference_server.state import State

router = APIRouter(prefix="/model", tags=["models"], dependencies=[Depends(require_api_key)])


@router.get("/registry", response_model=RegistryResponse, summary="Loaded models")
def registry(state: State) -> dict:
    return state.registry()


@router.post("/add", response_model=RegistryResponse, summary="Load a model (optionally pinned)")
async def add(request: AddModelRequest, state: State) -> dict:
    await state.runner.model(request.model_id, pin=request.pin)
    return state.registry()


@router.post("/remove", response_model=RegistryResponse, summary="Unload a model")
async def remove(request: RemoveModelRequest, state: State) -> dict:
    await state.runner.call(state.manager.remove, request.model_id)
    return state.registry()


@router.post("/clear", response_model=RegistryResponse, summary="Unload every model")
async def clear(state: State) -> dict:
    await state.runner.call(state.manager.clear)
    return state.registry()
