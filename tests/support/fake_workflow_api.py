"""A stand-in for Roboflow's saved-workflow API on 127.0.0.1.

`GET /{workspace}/workflows/{workflow_id}?api_key=...` answers the workflow's specification, as
Roboflow's API does (a JSON `config` string inside `workflow`), when `accepts(path, api_keys)` says
so, and 404 otherwise. Every request's path and `api_key` values are kept in `hits`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class FakeWorkflowApi:
    def __init__(self, specification: dict,
                 accepts: Callable[[str, list[str] | None], bool] = lambda path, keys: True) -> None:
        self.hits: list[tuple[str, list[str] | None]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                parts = urlsplit(self.path)
                keys = parse_qs(parts.query).get("api_key")
                api.hits.append((parts.path, keys))
                if not accepts(parts.path, keys):
                    self.send_response(404)
                    self.end_headers()
                    return
                config = json.dumps({"specification": specification})
                name = parts.path.rsplit("/", 1)[-1]
                body = json.dumps({"workflow": {"name": name, "config": config}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> FakeWorkflowApi:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
