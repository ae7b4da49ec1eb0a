"""Podman on a daemonless machine, for the image, compose and CLI tests.

- runc instead of crun (cgroups v1 hybrid), and lowered ulimits: one `containers.conf`.
- No registry: the base image is a Debian bookworm bootstrapped from Debian's mirror, kept as a
  tarball under ~/.cache/visionhost/containers/ so that later runs only import it (seconds).
- pip inside builds sees TLS through the host's CA bundle, mounted (never baked in).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "visionhost" / "containers"
CACHE_DIR = Path(os.environ.get("VISIONHOST_CONTAINER_CACHE", DEFAULT_CACHE_DIR))
BASE_IMAGE = "localhost/debian-bookworm:local"
BASE_TARBALL = CACHE_DIR / "debian-bookworm-python.tar.gz"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]
[engine]
runtime = "runc"
"""
# Trimmed from the bootstrapped tree: apt's downloads and lists, documentation, translations.
TRIMMED = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man")
TRIMMED += ("usr/share/locale",)
REQUIRED_TOOLS = ("podman", "debootstrap")
OPT_IN = "VISIONHOST_CONTAINER_TESTS"


def skip_reason() -> str | None:
    """Why the container tests cannot run here, or None."""
    if os.environ.get(OPT_IN) != "1":
        return (
            f"container tests are opt-in: {OPT_IN}=1 ./scripts/test.sh tests/containers "
            "(after ./scripts/setup-containers.sh)"
        )
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (./scripts/setup-containers.sh installs them)"
    return None


@dataclass
class Podman:
    env: dict[str, str]

    @classmethod
    def configured(cls) -> Podman:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        conf = CACHE_DIR / "containers.conf"
        conf.write_text(CONTAINERS_CONF)
        return cls({**os.environ, "CONTAINERS_CONF": str(conf)})

    def run(
        self, *args: str, timeout: float = 120, check: bool = True, **kwargs
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["podman", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        if check and result.returncode != 0:
            command = " ".join(args)
            raise RuntimeError(f"podman {command} failed ({result.returncode}):\n{result.stderr[-4000:]}")
        return result

    def has_image(self, image: str) -> bool:
        return self.run("image", "exists", image, check=False).returncode == 0

    def ensure_base_image(self) -> None:
        """The bootstrapped Debian base: imported from the cached tarball, made when missing."""
        if self.has_image(BASE_IMAGE):
            return
        if not BASE_TARBALL.is_file():
            bootstrap_base_tarball(BASE_TARBALL)
        self.run("import", str(BASE_TARBALL), BASE_IMAGE, timeout=600)

    def build(
        self,
        dockerfile: Path,
        tag: str,
        context: Path = REPO_ROOT,
        target: str | None = None,
        build_args: dict[str, str] | None = None,
    ) -> float:
        """Build (nice'd: others share these cores) and return the seconds it took."""
        arguments = ["build", "--format", "docker", "--network", "host", "--file", str(dockerfile)]
        arguments += ["--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "--tag", tag]
        for key, value in (build_args or {}).items():
            arguments += ["--build-arg", f"{key}={value}"]
        if HOST_CA.is_file():
            arguments += ["--volume", f"{HOST_CA}:/etc/ssl/certs/host-ca.crt:ro"]
            arguments += ["--build-arg", "PIP_CERT=/etc/ssl/certs/host-ca.crt"]
        if target:
            arguments += ["--target", target]
        started = time.monotonic()
        result = subprocess.run(
            ["nice", "-n", "19", "podman", *arguments, str(context)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if result.returncode != 0:
            output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            raise RuntimeError(f"building {dockerfile.name} failed:\n{output}")
        return time.monotonic() - started

    def image_size(self, image: str) -> int:
        return int(self.run("image", "inspect", "--format", "{{.Size}}", image).stdout.strip())

    def logs(self, name: str) -> str:
        result = self.run("logs", "--tail", "60", name, check=False)
        return result.stdout + result.stderr

    def remove(self, name: str) -> None:
        self.run("rm", "--force", "--volumes", "--time", "5", name, check=False, timeout=60)


def debian_mirror() -> str:
    """The mirror apt already uses (deb822 or classic sources), else Debian's default."""
    for path in (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")):
        if path.is_file():
            match = re.search(r"(?:URIs:|^deb)\s+(http\S+/debian)\s", path.read_text(), re.MULTILINE)
            if match:
                return match.group(1)
    return "http://deb.debian.org/debian"


def bootstrap_base_tarball(destination: Path) -> None:
    """debootstrap a minimal bookworm with python3 and its venv module, trimmed, as a tarball."""
    with tempfile.TemporaryDirectory(prefix="visionhost-rootfs-") as directory:
        rootfs = Path(directory) / "rootfs"
        subprocess.run(
            ["nice", "-n", "19", "debootstrap", "--variant=minbase", "--include=python3,python3-venv",
             "bookworm", str(rootfs), debian_mirror()],
            capture_output=True, check=True, timeout=1200,
        )  # fmt: skip
        for relative in TRIMMED:
            for child in (rootfs / relative).glob("*"):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        partial = destination.with_suffix(".partial")
        with open(partial, "wb") as output:
            tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
            subprocess.run(["gzip", "-1"], stdin=tar.stdout, stdout=output, check=True)
            if tar.wait() != 0:
                raise RuntimeError("tar of the bootstrapped rootfs failed")
        partial.rename(destination)


def wait_for(url: str, timeout: float, still_running=lambda: True) -> None:
    """Poll until `url` answers 200; fail early when the container has died."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if not still_running():
            raise RuntimeError(f"the container exited before {url} answered")
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f}s")


# --- predictions over HTTP, the same checks for every way the server is deployed -----------------


def post_legacy(client, model_id: str, scene):
    """A scene to the legacy route as a base64 body, at confidence 0.5."""
    return client.post(
        f"/{model_id}?confidence=0.5",
        content=scene.base64,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def post_routed(client, model_id: str, scene):
    """A scene to /infer/object_detection as a base64 image object, at confidence 0.5."""
    image = {"type": "base64", "value": scene.base64}
    body = {"model_id": model_id, "image": image, "confidence": 0.5}
    return client.post("/infer/object_detection", json=body)


def assert_scene_detected(answer, scene) -> None:
    from server_harness import assert_detects

    assert answer.status_code == 200, answer.text
    assert_detects(scene.objects, answer.json()["predictions"])


def assert_detects_on_both_routes(client, model_id: str, legacy_seeds, routed_seed: int) -> None:
    """Scenes through the legacy route, then one through /infer/*, each matching its ground truth."""
    from server_harness import make_scene

    for seed in legacy_seeds:
        scene = make_scene(seed)
        assert_scene_detected(post_legacy(client, model_id, scene), scene)
    scene = make_scene(routed_seed)
    assert_scene_detected(post_routed(client, model_id, scene), scene)
