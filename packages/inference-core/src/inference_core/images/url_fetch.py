"""Fetch image URLs under a :class:`UrlPolicy`.

The address a host resolves to is checked (see :mod:`inference_core.addresses`), and the
connection is made to that very address (:mod:`inference_core.pinned_http`), so a second DNS answer cannot swap in an internal one;
every redirect is checked again. One deadline covers the whole fetch, redirects, connecting and
every byte of the body: a host that drips bytes is cut off when it passes, however slowly it
sends. Every URL that cannot be parsed is a 400.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from inference_core import addresses
from inference_core.errors import ImageFetchError, ImageSourceNotAllowedError, PayloadTooLargeError
from inference_core.pinned_http import PinnedConnection, PinnedTlsConnection
from inference_core.settings import UrlPolicy

_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}
_REDIRECTS = (301, 302, 303, 307, 308)
_READ_BYTES = 64 * 1024
# Characters left as they are when a path is percent-encoded for the request line.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~?"


@dataclass(frozen=True)
class ParsedUrl:
    scheme: str
    host: str  # lower case, IDNA-encoded ASCII
    port: int
    target: str  # path and query, percent-encoded ASCII


class Deadline:
    """Seconds left of one fetch; raises ImageFetchError once they are spent."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0:
            raise ImageFetchError(f"Fetching the image URL took longer than {self.seconds:g} s; gave up.")
        return left


def fetch_url(url: str, policy: UrlPolicy, max_bytes: int) -> bytes:
    if not policy.allowed:
        raise ImageSourceNotAllowedError("URL image input is disabled on this server.")
    deadline = Deadline(policy.deadline_seconds)
    for _ in range(policy.max_redirects + 1):
        status, location, body = _get_once(url, policy, max_bytes, deadline)
        if status in _REDIRECTS and location:
            url = _join(url, location)
            continue
        if status != 200:
            raise ImageFetchError(f"Fetching the image URL failed with HTTP status {status}.")
        return body
    raise ImageFetchError(f"Fetching the image URL gave more than {policy.max_redirects} redirects.")


def parse_url(url: str) -> ParsedUrl:
    """Split and normalise an http(s) URL; anything malformed is a 400."""
    try:
        url.encode("utf-8")
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        hostname = parts.hostname
        port = parts.port
    except (ValueError, UnicodeError, AttributeError):
        raise ImageSourceNotAllowedError("Image URL is malformed.") from None
    if scheme not in ("http", "https") or not hostname:
        raise ImageSourceNotAllowedError("Image URL must be an absolute http:// or https:// URL.")
    host = hostname.lower().rstrip(".")
    if addresses.parse_address(host) is None:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise ImageSourceNotAllowedError("Image URL has a host name that is not valid.") from None
    if not host or any(char in host for char in "%\\ \t\r\n") and addresses.parse_address(host) is None:
        raise ImageSourceNotAllowedError("Image URL has a host name that is not valid.")
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    query = quote(parts.query, safe=_PATH_SAFE) if parts.query else ""
    target = path + (f"?{query}" if query else "")
    return ParsedUrl(scheme, host, port or (443 if scheme == "https" else 80), target)


def resolve_allowed_address(url: str, policy: UrlPolicy) -> tuple[ParsedUrl, str]:
    """Check `url` against the policy; return it parsed, and the address to connect to."""
    parsed = parse_url(url)
    if parsed.scheme == "http" and not policy.allow_non_https:
        raise ImageSourceNotAllowedError("Image URLs must use https on this server.")
    host = parsed.host
    if policy.whitelist and host not in {entry.strip().lower() for entry in policy.whitelist}:
        raise ImageSourceNotAllowedError(f"Image URL host {host!r} is not in the allowed list.")
    if host in {entry.strip().strip("[]").lower() for entry in policy.blacklist}:
        raise ImageSourceNotAllowedError(f"Image URL host {host!r} is blocked on this server.")
    is_literal = addresses.parse_address(host) is not None
    if not policy.allow_without_fqdn and "." not in host and not is_literal:
        raise ImageSourceNotAllowedError(f"Image URL host {host!r} is not a fully qualified name.")
    if host in _METADATA_HOSTS and not policy.allow_non_global_addresses:
        raise ImageSourceNotAllowedError("Image URL points at a cloud metadata service.")
    return parsed, _resolve(parsed, policy)


def _resolve(parsed: ParsedUrl, policy: UrlPolicy) -> str:
    try:
        resolved = addresses.resolve(parsed.host, parsed.port)
    except (OSError, UnicodeError):
        raise ImageFetchError(f"Could not resolve image URL host {parsed.host!r}.") from None
    if not resolved:
        raise ImageFetchError(f"Image URL host {parsed.host!r} has no usable address.")
    blocked = addresses.listed_addresses(policy.blacklist, parsed.port) if policy.blacklist else None
    for address in resolved:
        if blocked and addresses.is_listed(address, blocked):
            raise ImageSourceNotAllowedError(
                f"Image URL host {parsed.host!r} resolves to {address}, which is blocked on this server."
            )
        if not policy.allow_non_global_addresses and not addresses.is_public(address):
            raise ImageSourceNotAllowedError(
                f"Image URL host {parsed.host!r} resolves to a non-public address ({address}); "
                "fetching internal addresses is not allowed."
            )
    return str(resolved[0])


def _get_once(url: str, policy: UrlPolicy, max_bytes: int, deadline: Deadline) -> tuple[int, str | None, bytes]:
    parsed, address = resolve_allowed_address(url, policy)
    connection_class = PinnedTlsConnection if parsed.scheme == "https" else PinnedConnection
    timeout = min(policy.timeout_seconds, deadline.remaining())
    connection = connection_class(parsed.host, parsed.port, address=address, timeout=timeout)
    # The watchdog cuts the socket at the deadline, whatever http.client is waiting for.
    watchdog = threading.Timer(deadline.remaining(), _cut, (connection,))
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("GET", parsed.target, headers={"User-Agent": "visionhost", "Accept": "image/*"})
        response = connection.getresponse()
        if response.status in _REDIRECTS:
            return response.status, response.getheader("Location"), b""
        return response.status, None, _read_capped(response, max_bytes, deadline)
    except (OSError, http.client.HTTPException, ValueError) as error:
        deadline.remaining()  # a cut at the deadline reads as "took too long", not as a broken host
        raise ImageFetchError(f"Could not download the image URL: {type(error).__name__}.") from None
    finally:
        watchdog.cancel()
        connection.close()


def _cut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _read_capped(response: http.client.HTTPResponse, max_bytes: int, deadline: Deadline) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"Image URL content is larger than {max_bytes} bytes.")
    chunks, size = [], 0
    while True:
        deadline.remaining()
        chunk = response.read1(_READ_BYTES)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(f"Image URL content is larger than {max_bytes} bytes.")
        chunks.append(chunk)


def _join(url: str, location: str) -> str:
    try:
        return urljoin(url, location)
    except ValueError:
        raise ImageFetchError("The image URL redirected to a malformed location.") from None
