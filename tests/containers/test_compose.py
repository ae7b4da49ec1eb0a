"""docker/compose.yaml: two server replicas behind nginx, one shared model cache, real predictions.

`podman system service` gives the Docker API on a socket; Debian's `docker-compose` (or the
`docker compose` plugin, or podman-compose) drives it through DOCKER_HOST. The compose file is
used as shipped; only the image names (no registry here) and the published port come from the
environment it documents.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from container_tools import REPO_ROOT, post_legacy, wait_for
from scene_matching import match_scene
from server_harness import free_port, make_scene

COMPOSE_FILE = REPO_ROOT / "docker" / "compose.yaml"
MODEL_ID = "shapes-detect/1"
REQUESTS = 12
#: The fixture detector finds about 93% of held-out shapes (assets/models/METRICS.md): judged in
#: aggregate over the scenes, as the server tests do.
MIN_RECALL = 0.85
MAX_FALSE_POSITIVE_RATE = 0.15


def compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        return ["docker", "compose"]
    if shutil.which("podman-compose"):
        return ["podman-compose"]
    return None


@pytest.fixture
def podman_socket(podman):
    """A Docker-compatible API for this test, stopped afterwards."""
    directory = tempfile.mkdtemp(prefix="vh-podman-", dir="/tmp")
    socket = Path(directory) / "podman.sock"
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env=podman.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    try:
        yield f"unix://{socket}"
    finally:
        service.terminate()
        service.wait(timeout=30)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def stack(podman, podman_socket, server_image, nginx_image):
    command = compose_command()
    if command is None:
        pytest.skip("no compose tool (docker-compose, docker compose, podman-compose) is installed")
    port = free_port()
    project = f"vhtest{port}"
    env = {
        **podman.env,
        "DOCKER_HOST": podman_socket,
        "VISIONHOST_IMAGE": server_image,
        "NGINX_IMAGE": nginx_image,
        "PORT": str(port),
        "INTRA_OP_THREADS": "1",
    }

    def compose(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        arguments = [*command, "--project-name", project, "--file", str(COMPOSE_FILE), *args]
        return subprocess.run(
            arguments, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )

    started = compose("up", "--detach", "--no-build")
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        yield f"http://127.0.0.1:{port}", compose, project
    except Exception:
        print(compose("logs", "--tail", "40").stdout, file=sys.stderr)
        raise
    finally:
        compose("down", "--volumes", "--timeout", "5")


def test_two_replicas_behind_nginx_share_the_traffic_and_the_cache(podman, stack):
    url, compose, project = stack
    listing = podman.run(
        "ps", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.Names}}"
    )
    replicas = sorted(name for name in listing.stdout.split() if "server" in name)
    assert len(replicas) == 2, listing.stdout
    # Both replicas preload the model from the shared volume; the balancer answers once one is up.
    wait_for(f"{url}/readiness", 180)
    for replica in replicas:
        _wait_until_ready_inside(podman, replica)
    # nginx resolved `server` when it started and marks a replica down (fail_timeout) when it
    # refused requests while still loading: restart it now that both replicas are ready, as
    # docker/README.md tells operators to do after scaling.
    restarted = compose("restart", "lb")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    wait_for(f"{url}/readiness", 60)

    upstreams, found, missed, false_positives = set(), 0, 0, 0
    with httpx.Client(base_url=url, timeout=60) as client:
        for index in range(REQUESTS):
            scene = make_scene(930_000 + index)
            answer = post_legacy(client, MODEL_ID, scene)
            assert answer.status_code == 200, answer.text
            scores = match_scene(scene.objects, answer.json()["predictions"], min_iou=0.7)
            found, missed, false_positives = (
                found + scores[0],
                missed + scores[1],
                false_positives + scores[2],
            )
            upstreams.add(answer.headers["X-Upstream"])
    assert found / (found + missed) >= MIN_RECALL, (found, missed)
    assert false_positives / max(found + false_positives, 1) <= MAX_FALSE_POSITIVE_RATE
    assert len(upstreams) == 2, f"nginx sent every request to {upstreams}"
    for replica in replicas:
        assert f"POST /{MODEL_ID}" in podman.logs(replica), f"{replica} served no prediction"
    # One cache for both: the model was filed once in the shared volume.
    filed = [
        podman.run("exec", replica, "ls", "/models/shapes-detect/1").stdout.split() for replica in replicas
    ]
    assert filed[0] == filed[1] and "weights.onnx" in filed[0]


def _wait_until_ready_inside(podman, replica: str, timeout: float = 180) -> None:
    """Ask a replica directly (it is on the compose network, not the host's)."""
    probe = "import urllib.request as u; u.urlopen('http://127.0.0.1:9001/readiness', timeout=2)"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if podman.run("exec", replica, "python", "-c", probe, check=False).returncode == 0:
            return
        time.sleep(1)
    raise TimeoutError(f"{replica} did not become ready:\n{podman.logs(replica)}")
