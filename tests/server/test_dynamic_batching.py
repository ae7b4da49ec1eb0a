"""Dynamic batching through a real server: on demand it gathers concurrent requests into one
forward pass and routes each answer back; by default a CPU model is not batched."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from server_harness import DETECTOR_ID, make_scene, predictions_of, start_server, stop_server

SCENES = [make_scene(980_000 + index) for index in range(8)]


def batch_size_observations(url: str) -> tuple[int, float]:
    """(count, sum) of the forward-batch-size histogram for the detector."""
    text = httpx.get(f"{url}/metrics").text
    pattern = r'visionhost_forward_batch_size_{}{{model_id="{}"}} ([0-9.e+]+)'
    count = re.search(pattern.format("count", re.escape(DETECTOR_ID)), text)
    total = re.search(pattern.format("sum", re.escape(DETECTOR_ID)), text)
    return (int(float(count.group(1))), float(total.group(1))) if count else (0, 0.0)


def send_concurrently(url: str) -> list[list[dict]]:
    def send(scene):
        body = {"model_id": DETECTOR_ID, "image": {"type": "base64", "value": scene.base64}, "confidence": 0.5}
        return predictions_of(httpx.post(f"{url}/infer/object_detection", json=body, timeout=60))

    with ThreadPoolExecutor(len(SCENES)) as pool:
        return list(pool.map(send, SCENES))


@pytest.mark.parametrize("mode", ["on", "auto"])
def test_batching_mode(model_cache, tmp_path, mode):
    env = {"MODEL_CACHE_DIR": str(model_cache), "OFFLINE_MODE": "true", "DYNAMIC_BATCHING": mode,
           "DYNAMIC_BATCH_WINDOW_MS": "50", "PRELOAD_MODELS": DETECTOR_ID}
    server = start_server(env, tmp_path / "server.log")
    try:
        one_by_one = [predictions_of(httpx.post(
            f"{server.url}/infer/object_detection",
            json={"model_id": DETECTOR_ID, "image": {"type": "base64", "value": scene.base64}, "confidence": 0.5},
            timeout=60)) for scene in SCENES]
        before = batch_size_observations(server.url)
        together = send_concurrently(server.url)
        count, images = (after - start for after, start in zip(batch_size_observations(server.url), before))
    finally:
        stop_server(server)
    for alone, gathered in zip(one_by_one, together):  # every caller got its own image's answer
        assert [(p["class"], p["x"], p["y"]) for p in gathered] == [(p["class"], p["x"], p["y"]) for p in alone]
    if mode == "on":
        assert images == len(SCENES) and count < len(SCENES), (count, images)
    else:
        assert count == 0  # a CPU model is run request by request
