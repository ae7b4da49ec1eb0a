"""Model management: what is loaded, what is in the model cache, load, unload."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from inference_server.auth import download_api_key, require_api_key
from inference_server.schemas import AddModelRequest, RegistryResponse, RemoveModelRequest
from inference_server.state import State

router = APIRouter(prefix="/model", tags=["models"], dependencies=[Depends(require_api_key)])


@router.get("/registry", response_model=RegistryResponse, summary="Loaded models")
def registry(state: State) -> dict:
    return state.registry()


@router.get("/cache", summary="[ours] Models in the model cache (MODEL_CACHE_DIR), loaded or not")
async def cache(state: State) -> dict:
    return await state.runner.call(state.manager.cached_models)


@router.post("/add", response_model=RegistryResponse, summary="Load a model (optionally pinned)")
async def add(body: AddModelRequest, request: Request, state: State) -> dict:
    api_key = await download_api_key(request, state, body)
    await state.runner.model(body.model_id, pin=body.pin, api_key=api_key)
    return state.registry()


@router.post("/remove", response_model=RegistryResponse, summary="Unload a model")
async def remove(body: RemoveModelRequest, state: State) -> dict:
    await state.runner.call(state.manager.remove, body.model_id)
    return state.registry()


@router.post("/clear", response_model=RegistryResponse, summary="Unload every model")
async def clear(state: State) -> dict:
    await state.runner.call(state.manager.clear)
    return state.registry()
