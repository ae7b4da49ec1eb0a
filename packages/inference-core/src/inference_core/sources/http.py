"""Talking to a registry over HTTP (standard library only): timeouts, retries, caps, error mapping.

Transient failures (connection errors, timeouts, HTTP 429/5xx, a body cut short) are retried a
bounded number of times with exponential backoff; everything else fails at once. Every failure
becomes an :class:`InferenceError` carrying the status the wire format names, and messages never
include query strings (they hold API keys and signatures).
"""

from __future__ import annotations

import functools
import http.client
import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from inference_core.errors import (
    InferenceError,
    ModelNotFoundError,
    RegistryAuthError,
    RegistryError,
    RegistryForbiddenError,
    RegistryTimeoutError,
    RegistryUnavailableError,
)
from inference_core.pinned_http import PinnedConnection, PinnedTlsConnection
from inference_core.settings import RegistrySettings
from inference_core.sources.base import ProgressCallback
from inference_core.sources.trust import ArtifactPolicy

CHUNK_BYTES = 1024 * 1024
TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
USER_AGENT = "visionhost-model-fetcher/0.1"


class _Transient(Exception):
    """A failure worth another try; carries the error to raise if the tries run out."""

    def __init__(self, error: InferenceError) -> None:
        super().__init__(error.message)
        self.error = error


def redact(url: str) -> str:
    """The URL without its query string or credentials, safe to show a person."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def is_remote(location: str) -> bool:
    return location.startswith(("http://", "https://"))


class RegistryClient:
    """Fetches JSON answers and files for model sources."""

    def __init__(self, settings: RegistrySettings) -> None:
        self.settings = settings
        policy = ArtifactPolicy(settings)
        self.opener = urllib.request.build_opener(
            _CheckedRedirects(policy), _PinnedHttpHandler(policy), _PinnedHttpsHandler(policy)
        )

    def get_json(self, url: str, what: str) -> Any:
        """GET `url` and parse its JSON body; `what` names it in error messages."""

        def attempt() -> Any:
            with self._open(url, what) as response:
                _refuse_html(response, url, what)
                body = _read_capped(response, self.settings.max_metadata_bytes, url, what)
            try:
                return json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise RegistryError(
                    f"The model registry answered {what} with something that is not JSON ({redact(url)})."
                ) from None

        return self._with_retries(attempt)

    def download(
        self, location: str, destination: Path, what: str, progress: ProgressCallback | None = None
    ) -> int:
        """Copy `location` (a URL or a local path) into `destination`; the byte count."""
        if not is_remote(location):
            return self._copy_local(location, destination, what, progress)
        return self._with_retries(lambda: self._download_once(location, destination, what, progress))

    def _download_once(
        self, url: str, destination: Path, what: str, progress: ProgressCallback | None
    ) -> int:
        with self._open(url, what) as response:
            _refuse_html(response, url, what)
            total = _content_length(response)
            self._check_size(total or 0, url, what)
            deadline = time.monotonic() + self.settings.download_deadline_seconds
            received = 0
            with open(destination, "wb") as out:
                while chunk := _read_chunk(response, url, what):
                    received += len(chunk)
                    self._check_size(received, url, what)
                    if time.monotonic() > deadline:
                        raise RegistryTimeoutError(
                            f"Downloading {what} from {redact(url)} took longer than "
                            f"{self.settings.download_deadline_seconds:.0f} s; giving up."
                        )
                    out.write(chunk)
                    if progress:
                        progress(destination.name, received, total)
        if total is not None and received != total:
            raise _Transient(RegistryError(
                f"The download of {what} from {redact(url)} was cut short: {received} of {total} bytes "
                "arrived. Try again; if it keeps happening the registry or a proxy is dropping connections."
            ))
        return received

    def _copy_local(
        self, location: str, destination: Path, what: str, progress: ProgressCallback | None
    ) -> int:
        path = Path(location.removeprefix("file://"))
        if not path.is_file():
            raise ModelNotFoundError(f"The model folder has no {what} ({path}).")
        size = path.stat().st_size
        self._check_size(size, str(path), what)
        with open(path, "rb") as source, open(destination, "wb") as out:
            shutil.copyfileobj(source, out, CHUNK_BYTES)
        if progress:
            progress(destination.name, size, size)
        return size

    def _check_size(self, size: int, url: str, what: str) -> None:
        if size > self.settings.max_download_bytes:
            raise RegistryError(
                f"{what} from {redact(url)} is larger than the {self.settings.max_download_bytes} byte cap "
                "(MODEL_DOWNLOAD_MAX_BYTES); raise the cap if the model really is that large."
            )

    def _open(self, url: str, what: str):
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            return self.opener.open(request, timeout=self.settings.timeout_seconds)
        except urllib.error.HTTPError as error:
            error.close()
            raise status_error(error.code, url, what) from None
        except urllib.error.URLError as error:
            raise _connection_error(error.reason, url, what, self.settings.timeout_seconds) from None
        except (TimeoutError, OSError, http.client.HTTPException) as error:
            raise _connection_error(error, url, what, self.settings.timeout_seconds) from None

    def _with_retries(self, attempt):
        tries = max(0, self.settings.retries) + 1
        for index in range(tries):
            try:
                return attempt()
            except _Transient as transient:
                if index == tries - 1:
                    raise transient.error from None
                time.sleep(self.settings.backoff_seconds * (2**index))


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to where the artifact policy lets the fetcher go."""

    def __init__(self, policy: ArtifactPolicy) -> None:
        self.policy = policy

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self.policy.check(newurl, "a redirected download")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Pinned:
    """Connects to the address the artifact policy checked at the moment of connecting (every
    redirect included), instead of letting the connection resolve the host again."""

    def __init__(self, policy: ArtifactPolicy) -> None:
        super().__init__()
        self.policy = policy

    def _open_pinned(self, req, connection_class, **connection_args):
        address = self.policy.connect_address(req.full_url, "a download")
        if address is None:
            return None
        return self.do_open(functools.partial(connection_class, address=address), req, **connection_args)


