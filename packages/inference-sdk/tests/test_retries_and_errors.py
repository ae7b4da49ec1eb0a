"""Retries on 429/503/504 and connection failures; every other failure mapped to an exception."""

from __future__ import annotations

import httpx
import pytest
from inference_sdk import InferenceHTTPClient
from inference_sdk.http.errors import HTTPCallErrorError, HTTPClientError, HTTPServerConnectionError
from inference_sdk.http.protocol import Reply, RetryPolicy, TransportFailure
from sdk_fakes import API_URL, KNOWN_MODELS, make_jpeg


def status(code: int, **kwargs):
    return lambda request: httpx.Response(code, **kwargs)


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("Connection refused", request=request)


@pytest.fixture(autouse=True)
def model_loaded(server):
    server.loaded["shapes/1"] = KNOWN_MODELS["shapes/1"]


@pytest.mark.parametrize("code", [429, 503, 504])
def test_retryable_status_then_success(client, server, code):
    server.script["/infer/object_detection"] = [status(code), status(code)]
    assert client.infer(make_jpeg(8, 8), model_id="shapes/1")["image"]["width"] == 8
    assert server.paths().count("/infer/object_detection") == 3


def test_gives_up_after_three_tries_with_the_last_status(client, server):
    server.script["/infer/object_detection"] = [status(503, json={"message": "warming up"})] * 3
    with pytest.raises(HTTPCallErrorError) as caught:
        client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert caught.value.status_code == 503 and caught.value.api_message == "warming up"
    assert server.paths().count("/infer/object_detection") == 3


@pytest.mark.parametrize("code", [400, 401, 404, 413, 500])
def test_other_errors_are_not_retried(client, server, code):
    server.script["/infer/object_detection"] = [status(code, json={"message": "nope"})]
    with pytest.raises(HTTPCallErrorError) as caught:
        client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert (caught.value.status_code, caught.value.api_message) == (code, "nope")
    assert server.paths().count("/infer/object_detection") == 1


def test_connection_errors_are_retried_then_succeed(client, server):
    server.script["/infer/object_detection"] = [refuse, refuse]
    assert client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert server.paths().count("/infer/object_detection") == 3


def test_unreachable_server_raises_connection_error():
    attempts = []

    def refuse_all(request):
        attempts.append(request)
        return refuse(request)

    client = InferenceHTTPClient(API_URL, transport=httpx.MockTransport(refuse_all),
                                 retry=RetryPolicy(interval=0))
    with pytest.raises(HTTPServerConnectionError):
        client.get_server_info()
    assert len(attempts) == 3


def test_real_refused_port_raises_connection_error():
    client = InferenceHTTPClient("http://127.0.0.1:9", retry=RetryPolicy(interval=0))
    with pytest.raises(HTTPServerConnectionError):
        client.infer(make_jpeg(8, 8), model_id="shapes/1")


def test_timeout_is_a_client_error_not_retried(client, server):
    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    server.script["/infer/object_detection"] = [slow]
    with pytest.raises(HTTPClientError) as caught:
        client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert not isinstance(caught.value, HTTPServerConnectionError)
    assert server.paths().count("/infer/object_detection") == 1


def test_validation_detail_and_plain_text_messages(client, server):
    server.script["/infer/object_detection"] = [
        status(422, json={"detail": [{"loc": ["body", "image"], "msg": "missing"}]}),
        status(502, text="Bad Gateway"),
    ]
    with pytest.raises(HTTPCallErrorError) as caught:
        client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert "missing" in caught.value.api_message
    with pytest.raises(HTTPCallErrorError) as caught:
        client.infer(make_jpeg(8, 8), model_id="shapes/1")
    assert caught.value.api_message == "Bad Gateway"
    assert "502" in str(caught.value) and "key-123" not in str(caught.value)


def test_retry_delays():
    policy = RetryPolicy()
    assert policy.delay_after(Reply(503, {}, b"")) == 1.0
    assert policy.delay_after(Reply(429, {"retry-after": "2"}, b"")) == 2.0
    assert policy.delay_after(Reply(429, {"retry-after": "9999"}, b"")) == 30.0
    assert policy.delay_after(Reply(500, {}, b"")) is None
    assert policy.delay_after(TransportFailure("connection", "refused")) == 1.0
    assert policy.delay_after(TransportFailure("timeout", "slow")) is None


def test_errors_keep_roboflow_hierarchy():
    error = HTTPCallErrorError(description="d", status_code=404, api_message="m")
    assert isinstance(error, HTTPClientError)
    assert (error.description, error.status_code, error.api_message) == ("d", 404, "m")
    assert issubclass(HTTPServerConnectionError, HTTPClientError)
