"""Fixtures for the container tests: podman configured for this machine and the images built.

The lint, manifest and CLI-argument tests always run. Tests that build and run images need
podman and debootstrap and are opt-in (VISIONHOST_CONTAINER_TESTS=1): they skip with the reason
otherwise. Build times and image sizes are printed (`-s`) and kept in the terminal summary.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from container_tools import REPO_ROOT, Podman, skip_reason  # noqa: E402

SERVER_TEST_IMAGE = "localhost/visionhost/server:cpu-test"
NGINX_TEST_IMAGE = "localhost/visionhost/test-nginx:local"
MEASUREMENTS: list[str] = []


@pytest.fixture(scope="session")
def podman() -> Podman:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    engine = Podman.configured()
    engine.ensure_base_image()
    return engine


@pytest.fixture(scope="session")
def server_image(podman) -> str:
    """The CPU image's `demo` target: the server with the shapes detector, offline."""
    seconds = podman.build(REPO_ROOT / "docker" / "Dockerfile.cpu", SERVER_TEST_IMAGE, target="demo")
    size = podman.image_size(SERVER_TEST_IMAGE) / 1e6
    MEASUREMENTS.append(f"Dockerfile.cpu (demo target) built in {seconds:.0f}s, {size:.0f} MB")
    return SERVER_TEST_IMAGE


@pytest.fixture(scope="session")
def nginx_image(podman) -> str:
    here = Path(__file__).resolve().parent
    seconds = podman.build(here / "nginx.Dockerfile", NGINX_TEST_IMAGE, context=here)
    MEASUREMENTS.append(f"nginx test image built in {seconds:.0f}s")
    return NGINX_TEST_IMAGE


def pytest_terminal_summary(terminalreporter):
    if MEASUREMENTS:
        terminalreporter.section("container images")
        for line in MEASUREMENTS:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def openvino_image(podman) -> str:
    """The OpenVINO-only image's `demo` target."""
    tag = "localhost/visionhost/server:openvino-test"
    seconds = podman.build(REPO_ROOT / "docker" / "Dockerfile.openvino", tag, target="demo")
    MEASUREMENTS.append(
        f"Dockerfile.openvino (demo target) built in {seconds:.0f}s, {podman.image_size(tag) / 1e6:.0f} MB"
    )
    return tag


@pytest.fixture(scope="session")
def gpu_dockerfile_image(podman) -> str:
    """Dockerfile.gpu built on the Debian base instead of CUDA's (none can be pulled here) and
    without TensorRT: its stages, onnxruntime-gpu and the CPU fallback, not a GPU."""
    tag = "localhost/visionhost/server:gpu-dockerfile-test"
    seconds = podman.build(
        REPO_ROOT / "docker" / "Dockerfile.gpu", tag, target="demo", build_args={"TENSORRT_PACKAGE": ""}
    )
    size = podman.image_size(tag) / 1e6
    MEASUREMENTS.append(
        f"Dockerfile.gpu (Debian base, no TensorRT, demo) built in {seconds:.0f}s, {size:.0f} MB"
    )
    return tag