class _PinnedHttpHandler(_Pinned, urllib.request.HTTPHandler):
    def http_open(self, req):
        response = self._open_pinned(req, PinnedConnection)
        return response if response is not None else super().http_open(req)


class _PinnedHttpsHandler(_Pinned, urllib.request.HTTPSHandler):
    def https_open(self, req):
        response = self._open_pinned(req, PinnedTlsConnection, context=self._context)
        return response if response is not None else super().https_open(req)


def status_error(status: int, url: str, what: str) -> Exception:
    """The error for an HTTP error status from the registry (wrapped when worth retrying)."""
    where = redact(url)
    if status == 401:
        return RegistryAuthError(
            f"The model registry refused the API key while fetching {what} (HTTP 401 from {where}). "
            "Check the API key: pass api_key, or set ROBOFLOW_API_KEY on the server."
        )
    if status == 403:
        return RegistryForbiddenError(
            f"The model registry denied access to {what} (HTTP 403 from {where}). Check the API key: "
            "it must belong to the workspace that owns the model."
        )
    if status == 404:
        return ModelNotFoundError(
            f"The model registry has no {what} (HTTP 404 from {where}). Check the model id and version."
        )
    error_class = RegistryUnavailableError if status == 503 else RegistryError
    error = error_class(f"The model registry failed while serving {what}: HTTP {status} from {where}.")
    return _Transient(error) if status in TRANSIENT_STATUSES else error


def _connection_error(reason: Any, url: str, what: str, timeout: float) -> _Transient:
    where = redact(url)
    if isinstance(reason, TimeoutError):
        return _Transient(RegistryTimeoutError(
            f"The model registry at {where} did not answer within {timeout:g} s while fetching {what} "
            "(MODEL_DOWNLOAD_TIMEOUT)."
        ))
    return _Transient(RegistryUnavailableError(
        f"Cannot reach the model registry at {where} to fetch {what}: {reason}. Check the network, "
        "API_BASE_URL / MODEL_SOURCE_URL, or set OFFLINE_MODE=true to serve only cached models."
    ))


def _read_chunk(response, url: str, what: str) -> bytes:
    try:
        return response.read(CHUNK_BYTES)
    except (TimeoutError, OSError, http.client.HTTPException) as error:
        if isinstance(error, TimeoutError):
            raise _Transient(RegistryTimeoutError(
                f"The model registry at {redact(url)} stopped sending {what} mid-way and timed out "
                "(MODEL_DOWNLOAD_TIMEOUT)."
            )) from None
        raise _Transient(RegistryError(
            f"The connection to {redact(url)} broke while downloading {what} ({type(error).__name__})."
        )) from None


def _read_capped(response, cap: int, url: str, what: str) -> bytes:
    chunks, size = [], 0
    while chunk := _read_chunk(response, url, what):
        size += len(chunk)
        if size > cap:
            raise RegistryError(f"The model registry's answer for {what} is larger than {cap} bytes.")
        chunks.append(chunk)
    body = b"".join(chunks)
    total = _content_length(response)
    if total is not None and len(body) != total:
        raise _Transient(RegistryError(f"The answer for {what} from {redact(url)} was cut short."))
    return body


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _refuse_html(response, url: str, what: str) -> None:
    content_type = (response.headers.get("Content-Type") or "").lower()
    if content_type.startswith("text/html"):
        raise RegistryError(
            f"The model registry answered {what} with an HTML page instead of the file ({redact(url)}); "
            "a login page, proxy or captive portal may be in the way. Check API_BASE_URL / MODEL_SOURCE_URL."
        )
