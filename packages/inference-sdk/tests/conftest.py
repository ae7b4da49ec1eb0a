"""Fixtures: a fake server (sdk_fakes.py) and a client bound to it through httpx.MockTransport."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inference_sdk import InferenceHTTPClient  # noqa: E402
from inference_sdk.http.protocol import RetryPolicy  # noqa: E402
from sdk_fakes import API_URL, FakeServer  # noqa: E402


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def client(server: FakeServer) -> InferenceHTTPClient:
    return InferenceHTTPClient(API_URL, api_key="key-123", transport=httpx.MockTransport(server),
                               retry=RetryPolicy(interval=0.0))
