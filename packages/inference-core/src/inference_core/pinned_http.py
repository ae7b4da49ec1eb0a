"""HTTP(S) connections made to an address checked beforehand, never to a fresh DNS answer.

Whoever checks a host's resolved address (image URL fetches, registry downloads) connects to that
very address, sending the original host name in the Host header and for TLS (SNI and certificate
check), so a second DNS answer cannot swap in an internal address between check and connect.
"""

from __future__ import annotations

import http.client
import socket
import ssl


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP connection to `address`, speaking to `host` (the name the URL gave)."""

    def __init__(self, host: str, port: int | None = None, *, address: str, timeout: float, **_tls) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedTlsConnection(PinnedConnection):
    """The same over TLS; the certificate must be valid for `host`."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int | None = None, *, address: str, timeout: float,
                 context: ssl.SSLContext | None = None, **_ignored) -> None:
        super().__init__(host, port, address=address, timeout=timeout)
        self.context = context or ssl.create_default_context()

    def connect(self) -> None:
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)
