"""How `inference server start` runs a container: engine arguments and image choice (no engine)."""

from __future__ import annotations

from pathlib import Path

from inference_server.cli import containers
from inference_server.cli.containers import ContainerSpec, Engine, run_arguments
from inference_server.cli.main import build_parser


class FakeEngine(Engine):
    def __init__(self, command: str, images: set[str]) -> None:
        super().__init__(command)
        object.__setattr__(self, "images", images)

    def has_image(self, image: str) -> bool:
        return image in self.images


def test_bridge_network_publishes_the_port_and_mounts_a_cache_volume():
    spec = ContainerSpec(
        "visionhost/server:cpu", "vh", 9100, env_file=Path("s.env"), volumes=["/data:/data:ro"]
    )
    arguments = run_arguments(Engine("docker"), spec)
    assert arguments[:4] == ["run", "--detach", "--name", "vh"]
    assert arguments[arguments.index("--publish") + 1] == "9100:9001"
    # Settings from the file, but the server must listen where the published port points.
    assert arguments.index("--env-file") < arguments.index("PORT=9001")
    assert _values(arguments, "--volume") == ["/data:/data:ro", "visionhost-models:/models"]
    assert arguments[-1] == "visionhost/server:cpu" and "--gpus" not in arguments


def test_host_network_and_a_user_cache_volume():
    spec = ContainerSpec("img", "vh", 9200, host="127.0.0.1", network="host", volumes=["/srv/models:/models"])
    arguments = run_arguments(Engine("podman"), spec)
    assert "--publish" not in arguments and _values(arguments, "--network") == ["host"]
    assert _values(arguments, "--env") == ["HOST=127.0.0.1", "PORT=9200"]
    assert _values(arguments, "--volume") == ["/srv/models:/models"]


def test_published_on_one_address():
    arguments = run_arguments(Engine("docker"), ContainerSpec("img", "vh", 9300, host="127.0.0.1"))
    assert _values(arguments, "--publish") == ["127.0.0.1:9300:9001"]


def test_gpus_go_through_each_engines_own_flag():
    spec = ContainerSpec("visionhost/server:gpu", "vh", 9001, gpu=True)
    assert "--gpus" in run_arguments(Engine("docker"), spec)
    assert _values(run_arguments(Engine("podman"), spec), "--device") == ["nvidia.com/gpu=all"]


def test_image_choice_follows_the_gpu(monkeypatch):
    both = FakeEngine("podman", {containers.GPU_IMAGE, containers.DEFAULT_IMAGE})
    cpu_only = FakeEngine("podman", {containers.DEFAULT_IMAGE})
    monkeypatch.setattr(containers, "gpu_visible", lambda: True)
    assert containers.choose_image(both, None) == containers.GPU_IMAGE
    assert containers.choose_image(cpu_only, None) == containers.DEFAULT_IMAGE
    assert containers.choose_image(both, "mine:1") == "mine:1"
    assert containers.wants_gpu("visionhost/server:gpu") and not containers.wants_gpu("visionhost/server:cpu")
    monkeypatch.setattr(containers, "gpu_visible", lambda: False)
    assert containers.choose_image(both, None) == containers.DEFAULT_IMAGE
    assert not containers.wants_gpu("visionhost/server:gpu")


def test_gpu_is_seen_through_its_device_nodes(monkeypatch):
    monkeypatch.setattr(containers.shutil, "which", lambda name: None)
    monkeypatch.setattr(containers.glob, "glob", lambda pattern: ["/dev/nvidia0"])
    assert containers.gpu_visible()
    monkeypatch.setattr(containers.glob, "glob", lambda pattern: [])
    assert not containers.gpu_visible()


def test_parser_takes_the_container_options():
    args = build_parser().parse_args(["server", "start", "--name", "vh", "--network", "host", "--image", "i"])
    assert (args.name, args.network, args.image) == ("vh", "host", "i")


def _values(arguments: list[str], flag: str) -> list[str]:
    return [arguments[index + 1] for index, item in enumerate(arguments) if item == flag]
