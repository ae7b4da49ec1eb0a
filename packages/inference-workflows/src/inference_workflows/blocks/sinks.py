"""Sinks: `local_file_sink` (only under WORKFLOWS_LOCAL_SINK_DIR) and `webhook_sink` (only with
WORKFLOWS_ALLOW_WEBHOOKS, and only to addresses the server's image-URL policy allows). Both are
off unless the server's settings turn them on."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
import urllib.parse
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from inference_core.errors import InferenceError
from inference_core.images.url_fetch import resolve_allowed_address

from inference_workflows import kinds as K
from inference_workflows import operations as ops
from inference_workflows.blocks.base import Block, Field, Output, is_bool, is_dict, is_int, one_of
from inference_workflows.errors import SinkNotAllowedError

DISABLED = {"error_status": False, "message": "Sink was disabled by parameter `disable_sinks`"}


class LocalFileSink(Block):
    name = "roboflow_core/local_file_sink@v1"
    title = "Local File Sink"
    block_type = "sink"
    fields = (
        Field("content", (K.STRING,), selector_only=True),
        Field("file_type", (), "csv", one_of("csv", "json", "txt"), "str"),
        Field("output_mode", (), "append_log", one_of("append_log", "separate_files"), "str"),
        Field("target_directory", (K.STRING,), type_hint="str"),
        Field("file_name_prefix", (K.STRING,), "workflow_output", type_hint="str"),
        Field("max_entries_per_file", (K.STRING,), 1024, is_int(1), "int"),
    )
    outputs = (Output("error_status", (K.BOOLEAN,)), Output("message", (K.STRING,)))

    def __init__(self, step_name: str, context: Any) -> None:
        super().__init__(step_name, context)
        self._log: Path | None = None
        self._entries = 0
        self._lock = threading.Lock()

    def run(
        self,
        content: str | None,
        file_type: str,
        output_mode: str,
        target_directory: str,
        file_name_prefix: str,
        max_entries_per_file: int,
    ) -> dict:
        if self.context.settings.disable_sinks:
            return dict(DISABLED)
        root = self.context.settings.local_sink_dir
        if root is None:
            raise SinkNotAllowedError(
                "local_file_sink is disabled on this server; set WORKFLOWS_LOCAL_SINK_DIR to allow it."
            )
        directory = _inside(Path(root), target_directory)
        directory.mkdir(parents=True, exist_ok=True)
        prefix = Path(str(file_name_prefix)).name or "workflow_output"
        text = "" if content is None else str(content)
        with self._lock:
            if output_mode == "separate_files":
                target = _new_file(directory, prefix, file_type)
                target.write_text(text)
                return {"error_status": False, "message": "Data saved successfully"}
            if file_type == "json":
                try:
                    text = json.dumps(json.loads(text))
                except ValueError:
                    return {"error_status": True, "message": "Invalid JSON content"}
            if (
                self._log is None
                or self._entries >= int(max_entries_per_file)
                or self._log.parent != directory
            ):
                self._log, self._entries = _new_file(directory, prefix, file_type), 0
            elif file_type == "csv":
                text = text.split("\n", 1)[1] if "\n" in text else ""  # the header is in the file already
            with self._log.open("a") as handle:
                handle.write(text if text.endswith("\n") or not text else text + "\n")
            self._entries += 1
        return {"error_status": False, "message": "Data saved successfully"}


def _inside(root: Path, target: str) -> Path:
    """`target` (relative to the sink folder, or absolute within it) resolved; anything else refused."""
    root = root.resolve()
    candidate = (root / target).resolve() if not Path(target).is_absolute() else Path(target).resolve()
    if candidate != root and root not in candidate.parents:
        raise SinkNotAllowedError(f"local_file_sink may only write under {root}; {target!r} is outside it.")
    return candidate


def _new_file(directory: Path, prefix: str, file_type: str) -> Path:
    stamp = datetime.now().strftime("%Y_%m_%d_%H_%M_%S_%f")
    return directory / f"{prefix}_{stamp}_{uuid.uuid4().hex[:6]}.{file_type}"


class WebhookSink(Block):
    name = "roboflow_core/webhook_sink@v1"
    title = "Webhook Sink"
    block_type = "sink"
    fields = (
        Field("url", (K.STRING,), type_hint="str"),
        Field("method", (), "POST", one_of("GET", "POST", "PUT"), "str"),
        Field("query_parameters", ("*",), {}, is_dict, container="dict"),
        Field("headers", ("*",), {}, is_dict, container="dict"),
        Field("json_payload", ("*",), {}, is_dict, container="dict"),
        Field("json_payload_operations", (), {}, is_dict),
        Field("form_data", ("*",), {}, is_dict, container="dict"),
        Field("form_data_operations", (), {}, is_dict),
        Field("request_timeout", (K.INTEGER,), 2, is_int(1), "int"),
        Field("fire_and_forget", (K.BOOLEAN,), True, is_bool, "bool"),
        Field("disable_sink", (K.BOOLEAN,), False, is_bool, "bool"),
        Field("cooldown_seconds", (K.INTEGER,), 5, is_int(0), "int"),
    )
    outputs = (
        Output("error_status", (K.BOOLEAN,)),
        Output("throttling_status", (K.BOOLEAN,)),
        Output("message", (K.STRING,)),
    )

    def __init__(self, step_name: str, context: Any) -> None:
        super().__init__(step_name, context)
        self._last_sent: float | None = None

    @classmethod
    def check_definition(cls, definition: dict) -> str | None:
        for key in ("json_payload_operations", "form_data_operations"):
            for name, operations in (definition.get(key) or {}).items():
                problem = ops.check_operations(operations)
                if problem:
                    return f"{key}[{name!r}]: {problem}"
        return None

    def run(
        self,
        url: str,
        method: str,
        query_parameters: dict,
        headers: dict,
        json_payload: dict,
        json_payload_operations: dict,
        form_data: dict,
        form_data_operations: dict,
        request_timeout: int,
        fire_and_forget: bool,
        disable_sink: bool,
        cooldown_seconds: int,
    ) -> dict:
        if self.context.settings.disable_sinks:
            return {**DISABLED, "throttling_status": False}
        if disable_sink:
            return {
                "error_status": False,
                "throttling_status": False,
                "message": "Sink was disabled by parameter `disable_sink`",
            }
        if not self.context.settings.allow_webhooks:
            raise SinkNotAllowedError(
                "webhook_sink is disabled on this server; set WORKFLOWS_ALLOW_WEBHOOKS=true to allow it."
            )
        now = time.monotonic()
        if self._last_sent is not None and now - self._last_sent < cooldown_seconds:
            return {"error_status": False, "throttling_status": True, "message": "Sink cooldown applies"}
        self._last_sent = now
        payload = {
            key: ops.execute_operations(value, json_payload_operations.get(key, []), {})
            for key, value in json_payload.items()
        }
        form = {
            key: ops.execute_operations(value, form_data_operations.get(key, []), {})
            for key, value in form_data.items()
        }
        request = _prepare(url, method, query_parameters, headers, payload, form)
        policy = self.context.settings.url_policy
        resolve_allowed_address(url, policy)  # refuse before anything is sent
        if fire_and_forget:
            threading.Thread(target=_send, args=(request, policy, request_timeout), daemon=True).start()
            return {
                "error_status": False,
                "throttling_status": False,
                "message": "Notification sent in the background",
            }
        status, problem = _send(request, policy, request_timeout)
        if problem is not None:
            return {"error_status": True, "throttling_status": False, "message": problem}
        return {"error_status": False, "throttling_status": False, "message": f"Notification sent ({status})"}


def _prepare(url: str, method: str, query: dict, headers: dict, payload: dict, form: dict) -> dict:
    parts = urllib.parse.urlsplit(url)
    pairs = urllib.parse.parse_qsl(parts.query) + [(str(k), _text(v)) for k, v in query.items()]
    path = (parts.path or "/") + (f"?{urllib.parse.urlencode(pairs)}" if pairs else "")
    sent_headers = {str(k): _text(v) for k, v in headers.items()}
    body = None
    if method != "GET":
        if form:
            body = urllib.parse.urlencode({str(k): _text(v) for k, v in form.items()}).encode()
            sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            from inference_workflows.outputs import serialise_value

            body = json.dumps(serialise_value(payload)).encode()
            sent_headers.setdefault("Content-Type", "application/json")
    return {"url": url, "method": method, "path": path, "headers": sent_headers, "body": body}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _send(request: dict, policy: Any, timeout: float) -> tuple[int | None, str | None]:
    """Send to the address the policy checked (no re-resolution, no redirects)."""
    try:
        parsed, address = resolve_allowed_address(request["url"], policy)
        sock = socket.create_connection((address, parsed.port), timeout)
        if parsed.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=parsed.host)
        connection = http.client.HTTPConnection(parsed.host, parsed.port, timeout=timeout)
        connection.sock = sock
        try:
            connection.request(
                request["method"], request["path"], body=request["body"], headers=request["headers"]
            )
            status = connection.getresponse().status
        finally:
            connection.close()
    except (OSError, http.client.HTTPException, InferenceError) as error:
        return None, f"Could not send the notification: {getattr(error, 'message', error)}"
    if status >= 400:
        return status, f"The webhook answered HTTP {status}"
    return status, None


SINK_BLOCKS = [LocalFileSink, WebhookSink]
