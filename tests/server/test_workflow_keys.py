"""Which key our server sends to Roboflow's API to fetch a saved workflow: the request's (query,
then header, then body) when the server checks no keys of its own, and never the request's when it
does (its keys are its own; the configured ROBOFLOW_API_KEY goes instead). Real server on 127.0.0.1,
a stand-in for Roboflow's API on another port."""

from __future__ import annotations

import pytest
from fake_workflow_api import FakeWorkflowApi
from server_harness import start_server, stop_server

SERVER_KEY = "server-only-secret"
CONFIGURED_KEY = "configured-roboflow-key"
EMPTY_WORKFLOW = {"version": "1.0", "inputs": [], "steps": [], "outputs": []}


@pytest.fixture
def roboflow_api():
    running = FakeWorkflowApi(EMPTY_WORKFLOW).start()
    yield running
    running.stop()


def keys_seen(api: FakeWorkflowApi) -> list[list[str] | None]:
    return [keys for _, keys in api.hits]


def run_saved(http, path: str, body: dict, **options):
    return http.post(path, json={"use_cache": False, "inputs": {}, **body}, **options)


def test_a_server_checking_its_own_keys_never_forwards_them(roboflow_api, tmp_path):
    url = roboflow_api.url
    server = start_server({"MODEL_CACHE_DIR": str(tmp_path / "cache"), "API_BASE_URL": url,
                           "ROBOFLOW_API_KEY": CONFIGURED_KEY, "VISIONHOST_API_KEYS": SERVER_KEY},
                          tmp_path / "keyed.log")
    try:
        with server.client() as http:
            in_body = run_saved(http, "/acme/workflows/first", {"api_key": SERVER_KEY})
            in_header = run_saved(http, "/infer/workflows/acme/second", {},
                                  headers={"Authorization": f"Bearer {SERVER_KEY}"})
    finally:
        stop_server(server)
    assert in_body.status_code == 200 and in_header.status_code == 200, in_body.text
    assert keys_seen(roboflow_api) == [[CONFIGURED_KEY], [CONFIGURED_KEY]]


def test_without_server_keys_the_request_key_goes_query_first(roboflow_api, tmp_path):
    url = roboflow_api.url
    server = start_server({"MODEL_CACHE_DIR": str(tmp_path / "cache"), "API_BASE_URL": url},
                          tmp_path / "open.log")
    try:
        with server.client() as http:
            answers = [
                run_saved(http, "/acme/workflows/first", {"api_key": "body-key"}),
                run_saved(http, "/acme/workflows/second?api_key=query-key", {"api_key": "body-key"}),
                run_saved(http, "/acme/workflows/third/describe_interface", {"api_key": "body-key"}),
            ]
    finally:
        stop_server(server)
    assert [answer.status_code for answer in answers] == [200, 200, 200], answers[0].text
    assert keys_seen(roboflow_api) == [["body-key"], ["query-key"], ["body-key"]]
