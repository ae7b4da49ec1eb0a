"""Fetch image URLs under a :class:`UrlPolicy`.

The address a host resolves to is checked, and the connection is made to that very address
(so a second DNS answer cannot swap in an internal one); every redirect is checked again.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from inference_core.errors import ImageFetchError, ImageSourceNotAllowedError, PayloadTooLargeError
from inference_core.settings import UrlPolicy

_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


def fetch_url(url: str, policy: UrlPolicy, max_bytes: int) -> bytes:
    if not policy.allowed:
        raise ImageSourceNotAllowedError("URL image input is disabled on this server.")
    for _ in range(policy.max_redirects + 1):
        response_status, location, body = _get_once(url, policy, max_bytes)
        if response_status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        if response_status != 200:
            raise ImageFetchError(f"Fetching the image URL failed with HTTP status {response_status}.")
        return body
    raise ImageFetchError(f"Fetching the image URL gave more than {policy.max_redirects} redirects.")


def resolve_allowed_address(url: str, policy: UrlPolicy) -> tuple[str, str, int, str]:
    """Check `url` against the policy; return (scheme, host, port, address to connect to)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ImageSourceNotAllowedError("Image URL must be an absolute http:// or https:// URL.")
    if scheme == "http" and not policy.allow_non_https:
        raise ImageSourceNotAllowedError("Image URLs must use https on this server.")
    host = parts.hostname.lower().rstrip(".")
    _check_host_lists(host, policy)
    if not policy.allow_without_fqdn and "." not in host and not _is_ip_literal(host):
        raise ImageSourceNotAllowedError(f"Image URL host {host!r} is not a fully qualified name.")
    if host in _METADATA_HOSTS and not policy.allow_non_global_addresses:
        raise ImageSourceNotAllowedError("Image URL points at a cloud metadata service.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise ImageSourceNotAllowedError("Image URL has an invalid port.") from error
    return scheme, host, port, _resolve(host, port, policy)


def _check_host_lists(host: str, policy: UrlPolicy) -> None:
    if policy.whitelist and host not in policy.whitelist:
        raise ImageSourceNotAllowedError(f"Image URL host {host!r} is not in the allowed list.")
    if host in policy.blacklist:
        raise ImageSourceNotAllowedError(f"Image URL host {host!r} is blocked on this server.")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _resolve(host: str, port: int, policy: UrlPolicy) -> str:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise ImageFetchError(f"Could not resolve image URL host {host!r}.") from error
    addresses = [answer[4][0] for answer in answers]
    if not policy.allow_non_global_addresses:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global or ip.is_multicast:
                raise ImageSourceNotAllowedError(
                    f"Image URL host {host!r} resolves to a non-public address ({ip}); "
                    "fetching internal addresses is not allowed."
                )
    return addresses[0]


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP connection to a pre-checked address, sending the original Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedTlsConnection(_PinnedConnection):
    def connect(self) -> None:
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


def _get_once(url: str, policy: UrlPolicy, max_bytes: int) -> tuple[int, str | None, bytes]:
    scheme, host, port, address = resolve_allowed_address(url, policy)
    connection_class = _PinnedTlsConnection if scheme == "https" else _PinnedConnection
    connection = connection_class(host, port, address, policy.timeout_seconds)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("GET", path, headers={"User-Agent": "visionhost", "Accept": "image/*"})
        response = connection.getresponse()
        if response.status in (301, 302, 303, 307, 308):
            return response.status, response.getheader("Location"), b""
        return response.status, None, _read_capped(response, max_bytes)
    except (OSError, http.client.HTTPException) as error:
        raise ImageFetchError(f"Could not download the image URL: {error}") from error
    finally:
        connection.close()


def _read_capped(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"Image URL content is larger than {max_bytes} bytes.")
    body = response.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise PayloadTooLargeError(f"Image URL content is larger than {max_bytes} bytes.")
    return body
