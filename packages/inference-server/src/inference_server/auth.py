"""Optional server-side API keys ([ours]): when configured, model and inference routes need one.

Lookup order follows Roboflow's: query `api_key`, then `Authorization: Bearer`, then the JSON
body's `api_key`. The body is scanned for the key, never parsed: an unauthenticated body costs the
server one pass of a regular expression (see :mod:`inference_server.preflight`, which checks keys
before any route reads a JSON body).
"""

from __future__ import annotations

import email.message
import hmac
import json
import re
from collections.abc import Mapping
from typing import Protocol

from fastapi import Request

from inference_server.errors import UnauthorizedError
from inference_server.state import ServerState, State


class ParsedBody(Protocol):
    """A parsed JSON request body: an inference or model request, a workflow request."""

    api_key: str | None


#: A string-valued "api_key" member anywhere in a JSON text (at most 512 characters).
_BODY_KEY = re.compile(rb'"api_key"\s*:\s*"((?:[^"\\]|\\.){1,512})"')
#: Most "api_key" members looked at in one body.
_MAX_BODY_KEYS = 4


def header_api_key(query: Mapping[str, str], headers: Mapping[str, str]) -> str | None:
    key = query.get("api_key")
    if key:
        return key
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def body_api_keys(body: bytes) -> list[str]:
    """The string values of "api_key" members of a JSON body, found by a scan (no parsing)."""
    keys = []
    for match in _BODY_KEY.finditer(body):
        try:
            key = json.loads(b'"' + match.group(1) + b'"')
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(key, str) and key:
            keys.append(key)
        if len(keys) >= _MAX_BODY_KEYS:
            break
    return keys


def is_json(headers: Mapping[str, str]) -> bool:
    """Whether the routes will parse the body as JSON: FastAPI does so for no content type at all,
    `application/json` and any `application/...+json`, whatever the parameters and letter case."""
    content_type = headers.get("content-type")
    if not content_type:
        return True
    parsed = email.message.Message()  # the header parser FastAPI decides with
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def key_is_accepted(keys: list[str], accepted: tuple[str, ...]) -> bool:
    """Constant-time comparison of each offered key with each accepted one."""
    offered = [key.encode("utf-8", "surrogatepass") for key in keys]
    return any(hmac.compare_digest(key, candidate.encode()) for key in offered for candidate in accepted)


def refusal(keys: list[str]) -> UnauthorizedError:
    if not keys:
        return UnauthorizedError("This server requires an API key (query api_key or Authorization: Bearer).")
    return UnauthorizedError("The API key is not accepted by this server.")


async def request_api_keys(request: Request) -> list[str]:
    key = header_api_key(request.query_params, request.headers)
    if key:
        return [key]
    if is_json(request.headers):
        return body_api_keys(await request.body())
    return []


async def request_api_key(request: Request) -> str | None:
    keys = await request_api_keys(request)
    return keys[0] if keys else None


async def require_api_key(request: Request, state: State) -> None:
    accepted = state.settings.accepted_api_keys
    if not accepted:
        return
    keys = await request_api_keys(request)
    if not key_is_accepted(keys, accepted):
        raise refusal(keys)


async def download_api_key(
    request: Request, state: ServerState, body: ParsedBody | None = None
) -> str | None:
    """The key to download a missing model with: the request's Roboflow key.

    When this server checks its own keys, the request's key is one of those, and must never be
    sent on to the model registry; the configured API_KEY is used instead (core's default). A
    route that has parsed its JSON body passes it, and its top-level `api_key` is used: the body
    (megabytes with a large image) is not scanned again.
    """
    if state.settings.accepted_api_keys:
        return None
    if body is not None:
        return header_api_key(request.query_params, request.headers) or body.api_key or None
    return await request_api_key(request)
