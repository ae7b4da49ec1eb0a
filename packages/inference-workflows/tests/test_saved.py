"""Saved workflows: the local folder first, else Roboflow's API with the caller's key, kept on disk
for offline use."""

from __future__ import annotations

import json

import pytest
from fake_workflow_api import FakeWorkflowApi
from inference_workflows import WorkflowSettings
from inference_workflows.errors import WorkflowNotFoundError
from inference_workflows.saved import load_saved_specification
from wf_specs import DETECT_CROP_CLASSIFY_COUNT


@pytest.fixture
def api():
    def accepts(path: str, keys: list[str] | None) -> bool:
        return path == "/acme/workflows/counting" and keys == ["good-key"]

    running = FakeWorkflowApi(DETECT_CROP_CLASSIFY_COUNT, accepts).start()
    yield running
    running.stop()


def test_fetched_from_the_api_then_served_offline_from_disk(api, tmp_path):
    url, hits = api.url, api.hits
    settings = WorkflowSettings(downloaded_dir=tmp_path / "downloaded", api_base_url=url)
    assert load_saved_specification(settings, "acme", "counting", "good-key") == DETECT_CROP_CLASSIFY_COUNT
    assert hits == [("/acme/workflows/counting", ["good-key"])]
    assert (
        json.loads((tmp_path / "downloaded" / "acme" / "counting.json").read_text())
        == DETECT_CROP_CLASSIFY_COUNT
    )
    # cached: no second request; offline and without a key it still runs
    offline = WorkflowSettings(downloaded_dir=tmp_path / "downloaded", api_base_url=url, offline=True)
    assert load_saved_specification(offline, "acme", "counting") == DETECT_CROP_CLASSIFY_COUNT
    assert load_saved_specification(settings, "acme", "counting", "good-key") == DETECT_CROP_CLASSIFY_COUNT
    assert len(hits) == 1
    # use_cache=False asks the API again; when it cannot be reached, the kept copy answers
    api.stop()
    assert (
        load_saved_specification(settings, "acme", "counting", "good-key", use_cache=False)
        == DETECT_CROP_CLASSIFY_COUNT
    )


def test_local_folder_wins_and_unknown_or_unreachable_are_clear(api, tmp_path):
    url, hits = api.url, api.hits
    local = tmp_path / "specs" / "acme"
    local.mkdir(parents=True)
    (local / "counting.json").write_text(
        json.dumps({"version": "1.0", "inputs": [], "steps": [], "outputs": []})
    )
    settings = WorkflowSettings(
        specifications_dir=tmp_path / "specs", downloaded_dir=tmp_path / "d", api_base_url=url
    )
    assert load_saved_specification(settings, "acme", "counting", "good-key")["steps"] == []
    assert hits == []
    with pytest.raises(WorkflowNotFoundError, match="HTTP 404"):
        load_saved_specification(settings, "acme", "other", "bad-key")
    with pytest.raises(WorkflowNotFoundError, match="offline"):
        load_saved_specification(
            WorkflowSettings(offline=True, downloaded_dir=tmp_path / "d"), "acme", "x", "k"
        )
    with pytest.raises(WorkflowNotFoundError, match="no API key"):
        load_saved_specification(
            WorkflowSettings(downloaded_dir=tmp_path / "d", api_base_url=url), "acme", "x"
        )
    with pytest.raises(WorkflowNotFoundError):
        load_saved_specification(settings, "..", "passwd", "good-key")
