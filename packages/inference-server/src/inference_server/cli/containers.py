"""Running the server image on a container engine (docker or podman), when one answers."""

from __future__ import annotations

import glob
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_IMAGE = "visionhost/server:cpu"
GPU_IMAGE = "visionhost/server:gpu"
CONTAINER_PORT = 9001
#: The image's MODEL_CACHE_DIR; a named volume keeps downloaded models across restarts.
CONTAINER_CACHE_DIR = "/models"
CACHE_VOLUME = "visionhost-models"
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

    def has_container(self, name: str) -> bool:
        return self.run("container", "inspect", name, timeout=30).returncode == 0

    def is_running(self, name: str) -> bool:
        result = self.run("inspect", "--format", "{{.State.Running}}", name, timeout=30)
        return result.returncode == 0 and result.stdout.strip().lower() == "true"

    def gpu_arguments(self) -> list[str]:
        """Docker passes GPUs with --gpus; podman through the NVIDIA CDI specification."""
        return ["--device", "nvidia.com/gpu=all"] if self.command == "podman" else ["--gpus", "all"]


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


def gpu_visible() -> bool:
    """An NVIDIA GPU this machine can hand to a container: its device nodes or its tool."""
    return bool(glob.glob("/dev/nvidia[0-9]*")) or shutil.which("nvidia-smi") is not None


def choose_image(engine: Engine, requested: str | None) -> str:
    """The image asked for; else the GPU image where a GPU is visible and the image is
    present, else the CPU image."""
    if requested:
        return requested
    if gpu_visible() and engine.has_image(GPU_IMAGE):
        return GPU_IMAGE
    return DEFAULT_IMAGE


def wants_gpu(image: str) -> bool:
    """GPUs go to GPU images (tag or name says `gpu`) on machines that have one."""
    return gpu_visible() and "gpu" in image.rsplit("/", 1)[-1]


@dataclass
class ContainerSpec:
    """What `inference server start` asks of the engine."""

    image: str
    name: str
    port: int
    host: str = "0.0.0.0"
    env_file: Path | None = None
    volumes: list[str] = field(default_factory=list)
    network: str | None = None
    gpu: bool = False

    @property
    def host_network(self) -> bool:
        return self.network == "host"


def run_arguments(engine: Engine, spec: ContainerSpec) -> list[str]:
    arguments = ["run", "--detach", "--name", spec.name]
    if spec.env_file is not None:
        arguments += ["--env-file", str(spec.env_file)]
    # After --env-file, so these win: the server must listen where the port points.
    if spec.host_network:
        arguments += ["--network", "host", "--env", f"HOST={spec.host}", "--env", f"PORT={spec.port}"]
    else:
        if spec.network:
            arguments += ["--network", spec.network]
        published = f"{spec.port}:{CONTAINER_PORT}"
        if spec.host not in ("0.0.0.0", "::", ""):
            published = f"{spec.host}:{published}"
        arguments += ["--publish", published, "--env", "HOST=0.0.0.0", "--env", f"PORT={CONTAINER_PORT}"]
    for volume in _with_cache_volume(spec.volumes):
        arguments += ["--volume", volume]
    if spec.gpu:
        arguments += engine.gpu_arguments()
    return [*arguments, spec.image]


def _with_cache_volume(volumes: list[str]) -> list[str]:
    """The user's volumes, plus a named one for the model cache unless they mount it."""
    targets = {_volume_target(volume) for volume in volumes}
    if CONTAINER_CACHE_DIR in targets:
        return list(volumes)
    return [*volumes, f"{CACHE_VOLUME}:{CONTAINER_CACHE_DIR}"]


def _volume_target(volume: str) -> str:
    parts = volume.split(":")
    return parts[1] if len(parts) > 1 else parts[0]
