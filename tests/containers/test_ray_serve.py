"""The Ray Serve deployment of the app, on a local single-node Ray, answers real predictions.

Ray is an optional extra (`visionhost-server[ray]`) with heavy dependencies and pins of its own
that the main environment must not get, so the deployment runs in the interpreter that has it:
this one, $VISIONHOST_RAY_PYTHON, or .work/venv-ray (made by ./scripts/setup-containers.sh);
without any, the test skips and says so.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from container_tools import REPO_ROOT, assert_detects_on_both_routes, post_legacy, wait_for
from inference_core.store import ModelStore
from inference_server.ray_serve import RayServeOptions
from server_harness import free_port, make_scene

MODEL_ID = "shapes-detect/1"
START_TIMEOUT = 180
SCALE_UP_TIMEOUT = 120
LOAD_THREADS = 4
LOAD_REQUESTS_PER_THREAD = 2000
RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
}


def ray_python() -> str | None:
    """An interpreter that imports both Ray Serve and our server."""
    candidates = [sys.executable] if importlib.util.find_spec("ray") else []
    candidates += [os.environ.get("VISIONHOST_RAY_PYTHON", ""), str(REPO_ROOT / ".work/venv-ray/bin/python")]
    for candidate in filter(None, candidates):
        if not Path(candidate).exists():
            continue
        probe = [candidate, "-c", "import ray.serve, inference_server.ray_serve"]
        if subprocess.run(probe, capture_output=True, timeout=120, check=False).returncode == 0:
            return candidate
    return None


def test_options_give_the_autoscaling_config(tmp_path):
    env_file = tmp_path / "replica.env"
    env_file.write_text("MODEL_CACHE_DIR=/models\nOFFLINE_MODE=true\n")
    options = RayServeOptions.from_args(
        {"min_replicas": "1", "max_replicas": "3", "target_ongoing_requests": "4", "env_file": str(env_file)}
    )
    assert options.autoscaling_config() == {
        "min_replicas": 1,
        "max_replicas": 3,
        "target_ongoing_requests": 4.0,
    }
    runtime_env = options.actor_options()["runtime_env"]["env_vars"]
    assert runtime_env == {"MODEL_CACHE_DIR": "/models", "OFFLINE_MODE": "true"}
    assert RayServeOptions(initial_replicas=2).autoscaling_config()["initial_replicas"] == 2
    with pytest.raises(ValueError, match="Unknown Ray Serve options"):
        RayServeOptions.from_args({"replicas": 2})
    with pytest.raises(ValueError, match="min"):
        RayServeOptions(min_replicas=3, max_replicas=2)


@pytest.fixture(scope="module")
def ray_deployment(tmp_path_factory, fixture_model_path):
    python = ray_python()
    if python is None:
        pytest.skip("Ray Serve is not installed (./scripts/setup-containers.sh makes .work/venv-ray)")
    tmp_path = tmp_path_factory.mktemp("ray-serve")
    cache = tmp_path / "models"
    ModelStore(cache).import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), MODEL_ID)
    env_file = tmp_path / "replica.env"
    env_file.write_text(f"MODEL_CACHE_DIR={cache}\nOFFLINE_MODE=true\nINTRA_OP_THREADS=1\n")
    port = free_port()
    log_path = tmp_path / "ray.log"
    ray_tmp = tempfile.mkdtemp(prefix="vh-ray-", dir="/tmp")
    command = [python, "-m", "inference_server.ray_serve", "--port", str(port), "--env-file", str(env_file)]
    # One replica to start; a second one as soon as more than one request per replica is ongoing.
    command += ["--min-replicas", "1", "--max-replicas", "2", "--num-cpus", "0.5"]
    command += ["--target-ongoing-requests", "1", "--upscale-delay-s", "1"]
    with open(log_path, "wb") as log:
        driver = subprocess.Popen(
            command,
            # A short session path: Ray's sockets live there (107-byte limit).
            env={**os.environ, **RAY_ENV, "RAY_TMPDIR": ray_tmp},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        wait_for(f"http://127.0.0.1:{port}/readiness", START_TIMEOUT, lambda: driver.poll() is None)
        yield f"http://127.0.0.1:{port}"
    except Exception:
        print(log_path.read_text(errors="replace")[-6000:], file=sys.stderr)
        raise
    finally:
        _stop(driver)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _stop(driver: subprocess.Popen) -> None:
    """SIGTERM the driver alone (it shuts Serve and Ray down), then its whole session."""
    driver.send_signal(signal.SIGTERM)
    try:
        driver.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()


def test_ray_serve_deployment_answers_predictions(ray_deployment):
    with httpx.Client(base_url=ray_deployment, timeout=60) as client:
        assert_detects_on_both_routes(client, MODEL_ID, (920_001, 920_002), 920_003)
        scene = make_scene(920_003)
        unknown = client.post(
            "/infer/object_detection",
            json={"model_id": "nope/1", "image": {"type": "base64", "value": scene.base64}},
        )
        assert unknown.status_code == 404 and "message" in unknown.json()


def test_ray_serve_adds_a_replica_under_load(ray_deployment):
    """Concurrent requests above the target make Serve's autoscaler start the second replica;
    each replica is its own app, so /info's server id tells them apart. Bounded in time."""
    scene = make_scene(920_010)
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=ray_deployment, timeout=60) as client:
            for _ in range(LOAD_REQUESTS_PER_THREAD):
                if stop.is_set():
                    return
                answer = post_legacy(client, MODEL_ID, scene)
                assert answer.status_code == 200, answer.text

    servers = set()
    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        futures = [pool.submit(load) for _ in range(LOAD_THREADS)]
        deadline = time.monotonic() + SCALE_UP_TIMEOUT
        with httpx.Client(base_url=ray_deployment, timeout=30) as client:
            while len(servers) < 2 and time.monotonic() < deadline:
                servers.add(client.get("/info").json()["uuid"])
                time.sleep(0.5)
        stop.set()
        for future in futures:
            future.result()
    assert len(servers) == 2, "Serve's autoscaler did not start a second replica under load"
