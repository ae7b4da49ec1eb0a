"""The I/O-free core runs the same on both executors: one operation, two ways of doing I/O."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from inference_sdk.http.executors import AsyncExecutor, SyncExecutor
from inference_sdk.http.protocol import Call, Parallel, Reply, RetryPolicy, Sleep, deferred, gather, send


def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={
        "path": request.url.path, "params": dict(request.url.params),
        "body": request.content.decode(), "auth": request.headers.get("authorization"),
    })


def scenario():
    """Uses every effect: a call, a sleep, parallel sub-operations and deferred work."""
    first = yield Call("POST", "http://x.test/a", params={"q": "1"}, json={"k": [1, 2]},
                       headers={"Authorization": "Bearer t"})
    yield Sleep(0)
    fetches = [send(Call("GET", f"http://x.test/{index}"), RetryPolicy()) for index in range(5)]
    rest = yield from gather(fetches + [deferred(lambda: "computed")], limit=3)
    return first.json(), [reply.json()["path"] if isinstance(reply, Reply) else reply for reply in rest]


def run_sync():
    with httpx.Client(transport=httpx.MockTransport(echo)) as client:
        return SyncExecutor(client).run(scenario())


async def run_async():
    async with httpx.AsyncClient(transport=httpx.MockTransport(echo)) as client:
        return await AsyncExecutor(client).run(scenario())


def test_both_executors_give_the_same_result():
    sync_result = run_sync()
    assert sync_result == asyncio.run(run_async())
    first, rest = sync_result
    assert (first["path"], first["params"], json.loads(first["body"]), first["auth"]) == (
        "/a", {"q": "1"}, {"k": [1, 2]}, "Bearer t")
    assert rest == ["/0", "/1", "/2", "/3", "/4", "computed"]


def test_unknown_effect_is_rejected():
    def bad():
        yield "not an effect"

    with httpx.Client(transport=httpx.MockTransport(echo)) as client, pytest.raises(TypeError):
        SyncExecutor(client).run(bad())


def test_empty_parallel_yields_nothing():
    operation = gather([], limit=4)
    with pytest.raises(StopIteration) as stop:
        next(operation)
    assert stop.value.value == []


def test_parallel_is_a_plain_value():
    effect = Parallel([deferred(int)], limit=2)
    assert effect.limit == 2 and len(effect.operations) == 1
