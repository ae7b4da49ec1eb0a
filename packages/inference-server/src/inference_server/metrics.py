"""Prometheus metrics in the text exposition format, without a client library.

Requests are counted by route template (not raw path, so hostile paths cannot blow up the
label set), method and status; latency goes into a histogram per route.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
UNMATCHED_ROUTE = "<unmatched>"
#: scope key holding `time.perf_counter()` at arrival, for the responses' `time` field.
REQUEST_STARTED_KEY = "visionhost.started"
KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


@dataclass
class Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.buckets, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: str) -> list[str]:
        separator = "," if labels else ""
        cumulative = 0
        lines = []
        for bound, count in zip(self.buckets, self.counts, strict=True):
            cumulative += count
            lines.append(f'{name}_bucket{{{labels}{separator}le="{bound:g}"}} {cumulative}')
        lines.append(f'{name}_bucket{{{labels}{separator}le="+Inf"}} {self.count}')
        lines.append(f"{name}_sum{{{labels}}} {self.total:.6f}")
        lines.append(f"{name}_count{{{labels}}} {self.count}")
        return lines


class Metrics:
    def __init__(self, loaded_models: Callable[[], list[str]] | None = None) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._latency: dict[tuple[str, str], Histogram] = {}
        self._images: dict[str, int] = defaultdict(int)
        self._batches: dict[str, Histogram] = {}
        self._in_flight = 0
        self._loaded_models = loaded_models or (lambda: [])
        self._started = time.time()

    def request_started(self) -> None:
        with self._lock:
            self._in_flight += 1

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self._in_flight -= 1
            self._requests[(method, route, status)] += 1
            histogram = self._latency.setdefault((method, route), Histogram(LATENCY_BUCKETS))
            histogram.observe(seconds)

    def observe_inference(self, model_id: str, images: int) -> None:
        with self._lock:
            self._images[model_id] += images

    def observe_batch(self, model_id: str, images: int) -> None:
        with self._lock:
            self._batches.setdefault(model_id, Histogram(BATCH_BUCKETS)).observe(images)

    def render(self) -> str:
        loaded = self._loaded_models()
        with self._lock:
            lines = _header("visionhost_http_requests_total", "counter", "HTTP requests by route and status.")
            for (method, route, status), count in sorted(self._requests.items()):
                labels = f'method="{method}",route="{_escape(route)}",status="{status}"'
                lines.append(f"visionhost_http_requests_total{{{labels}}} {count}")
            lines += _header(
                "visionhost_http_request_duration_seconds", "histogram", "Time to answer HTTP requests."
            )
            for (method, route), histogram in sorted(self._latency.items()):
                labels = f'method="{method}",route="{_escape(route)}"'
                lines += histogram.lines("visionhost_http_request_duration_seconds", labels)
            lines += _header("visionhost_http_requests_in_flight", "gauge", "Requests being answered now.")
            lines.append(f"visionhost_http_requests_in_flight {self._in_flight}")
            lines += _header("visionhost_inference_images_total", "counter", "Images inferred, by model.")
            for model_id, count in sorted(self._images.items()):
                lines.append(f'visionhost_inference_images_total{{model_id="{_escape(model_id)}"}} {count}')
            lines += _header(
                "visionhost_forward_batch_size", "histogram", "Images per dynamically batched forward pass."
            )
            for model_id, histogram in sorted(self._batches.items()):
                lines += histogram.lines("visionhost_forward_batch_size", f'model_id="{_escape(model_id)}"')
            lines += _header("visionhost_models_loaded", "gauge", "Models loaded in this process.")
            lines.append(f"visionhost_models_loaded {len(loaded)}")
            for model_id in sorted(loaded):
                lines.append(f'visionhost_model_loaded{{model_id="{_escape(model_id)}"}} 1')
            lines += _header(
                "visionhost_process_start_time_seconds", "gauge", "Unix time the server started."
            )
            lines.append(f"visionhost_process_start_time_seconds {self._started:.3f}")
        return "\n".join(lines) + "\n"


def _header(name: str, kind: str, help_text: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class MetricsMiddleware:
    """Pure ASGI middleware: times every HTTP request and records it by route template."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        scope[REQUEST_STARTED_KEY] = started
        status = 500
        self.metrics.request_started()

        async def send_and_record(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
            method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
            self.metrics.observe_request(method, route, status, time.perf_counter() - started)
