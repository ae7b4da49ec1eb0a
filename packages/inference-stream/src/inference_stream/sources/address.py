"""Network video sources pass the same address policy as image URLs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from inference_core.errors import ImageSourceNotAllowedError
from inference_core.images.url_fetch import resolve_allowed_address
from inference_core.settings import UrlPolicy

DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "rtmp": 1935, "rtmps": 443, "http": 80, "https": 443}
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


class VideoSourceNotAllowedError(ImageSourceNotAllowedError):
    """A stream URL the address policy refuses (internal address, blocked host, ...)."""


def redact(reference: object) -> str:
    """The reference as it may appear in logs and messages: credentials in URLs removed."""
    return _CREDENTIALS.sub("***@", str(reference))


def check_stream_address(url: str, policy: UrlPolicy) -> None:
    """Refuse `url` unless its host passes `policy` (host lists, FQDN rule, public addresses).

    The image-URL check itself is applied to the stream's host and port, so both kinds of URL
    follow one rule. FFmpeg resolves the name again when it connects; the check runs before each
    connection attempt, reconnections included.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not policy.allowed:
        raise VideoSourceNotAllowedError("Network video sources are disabled (URL input is off).")
    if scheme == "http" and not policy.allow_non_https:
        raise VideoSourceNotAllowedError("Stream URLs must use https on this server.")
    if not parts.hostname:
        raise VideoSourceNotAllowedError(f"Video source {redact(url)!r} has no host.")
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme, 80)
    except ValueError as error:
        raise VideoSourceNotAllowedError(f"Video source {redact(url)!r} has an invalid port.") from error
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    try:
        resolve_allowed_address(f"http://{host}:{port}/", policy)
    except ImageSourceNotAllowedError as error:
        message = str(error).replace("Image URL", "Stream URL")
        raise VideoSourceNotAllowedError(f"Video source {redact(url)!r} refused: {message}") from error
