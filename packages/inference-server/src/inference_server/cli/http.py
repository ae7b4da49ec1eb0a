"""Tiny HTTP helpers on the standard library (the CLI needs no HTTP client dependency)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own server
        return json.loads(response.read())


def is_healthy(base_url: str, timeout: float = 1.0) -> bool:
    try:
        return get_json(f"{base_url}/healthz", timeout).get("status") == "healthy"
    except (OSError, ValueError, AttributeError):
        return False


def post(url: str, body: bytes, content_type: str, timeout: float = 120.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
