"""Optional server-side API keys ([ours]): when configured, model and inference routes need one.

Lookup order follows Roboflow's: query `api_key`, then `Authorization: Bearer`, then the JSON
body's `api_key`.
"""

from __future__ import annotations

import hmac
import json

from fastapi import Request

from inference_server.errors import UnauthorizedError
from inference_server.state import ServerState, State


async def request_api_key(request: Request) -> str | None:
    key = request.query_params.get("api_key")
    if key:
        return key
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if request.headers.get("content-type", "").startswith("application/json"):
        return _body_api_key(await request.body())
    return None


async def require_api_key(request: Request, state: State) -> None:
    accepted = state.settings.accepted_api_keys
    if not accepted:
        return
    key = await request_api_key(request)
    if key is None:
        raise UnauthorizedError("This server requires an API key (query api_key or Authorization: Bearer).")
    if not any(hmac.compare_digest(key.encode(), candidate.encode()) for candidate in accepted):
        raise UnauthorizedError("The API key is not accepted by this server.")


async def download_api_key(request: Request, state: ServerState) -> str | None:
    """The key to download a missing model with: the request's Roboflow key.

    When this server checks its own keys, the request's key is one of those, and must never be
    sent on to the model registry; the configured API_KEY is used instead (core's default).
    """
    if state.settings.accepted_api_keys:
        return None
    return await request_api_key(request)


def _body_api_key(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None  # the route reports the malformed body itself
    key = document.get("api_key") if isinstance(document, dict) else None
    return key if isinstance(key, str) and key else None
