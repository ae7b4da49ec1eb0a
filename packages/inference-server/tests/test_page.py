"""The page at `/` and the model-cache listing it reads (the browser test is in tests/browser)."""

from __future__ import annotations

import re

from inference_server.settings import ServerSettings

DETECTOR_ID = "shapes/1"  # filed by conftest's detector_cache


def _settings(cache, **environ) -> ServerSettings:
    return ServerSettings.from_env({"MODEL_CACHE_DIR": str(cache), "OFFLINE_MODE": "true", **environ})


def test_the_page_and_its_files_are_served_from_the_package(make_client, detector_cache):
    client = make_client(_settings(detector_cache))
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'href="/docs"' in page.text and 'id="infer-form"' in page.text
    for linked in re.findall(r'(?:src|href)="(/_page/[^"]+)"', page.text):
        answer = client.get(linked)
        assert answer.status_code == 200 and answer.text.strip(), linked
    script = client.get("/_page/page.js").text
    assert "/model/cache" in script and "visualize_predictions" in script
    for route in ("object_detection", "instance_segmentation", "classification", "keypoints_detection",
                  "semantic_segmentation"):
        assert f'"{route}"' in script  # every /infer route the page may call exists on the server
        assert client.post(f"/infer/{route}", json={}).status_code == 422


def test_only_the_page_files_are_served(make_client, detector_cache):
    client = make_client(_settings(detector_cache))
    for name in ("index.html", "..%2F__init__.py", "page.py", "nothing.js"):
        answer = client.get(f"/_page/{name}")
        assert answer.status_code == 404 and answer.json()["message"], name


def test_model_cache_lists_every_cached_model_with_its_task(make_client, detector_cache):
    client = make_client(_settings(detector_cache))
    listing = client.get("/model/cache").json()
    assert listing["cache_dir"] == str(detector_cache)
    assert {"model_id": DETECTOR_ID, "task": "object-detection"} in listing["models"]
    assert client.get("/model/registry").json()["models"] == []  # listed, not loaded


def test_model_cache_is_guarded_like_the_other_model_routes(make_client, detector_cache):
    client = make_client(_settings(detector_cache, VISIONHOST_API_KEYS="secret-1"))
    assert client.get("/model/cache").status_code == 401
    assert client.get("/model/cache?api_key=secret-1").status_code == 200
    assert client.get("/").status_code == 200  # the page itself holds nothing secret
