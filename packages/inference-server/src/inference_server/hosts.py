"""The optional allowed-`Host` list (VISIONHOST_ALLOWED_HOSTS): a defence against DNS rebinding.

A web page on another origin can make a browser send requests to a server on the user's own
network by rebinding its domain name to the server's address; such requests carry the attacker's
domain in their Host header. With a list set, any other Host is refused with a 400 before the
request reaches a route. Entries are host names or addresses, with or without a port; `*.example.com`
allows every subdomain.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers


class AllowedHostsMiddleware:
    def __init__(self, app, allowed_hosts: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = {host.lower() for host in allowed_hosts}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.allowed:
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "").lower()
        if host_is_allowed(host, self.allowed):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"message": "The request's Host header is not one this server answers to "
                                      "(VISIONHOST_ALLOWED_HOSTS)."}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def host_is_allowed(host: str, allowed: set[str]) -> bool:
    """Whether a Host header value (`name`, `name:port`, `[v6]:port`) matches the list."""
    name = host[: host.find("]") + 1] if host.startswith("[") else host.split(":", 1)[0]
    if {host, name, name.strip("[]")} & allowed:
        return True
    return any(entry.startswith("*.") and name.endswith(entry[1:]) for entry in allowed)
