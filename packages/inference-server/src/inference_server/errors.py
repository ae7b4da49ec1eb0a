"""Error mapping: one handler per kind of failure, every answer carrying a `message`.

Core errors carry their own HTTP status; request validation answers FastAPI's 422 with a
readable `message` added; anything unexpected is logged and answered with a generic 500.
"""

from __future__ import annotations

import logging
import shlex

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from inference_core.errors import InferenceError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("inference_server")


class UnauthorizedError(InferenceError):
    """A server-side API key is required and the request had none that matches."""

    status_code = 401


class MethodNotAllowedError(InferenceError):
    """A state-changing route asked with GET."""

    status_code = 405


class NotReadyError(InferenceError):
    status_code = 503


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(InferenceError, _inference_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _inference_error(request: Request, error: InferenceError) -> JSONResponse:
    if error.status_code >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, error.message)
    headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
    message = without_server_paths(error.message, request)
    return JSONResponse({"message": message}, status_code=error.status_code, headers=headers)


def without_server_paths(message: str, request: Request) -> str:
    """The message with the server's own directories (model cache, local model folder) replaced
    by names: a caller learns what is missing, not where the server keeps its files."""
    state = getattr(request.app.state, "server", None)
    if state is None:
        return message
    core = state.settings.core
    places = [(str(core.model_cache_dir), "<model cache>")]
    source_url = core.registry.source_url
    if source_url and not source_url.lower().startswith(("http://", "https://")):
        places.append((source_url.removeprefix("file://").rstrip("/"), "<model folder>"))
    for path, name in sorted(places, key=lambda place: -len(place[0])):
        if len(path) > 1:
            message = message.replace(shlex.quote(path), name).replace(path, name)
    return message


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    details = _jsonable_errors(error)
    problems = "; ".join(_describe(item) for item in details[:5])
    return JSONResponse({"message": f"Invalid request: {problems}", "detail": details}, status_code=422)


async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    message = error.detail if isinstance(error.detail, str) else "Request failed."
    if error.status_code == 404 and message == "Not Found":
        message = f"No route {request.url.path!r}."
    return JSONResponse(
        {"message": message, "detail": error.detail}, status_code=error.status_code, headers=error.headers
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("Unexpected error answering %s %s", request.method, request.url.path)
    return JSONResponse(
        {"message": "Internal server error; the server log has the details."}, status_code=500
    )


def _jsonable_errors(error: RequestValidationError) -> list[dict]:
    cleaned = []
    for item in error.errors():
        entry = {key: item[key] for key in ("type", "loc", "msg") if key in item}
        entry["loc"] = [part if isinstance(part, (str, int)) else str(part) for part in entry.get("loc", [])]
        cleaned.append(entry)
    return cleaned


def _describe(item: dict) -> str:
    location = ".".join(str(part) for part in item.get("loc", []))
    return f"{location}: {item.get('msg', 'invalid')}" if location else str(item.get("msg", "invalid"))
