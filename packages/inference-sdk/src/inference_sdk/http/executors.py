"""The only code that does I/O: it performs the effects that operations yield (see protocol.py).

`SyncExecutor` runs an operation over an `httpx.Client` (parallel branches on threads);
`AsyncExecutor` over an `httpx.AsyncClient` (parallel branches as tasks). Both are a loop that
feeds each effect's outcome back into the operation; neither knows any route or parameter.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any

import httpx

from inference_sdk.http.protocol import Call, Operation, Parallel, Reply, Sleep, T, TransportFailure

# Model loading (`/model/add`) may download and compile a model: allow minutes, not httpx's 5 s.
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=10.0)

# Failures where no request reached a server that answered: safe to retry.
_CONNECTION_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError,
                      httpx.ReadError, httpx.WriteError, httpx.PoolTimeout)


def sync_client(timeout: float | httpx.Timeout | None, transport: Any) -> httpx.Client:
    return httpx.Client(timeout=timeout or DEFAULT_TIMEOUT, transport=transport, follow_redirects=True)


def async_client(timeout: float | httpx.Timeout | None, transport: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=timeout or DEFAULT_TIMEOUT, transport=transport, follow_redirects=True)


def _request_arguments(call: Call) -> dict[str, Any]:
    arguments: dict[str, Any] = {"method": call.method, "url": call.url}
    for name in ("params", "json", "content", "headers"):
        value = getattr(call, name)
        if value is not None:
            arguments[name] = value
    return arguments


def _reply(response: httpx.Response) -> Reply:
    headers = {name.lower(): value for name, value in response.headers.items()}
    return Reply(status_code=response.status_code, headers=headers, content=response.content)


def _failure(error: httpx.HTTPError) -> TransportFailure:
    if isinstance(error, _CONNECTION_ERRORS):
        kind = "connection"
    elif isinstance(error, httpx.TimeoutException):
        kind = "timeout"
    else:
        kind = "other"
    return TransportFailure(kind=kind, message=f"{type(error).__name__}: {error}")


class SyncExecutor:
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def run(self, operation: Operation[T]) -> T:
        outcome: Any = None
        with closing(operation):  # its `finally` blocks run however the run ends
            while True:
                try:
                    effect = operation.send(outcome)
                except StopIteration as stop:
                    return stop.value
                outcome = self._perform(effect)

    def _perform(self, effect: Any) -> Any:
        if isinstance(effect, Call):
            try:
                return _reply(self._client.request(**_request_arguments(effect)))
            except httpx.HTTPError as error:
                return _failure(error)
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        if isinstance(effect, Parallel):
            return self._parallel(effect)
        raise TypeError(f"Unknown effect {effect!r}")

    def _parallel(self, effect: Parallel) -> list[Any]:
        workers = min(effect.limit, len(effect.operations))
        if workers <= 1:
            return [self.run(operation) for operation in effect.operations]
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference-sdk")
        try:
            return list(pool.map(self.run, effect.operations))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # on error, start nothing more


class AsyncExecutor:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def run(self, operation: Operation[T]) -> T:
        outcome: Any = None
        with closing(operation):  # its `finally` blocks run however the run ends
            while True:
                try:
                    effect = operation.send(outcome)
                except StopIteration as stop:
                    return stop.value
                outcome = await self._perform(effect)

    async def _perform(self, effect: Any) -> Any:
        if isinstance(effect, Call):
            try:
                return _reply(await self._client.request(**_request_arguments(effect)))
            except httpx.HTTPError as error:
                return _failure(error)
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
            return None
        if isinstance(effect, Parallel):
            return await self._parallel(effect)
        raise TypeError(f"Unknown effect {effect!r}")

    async def _parallel(self, effect: Parallel) -> list[Any]:
        slots = asyncio.Semaphore(max(effect.limit, 1))

        async def run_in_slot(operation: Operation[Any]) -> Any:
            async with slots:
                return await self.run(operation)

        tasks = [asyncio.ensure_future(run_in_slot(operation)) for operation in effect.operations]
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:
                task.cancel()  # no-op for finished ones; stops the rest after a failure

