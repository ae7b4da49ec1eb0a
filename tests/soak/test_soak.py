"""Soak: many clients send valid, invalid and abandoned requests to one real server at once.

Passes when not one answer is a 5xx, the server keeps answering correctly, and its resident
memory stays flat: after a warm-up, the growth from the first to the last quarter of the run is
small. CI runs it for VISIONHOST_SOAK_SECONDS (60 by default); set it higher for a real soak.
"""

from __future__ import annotations

import base64
import os
import pickle
import random
import socket
import statistics
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import hostile_images as hostile
import numpy as np
import pytest
from inference_core.store import ModelStore
from server_harness import DETECTOR_ID, make_scene, start_server, stop_server

SOAK_SECONDS = float(os.environ.get("VISIONHOST_SOAK_SECONDS", "60"))
CLIENTS = int(os.environ.get("VISIONHOST_SOAK_CLIENTS", "12"))
#: RSS the server may gain from the first to the last quarter of the run (after warm-up).
MAX_RSS_GROWTH_MIB = 64
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def soak_server(tmp_path_factory, fixture_model_path):
    cache = tmp_path_factory.mktemp("soak-cache")
    ModelStore(cache).import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), DETECTOR_ID)
    log = tmp_path_factory.mktemp("soak-log") / "server.log"
    running = start_server({"MODEL_CACHE_DIR": str(cache), "OFFLINE_MODE": "true", "WORKER_THREADS": "4"}, log)
    yield running
    stop_server(running)


def _requests() -> list[tuple[str, object]]:
    """(kind, send) pairs; send(http) returns the response, or None for an abandoned request."""
    scene = make_scene(900_900, 320, 240)
    valid_b64 = scene.base64
    tiny_png = base64.b64encode(hostile.pil_bytes(hostile.sample_rgb(16, 16), "PNG")).decode()
    other = {name: base64.b64encode(data).decode() for name, data in hostile.other_format_images().items()}
    many_scans = base64.b64encode(hostile.progressive_jpeg_with_scans(300, 256, 256)).decode()
    chunk_flood = base64.b64encode(hostile.png_with_chunks(3000)).decode()
    body = lambda image, **extra: {"model_id": DETECTOR_ID, "image": image, **extra}  # noqa: E731
    return [
        ("valid-v2", lambda http: http.post("/infer/object_detection",
                                            json=body({"type": "base64", "value": valid_b64}))),
        ("valid-batch", lambda http: http.post("/infer/object_detection",
                                               json=body([{"type": "base64", "value": tiny_png}] * 4))),
        ("valid-legacy", lambda http: http.post(f"/{DETECTOR_ID}", content=valid_b64, headers=FORM)),
        ("valid-numpy", lambda http: http.post(f"/{DETECTOR_ID}", params={"image_type": "numpy"},
                                               content=pickle.dumps(np.zeros((48, 64, 3), np.uint8)),
                                               headers=FORM)),
        ("other-format", lambda http: http.post("/infer/object_detection", json=body(
            {"type": "base64", "value": random.choice(list(other.values()))}))),
        ("many-scans", lambda http: http.post("/infer/object_detection",
                                              json=body({"type": "base64", "value": many_scans}))),
        ("chunk-flood", lambda http: http.post("/infer/object_detection",
                                               json=body({"type": "base64", "value": chunk_flood}))),
        ("bad-param", lambda http: http.post("/infer/object_detection", json=body(
            {"type": "base64", "value": tiny_png}, max_detections=10**30))),
        ("bad-json", lambda http: http.post("/infer/object_detection", content=b'{"model_id": [',
                                            headers={"Content-Type": "application/json"})),
        ("image-flood", lambda http: http.post("/infer/object_detection", content=(
            b'{"model_id": "shapes/1", "image": [' + b",".join([b'{"type":"url","value":""}'] * 20000) + b"]}"
        ), headers={"Content-Type": "application/json"})),
        ("bad-pickle", lambda http: http.post(f"/{DETECTOR_ID}", params={"image_type": "numpy"},
                                              content=b"cos\nsystem\n(S'true'\ntR.", headers=FORM)),
        ("bad-url", lambda http: http.post("/infer/object_detection", json=body(
            {"type": "url", "value": "http://[::1"}))),
        ("internal-url", lambda http: http.post("/infer/object_detection", json=body(
            {"type": "url", "value": "http://[64:ff9b::7f00:1]/x.jpg"}))),
        ("unknown-model", lambda http: http.post("/infer/object_detection", json={
            "model_id": "nope/1", "image": {"type": "base64", "value": tiny_png}})),
        ("get-state-change", lambda http: http.get("/clear_cache")),
        ("abandoned-body", None),
        ("abandoned-headers", None),
    ]


def _abandon(url: str, kind: str) -> None:
    """Open a connection, send part of a request, and walk away."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        if kind == "abandoned-body":
            sock.sendall(b"POST /infer/object_detection HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000\r\n\r\n{\"model_id\": \"shapes/1\", \"image\": {\"type\"")
        else:
            sock.sendall(b"POST /shapes/1 HTTP/1.1\r\nHost: x\r\nContent-Le")
        time.sleep(random.uniform(0.0, 0.3))


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.slow
def test_soak_mixed_clients_no_5xx_and_flat_memory(soak_server):
    if not Path(f"/proc/{soak_server.process.pid}/status").exists():
        pytest.skip("needs /proc to read the server's memory")
    requests = _requests()
    statuses: Counter = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    ends = time.monotonic() + SOAK_SECONDS

    def client(seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=soak_server.url, timeout=60) as http:
            while time.monotonic() < ends:
                kind, send = rng.choice(requests)
                try:
                    if send is None:
                        _abandon(soak_server.url, kind)
                        status = "abandoned"
                    else:
                        response = send(http)
                        status = response.status_code
                        if status >= 500:
                            with lock:
                                failures.append(f"{kind}: {status} {response.text[:200]}")
                except httpx.HTTPError as error:
                    status = f"client error {type(error).__name__}"
                    with lock:
                        failures.append(f"{kind}: {status}")
                with lock:
                    statuses[(kind, status)] += 1

    samples: list[float] = []
    threads = [threading.Thread(target=client, args=(seed,), daemon=True) for seed in range(CLIENTS)]
    for thread in threads:
        thread.start()
    while time.monotonic() < ends:
        samples.append(_rss_mib(soak_server.process.pid))
        time.sleep(0.5)
    for thread in threads:
        thread.join(timeout=120)

    assert not failures, failures[:10]
    kinds = {kind for kind, _ in statuses}
    assert {"valid-v2", "valid-legacy", "many-scans", "image-flood"} <= kinds, statuses
    assert all(status == 200 for (kind, status) in statuses if kind.startswith("valid")), statuses
    quarter = max(1, len(samples) // 4)
    first, last = statistics.median(samples[quarter : 2 * quarter]), statistics.median(samples[-quarter:])
    print(f"soak: {sum(statuses.values())} requests in {SOAK_SECONDS:g} s, RSS {first:.0f} -> {last:.0f} MiB, "
          f"peak {max(samples):.0f} MiB")
    assert last - first < MAX_RSS_GROWTH_MIB, (first, last, samples)
    with httpx.Client(base_url=soak_server.url, timeout=60) as http:
        after = http.post("/infer/object_detection", json={
            "model_id": DETECTOR_ID, "image": {"type": "base64", "value": make_scene(900_901).base64}})
    assert after.status_code == 200 and after.json()["predictions"]
    assert "Traceback" not in soak_server.log()
