"""`max_concurrent_requests` bounds requests in flight; results always come back in input order."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
from inference_sdk import InferenceConfiguration, InferenceHTTPClient
from inference_sdk.http.errors import HTTPCallErrorError
from inference_sdk.http.protocol import RetryPolicy
from sdk_fakes import API_URL, KNOWN_MODELS, FakeServer, decode_base64_image, make_jpeg, prediction_for

WIDTHS = [9, 1, 8, 2, 7, 3, 6, 4, 5, 10, 12, 11]


class InFlight:
    """Counts concurrent inference requests; answers wider images sooner, to scramble completion."""

    def __init__(self) -> None:
        self.current = self.peak = 0
        self.lock = threading.Lock()

    def enter(self) -> None:
        with self.lock:
            self.current += 1
            self.peak = max(self.peak, self.current)

    def leave(self) -> None:
        with self.lock:
            self.current -= 1

    @staticmethod
    def answer(request: httpx.Request) -> tuple[float, httpx.Response]:
        body = json.loads(request.content)
        images = body["image"] if isinstance(body["image"], list) else [body["image"]]
        decoded = [decode_base64_image(image["value"]) for image in images]
        results = [prediction_for(image, "object-detection") for image in decoded]
        delay = 0.02 / decoded[0].size[0]
        return delay, httpx.Response(200, json=results if isinstance(body["image"], list) else results[0])


def sync_handler(server: FakeServer, flight: InFlight):
    def handle(request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith("/infer"):
            return server(request)
        flight.enter()
        delay, response = flight.answer(request)
        time.sleep(delay)
        flight.leave()
        return response
    return handle


def async_handler(server: FakeServer, flight: InFlight):
    async def handle(request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith("/infer"):
            return server(request)
        flight.enter()
        delay, response = flight.answer(request)
        await asyncio.sleep(delay)
        flight.leave()
        return response
    return handle


def make_client(handler) -> InferenceHTTPClient:
    return InferenceHTTPClient(API_URL, api_key="k", transport=httpx.MockTransport(handler),
                               retry=RetryPolicy(interval=0))


@pytest.mark.parametrize(("concurrency", "batch"), [(1, 1), (4, 1), (3, 2), (16, 5)])
def test_sync_order_and_concurrency_bound(concurrency, batch):
    server, flight = FakeServer(loaded={"shapes/1": KNOWN_MODELS["shapes/1"]}), InFlight()
    client = make_client(sync_handler(server, flight))
    client.configure(InferenceConfiguration(max_concurrent_requests=concurrency, max_batch_size=batch))
    results = client.infer([make_jpeg(width, 4) for width in WIDTHS], model_id="shapes/1")
    assert [result["image"]["width"] for result in results] == WIDTHS
    requests = -(-len(WIDTHS) // batch)
    assert flight.peak <= concurrency
    if concurrency > 1:
        assert flight.peak > 1  # it did run in parallel
    assert flight.peak <= requests


@pytest.mark.parametrize(("concurrency", "batch"), [(1, 1), (4, 1), (3, 2)])
def test_async_order_and_concurrency_bound(concurrency, batch):
    server, flight = FakeServer(loaded={"shapes/1": KNOWN_MODELS["shapes/1"]}), InFlight()
    client = make_client(async_handler(server, flight))
    client.configure(InferenceConfiguration(max_concurrent_requests=concurrency, max_batch_size=batch))
    images = [make_jpeg(width, 4) for width in WIDTHS]
    results = asyncio.run(client.infer_async(images, model_id="shapes/1"))
    assert [result["image"]["width"] for result in results] == WIDTHS
    assert flight.peak <= concurrency and (concurrency == 1 or flight.peak > 1)


def test_async_infer_v0_and_v1_match_sync(client, server):
    images = [make_jpeg(width, 3) for width in (5, 6, 7)]
    expected = client.infer(images, model_id="shapes/1")
    assert asyncio.run(client.infer_async(images, model_id="shapes/1")) == expected
    client.select_api_v0()
    assert asyncio.run(client.infer_async(images, model_id="shapes/1")) == expected
    with client.use_api_v1():
        assert asyncio.run(client.infer_from_api_v1_async(images[0], model_id="shapes/1")) == expected[0]
    assert asyncio.run(client.infer_from_api_v0_async(images[1], model_id="shapes/1")) == expected[1]


def test_failure_in_one_parallel_request_raises(server):
    server.loaded["shapes/1"] = KNOWN_MODELS["shapes/1"]
    server.script["/infer/object_detection"] = [lambda request: httpx.Response(400, json={"message": "bad"})]
    client = make_client(server)
    client.configure(InferenceConfiguration(max_concurrent_requests=4))
    with pytest.raises(HTTPCallErrorError, match="bad"):
        client.infer([make_jpeg(width, 4) for width in WIDTHS], model_id="shapes/1")
