"""The I/O-free core: effects that operations yield, retries, and turning replies into results.

An operation is a generator. It never touches the network; it yields effects and is sent back
their outcomes:

- `Call`: one HTTP request. Outcome: a `Reply` (any status) or a `TransportFailure`.
- `Sleep`: wait before a retry. Outcome: None.
- `Parallel`: run other operations, at most `limit` at a time. Outcome: their results, in order.

The sync and async executors (`executors.py`) are the only code that performs effects, so every
client method is written once, here and in `operations.py`, and runs both ways.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from inference_sdk.http.errors import HTTPClientError, HTTPServerConnectionError, error_for_status

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One HTTP request, fully described: what an executor hands to httpx."""

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    content: bytes | str | None = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Reply:
    """What came back for a `Call`; headers are keyed in lower case."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass(frozen=True)
class TransportFailure:
    """No reply: `kind` is "connection" (retried), "timeout" or "other" (not retried)."""

    kind: str
    message: str


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Parallel:
    operations: Sequence[Generator[Any, Any, Any]]
    limit: int = 1


Effect = Call | Sleep | Parallel
Operation = Generator[Effect, Any, T]

RETRYABLE_STATUS_CODES = frozenset({429, 503, 504})
MAX_RETRY_AFTER_SECONDS = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """3 tries, 1 s apart, on 429/503/504 and on connection failures (docs/WIRE.md §5).

    A `Retry-After` header in seconds, when the server sends one, replaces the interval (capped).
    """

    tries: int = 3
    interval: float = 1.0
    statuses: frozenset[int] = field(default=RETRYABLE_STATUS_CODES)

    def delay_after(self, outcome: Reply | TransportFailure) -> float | None:
        """Seconds to wait before trying again, or None when this outcome is final."""
        if isinstance(outcome, TransportFailure):
            return self.interval if outcome.kind == "connection" else None
        if outcome.status_code not in self.statuses:
            return None
        return _retry_after(outcome) if "retry-after" in outcome.headers else self.interval


def _retry_after(reply: Reply) -> float:
    try:
        return min(max(float(reply.headers["retry-after"]), 0.0), MAX_RETRY_AFTER_SECONDS)
    except ValueError:  # an HTTP date: not worth parsing for a short back-off
        return 1.0


def send(call: Call, retry: RetryPolicy) -> Operation[Reply]:
    """Perform `call` with retries; answer the 2xx `Reply` or raise the client's error for it."""
    outcome: Reply | TransportFailure | None = None
    for attempt in range(1, max(retry.tries, 1) + 1):
        outcome = yield call
        delay = retry.delay_after(outcome)
        if delay is None or attempt == retry.tries:
            break
        yield Sleep(delay)
    return ensure_success(call, outcome)


def ensure_success(call: Call, outcome: Reply | TransportFailure | None) -> Reply:
    where = f"{call.method} {call.url}"
    if isinstance(outcome, TransportFailure):
        if outcome.kind == "connection":
            raise HTTPServerConnectionError(f"Error with server connection ({where}): {outcome.message}")
        raise HTTPClientError(f"Request failed ({where}): {outcome.message}")
    assert outcome is not None
    if outcome.status_code >= 400:
        raise error_for_status(outcome.status_code)(
            description=f"{where} answered {outcome.status_code}",
            status_code=outcome.status_code,
            api_message=api_message(outcome),
        )
    return outcome


def api_message(reply: Reply) -> str | None:
    """The server's explanation: JSON `message` or `detail` (FastAPI), else the body text."""
    if "json" in reply.content_type:
        try:
            body = reply.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            message = body.get("message") or body.get("detail")
            if message is not None and not isinstance(message, str):
                message = json.dumps(message)
            if message and body.get("inner_error_message"):
                message = f"{message}. More details: {body['inner_error_message']}"
            return message
    text = reply.content.decode("utf-8", errors="replace").strip()
    return text or None


def send_json(call: Call, retry: RetryPolicy) -> Operation[Any]:
    reply = yield from send(call, retry)
    return reply.json()


def gather(operations: Sequence[Operation[T]], limit: int) -> Operation[list[T]]:
    """Run `operations` concurrently (at most `limit` at once); results in the given order."""
    if not operations:
        return []
    results = yield Parallel(list(operations), limit=max(limit, 1))
    return list(results)


def deferred(function: Any, *args: Any) -> Operation[Any]:
    """An operation with no effects: calls `function(*args)` when the executor first steps it.

    Used to put CPU work (image encoding) inside a `Parallel`, where the sync executor spreads
    it over threads.
    """
    return function(*args)
    yield  # unreachable: makes this function a generator
