"""The CPU image, built here from a bootstrapped Debian, serves real predictions over HTTP.

Run as production would: read-only root filesystem, the model cache on a volume, a non-root
user, settings from the environment; on the host network (bridges leave rules behind here).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import httpx
import pytest
from container_tools import assert_detects_on_both_routes, assert_scene_detected, post_legacy, wait_for
from server_harness import assert_detects, free_port, make_scene

MODEL_ID = "shapes-detect/1"
START_TIMEOUT = 120
CLI = "from inference_server.cli.main import main; raise SystemExit(main())"


@pytest.fixture
def container(podman, server_image):
    """A running container of the CPU test image on a free port; yields its name and URL."""
    with running_container(podman, server_image) as running:
        yield running


@contextlib.contextmanager
def running_container(podman, image: str):
    port = free_port()
    name = f"visionhost-test-{port}"
    volume = f"visionhost-test-models-{port}"
    podman.run(
        "run", "--detach", "--name", name, "--network", "host", "--read-only",
        "--env", f"PORT={port}", "--env", "HOST=127.0.0.1", "--env", "INTRA_OP_THREADS=1",
        "--volume", f"{volume}:/models", image,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/readiness", START_TIMEOUT, lambda: _running(podman, name))
        yield name, url
    except Exception:
        print(podman.logs(name), file=sys.stderr)
        raise
    finally:
        podman.remove(name)
        podman.run("volume", "rm", "--force", volume, check=False)


def _running(podman, name: str) -> bool:
    state = podman.run("inspect", "--format", "{{.State.Running}}", name, check=False)
    return state.stdout.strip() == "true"


def test_image_serves_predictions_that_match_the_scene(podman, container):
    name, url = container
    with httpx.Client(base_url=url, timeout=60) as client:
        assert_detects_on_both_routes(client, MODEL_ID, (910_001, 910_002, 910_003), 910_004)
        info = client.get("/info").json()
        assert set(info["backends"]) >= {"onnx", "openvino"} and not info["backend_problems"]
        assert client.get("/healthz").json() == {"status": "healthy"}


def test_image_runs_as_a_non_root_user_with_a_read_only_root(podman, container):
    name, _ = container
    user = podman.run("exec", name, "id", "-u").stdout.strip()
    assert user == "10001"
    # The root filesystem refuses writes; the model cache volume and /tmp take them.
    refused = podman.run("exec", name, "sh", "-c", "touch /opt/x", check=False)
    assert refused.returncode != 0 and "Read-only" in refused.stderr
    podman.run("exec", name, "sh", "-c", "touch /models/.probe /tmp/.probe")
    cached = podman.run("exec", name, "ls", "/models/shapes-detect/1").stdout.split()
    assert "weights.onnx" in cached and "environment.json" in cached
    # HEALTHCHECK: podman runs the image's command on demand (no systemd timers here).
    assert podman.run("healthcheck", "run", name, check=False).returncode == 0


def test_image_config_is_what_the_dockerfile_says(podman, server_image):
    image = json.loads(podman.run("image", "inspect", server_image).stdout)[0]
    config = image["Config"]
    assert config["User"] == "10001:10001"
    assert "9001/tcp" in config["ExposedPorts"] and "/models" in config["Volumes"]
    assert "MODEL_CACHE_DIR=/models" in config["Env"]
    assert "/healthz" in " ".join(image["Healthcheck"]["Test"])


def test_cli_starts_the_image_and_stops_it(podman, server_image, tmp_path):
    """`inference server start --image` runs the container (podman answers; docker has no daemon)."""
    port = free_port()
    env = {**podman.env, "VISIONHOST_STATE_DIR": str(tmp_path / "state")}
    env_file = tmp_path / "server.env"
    env_file.write_text("INTRA_OP_THREADS=1\nMAX_BATCH_SIZE=4\n")
    name = f"visionhost-cli-test-{port}"
    volume = f"visionhost-cli-test-models-{port}"

    def inference(*args: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-c", CLI, *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=200, check=False)

    started = inference(
        "server", "start", "--image", server_image, "--port", str(port), "--host", "127.0.0.1",
        "--network", "host", "--name", name, "--env-file", str(env_file), "-v", f"{volume}:/models",
    )  # fmt: skip
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"container {name}" in started.stdout
        status = inference("server", "status")
        assert status.returncode == 0 and name in status.stdout and "healthy" in status.stdout
        wait_for(f"http://127.0.0.1:{port}/readiness", START_TIMEOUT)
        environment = podman.run("exec", name, "printenv", "MAX_BATCH_SIZE", "PORT").stdout.split()
        assert environment == ["4", str(port)]
        scene = make_scene(910_010)
        image = tmp_path / "scene.jpg"
        image.write_bytes(scene.jpeg)
        remote = inference(
            "infer", str(image), "--model-id", MODEL_ID, "--api-url", f"http://127.0.0.1:{port}"
        )
        assert remote.returncode == 0, remote.stderr
        assert_detects(scene.objects, json.loads(remote.stdout)["predictions"])
    finally:
        stopped = inference("server", "stop")
        podman.remove(name)
        podman.run("volume", "rm", "--force", volume, check=False)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert podman.run("container", "exists", name, check=False).returncode != 0
    assert inference("server", "status").returncode == 1

    # Someone else's container is never replaced: a --name that exists is refused.
    podman.run("create", "--name", name, server_image)
    try:
        refused = inference("server", "start", "--image", server_image, "--port", str(port), "--name", name)
        assert refused.returncode == 1 and "exists already" in refused.stderr
        assert podman.run("container", "exists", name, check=False).returncode == 0
    finally:
        podman.remove(name)


def test_openvino_image_serves_predictions_without_onnx_runtime(podman, openvino_image):
    with running_container(podman, openvino_image) as (name, url):
        with httpx.Client(base_url=url, timeout=60) as client:
            scene = make_scene(910_001)
            assert_scene_detected(post_legacy(client, MODEL_ID, scene), scene)
            assert client.get("/info").json()["backends"] == ["openvino"]
        missing = podman.run("exec", name, "python", "-c", "import onnxruntime", check=False)
        assert missing.returncode != 0 and "No module named" in missing.stderr


def test_gpu_dockerfile_builds_and_falls_back_to_the_cpu(podman, gpu_dockerfile_image):
    with running_container(podman, gpu_dockerfile_image) as (name, url):
        with httpx.Client(base_url=url, timeout=60) as client:
            scene = make_scene(910_001)
            assert_scene_detected(post_legacy(client, MODEL_ID, scene), scene)
        probe = "import importlib.metadata as m, onnxruntime as o; print(m.version('onnxruntime-gpu'))"
        probe += "; print(*o.get_available_providers())"
        providers = podman.run("exec", name, "python3", "-c", probe).stdout.split()
        assert "CUDAExecutionProvider" in providers and "TensorrtExecutionProvider" in providers
