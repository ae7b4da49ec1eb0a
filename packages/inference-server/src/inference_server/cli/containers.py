"""Running the server image on a container engine (docker or podman), when one answers."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DEFAULT_IMAGE = "visionhost/server:cpu"
GPU_IMAGE = "visionhost/server:gpu"
CONTAINER_PORT = 9001
ENGINES = ("docker", "podman")


@dataclass(frozen=True)
class Engine:
    command: str

    def run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return subprocess.run(
            [self.command, *args], capture_output=True, text=True, timeout=timeout, check=False
        )

    def has_image(self, image: str) -> bool:
        return self.run("image", "inspect", image, timeout=30).returncode == 0

    def is_running(self, name: str) -> bool:
        result = self.run("inspect", "--format", "{{.State.Running}}", name, timeout=30)
        return result.returncode == 0 and result.stdout.strip().lower() == "true"


def find_engine() -> Engine | None:
    """The first engine on PATH whose daemon (or daemonless runtime) actually answers."""
    for command in ENGINES:
        if shutil.which(command) is None:
            continue
        engine = Engine(command)
        try:
            if engine.run("info", timeout=10).returncode == 0:
                return engine
        except (OSError, subprocess.TimeoutExpired):
            continue
    return None


def default_image() -> str:
    return GPU_IMAGE if shutil.which("nvidia-smi") else DEFAULT_IMAGE


def run_arguments(
    image: str, name: str, port: int, env_file: Path | None, volumes: list[str], gpu: bool
) -> list[str]:
    arguments = ["run", "-d", "--name", name, "-p", f"{port}:{CONTAINER_PORT}"]
    if env_file is not None:
        arguments += ["--env-file", str(env_file)]
    for volume in volumes:
        arguments += ["-v", volume]
    if gpu:
        arguments += ["--gpus", "all"]
    return [*arguments, image]
