"""In-process apps (FastAPI's TestClient) over a model cache holding the trained detector."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from inference_core.store import ModelStore
from inference_server.settings import ServerSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

DETECTOR_ID = "shapes/1"


@pytest.fixture(scope="session")
def detector_cache(tmp_path_factory, fixture_model_path) -> Path:
    cache = tmp_path_factory.mktemp("app-model-cache")
    ModelStore(cache).import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), DETECTOR_ID)
    return cache


@pytest.fixture()
def make_client():
    """Build an app from settings and enter its lifespan; closed after the test."""
    from inference_server.app import create_app

    clients = []

    def make(settings: ServerSettings) -> TestClient:
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
