"""The app factory: settings in, a FastAPI app with every route, limit and handler out."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from inference_core.api import build_manager
from inference_core.manager import ModelManager

import inference_server
from inference_server.auth import ParsedBody, download_api_key, require_api_key
from inference_server.errors import install_error_handlers
from inference_server.hosts import AllowedHostsMiddleware
from inference_server.limits import BodySizeLimitMiddleware
from inference_server.metrics import Metrics, MetricsMiddleware
from inference_server.preflight import PreflightMiddleware
from inference_server.routes import infer, info, legacy, models, page
from inference_server.runner import InferenceRunner
from inference_server.settings import ServerSettings
from inference_server.state import ServerState

logger = logging.getLogger("inference_server")


def create_app(settings: ServerSettings | None = None, manager: ModelManager | None = None) -> FastAPI:
    """Build the app; `manager` overrides the one built from settings (tests, embedding)."""
    settings = settings or ServerSettings.from_env()
    manager = manager or build_manager(settings.core)
    metrics = Metrics(loaded_models=manager.loaded_ids)
    state = ServerState(settings, manager, InferenceRunner(manager, settings, metrics), metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        preload = asyncio.ensure_future(_preload(state))
        try:
            yield
        finally:
            preload.cancel()
            state.runner.shutdown()
            stream_pipelines = getattr(app.state, "stream_pipelines", None)
            if stream_pipelines is not None:  # their worker processes end with the server
                await asyncio.to_thread(stream_pipelines.shutdown)

    app = FastAPI(
        title="VisionHost Inference Server",
        version=inference_server.__version__,
        description="A self-hosted, Roboflow-Inference-compatible computer vision server.",
        lifespan=lifespan,
    )
    app.state.server = state
    install_error_handlers(app)
    # Fixed paths first: the legacy catch-all would otherwise read /model/registry as a model id.
    app.include_router(page.router)
    app.include_router(info.router)
    app.include_router(models.router)
    app.include_router(infer.router)
    _mount_workflows(app, state)
    _mount_stream_api(app, state)
    if settings.legacy_route_enabled:
        app.include_router(legacy.router)
    _add_middleware(app, settings, metrics)
    return app


def _mount_workflows(app: FastAPI, state: ServerState) -> None:
    """Workflow routes, when the optional visionhost-workflows package is installed."""
    try:
        from inference_workflows.http import build_router
    except ImportError:
        return
    from inference_workflows.context import WorkflowSettings

    async def api_key(request: Request, body: ParsedBody) -> str | None:
        return await download_api_key(request, state, body)

    settings = WorkflowSettings.from_env()
    core = state.settings.core
    settings = dataclasses.replace(
        settings, url_policy=core.url_policy, max_batch_size=state.settings.max_batch_size,
        api_base_url=core.registry.api_base_url, api_key=core.registry.api_key, offline=core.registry.offline,
    )
    app.include_router(build_router(lambda: state.manager, [require_api_key], api_key, settings))


def _mount_stream_api(app: FastAPI, state: ServerState) -> None:
    """`/inference_pipelines/...` (Roboflow's stream API) when the optional visionhost-stream and
    visionhost-workflows packages are installed; the routes answer 404 unless ENABLE_STREAM_API is set."""
    try:
        import inference_workflows  # noqa: F401  (stream pipelines run workflows)
        from inference_stream.settings import StreamApiSettings
        from inference_stream.stream_api.http import build_router
        from inference_stream.stream_api.manager import PipelineManager, StreamApiDisabledError
    except ImportError:
        return
    manager = None
    api_settings = StreamApiSettings.from_env()
    if api_settings.enabled:
        manager = PipelineManager(state.settings.core, max_pipelines=api_settings.max_active_pipelines)
        app.state.stream_pipelines = manager

    def pipelines() -> PipelineManager:
        if manager is None:
            raise StreamApiDisabledError("The stream API is off on this server; ENABLE_STREAM_API=true turns it on.")
        return manager

    app.include_router(build_router(pipelines, [require_api_key]))


def app_from_env() -> FastAPI:
    """uvicorn's factory entry point (used with several workers)."""
    return create_app(ServerSettings.from_env())


def _add_middleware(app: FastAPI, settings: ServerSettings, metrics: Metrics) -> None:
    # Added innermost first: the cheapest check runs first (Host, then the body cap, then key and
    # batch length on JSON bodies), all inside metrics, so refusals are counted too.
    app.add_middleware(PreflightMiddleware, settings=settings)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(AllowedHostsMiddleware, allowed_hosts=settings.allowed_hosts)
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_allowed_origins),
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)


async def _preload(state: ServerState) -> None:
    """Load PRELOAD_MODELS (pinned) in the background; /readiness answers 503 until done."""
    for model_id in state.settings.preload_models:
        try:
            await state.runner.model(model_id, pin=True)
            logger.info("Preloaded model %s", model_id)
        except Exception as error:  # the server keeps serving; readiness says what went wrong
            message = getattr(error, "message", str(error))
            state.not_ready_reason = f"Preloading model {model_id!r} failed: {message}"
            logger.error(state.not_ready_reason)
            return
    state.ready = True
