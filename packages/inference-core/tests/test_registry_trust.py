"""What a model registry's answers are trusted with: artifact locations only over http(s) from
the registry's own hosts (or MODEL_ARTIFACT_HOSTS, at public addresses), every redirect checked,
class names plain one-line text, no lock file for a model that does not exist, a default cache
cap, and no server paths in the messages."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path

import pytest
from fake_registry import GOOD_KEY, FakeRegistry, RegistryModel, default_model
from inference_core.errors import InferenceError, ModelNotFoundError, RegistryError
from inference_core.settings import CoreSettings, RegistrySettings
from inference_core.sources import build_fetcher
from inference_core.sources.cache import STAGING_DIR
from inference_core.sources.locks import LOCKS_DIR
from inference_core.sources.trust import ArtifactPolicy, check_class_names
from inference_core.store import ModelStore

ASSETS_MODELS = Path(__file__).resolve().parents[3] / "assets" / "models"
MODEL_ID = "hostile/1"


@pytest.fixture(scope="module")
def base_model() -> RegistryModel:
    return default_model(ASSETS_MODELS)


def fetch(tmp_path, model: RegistryModel, **overrides):
    registry = FakeRegistry({MODEL_ID: model}).start()
    try:
        store = ModelStore(tmp_path / "cache")
        settings = RegistrySettings(source="roboflow", api_base_url=registry.url, timeout_seconds=2,
                                    retries=0, backoff_seconds=0.01, **overrides)
        build_fetcher(store, settings).ensure(MODEL_ID, api_key=GOOD_KEY)
        return store, registry
    finally:
        registry.stop()


def assert_refused(tmp_path, model: RegistryModel, *must_not_mention: str) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        fetch(tmp_path, model)
    assert caught.value.status_code == 502
    for text in must_not_mention:
        assert text not in caught.value.message
    store = ModelStore(tmp_path / "cache")
    assert not store.model_dir(MODEL_ID).exists()
    staging = store.cache_dir / STAGING_DIR
    assert not staging.exists() or not list(staging.iterdir())
    return caught.value


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "/etc/passwd",
        "../../../../etc/passwd",
        "ftp://example.com/weights.onnx",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.1:9/weights.onnx",
        "http://[::ffff:127.0.0.1]:9/weights.onnx",
        "https://evil.example.com/weights.onnx",
        "http://[::1",
    ],
)
def test_artifact_locations_outside_the_registrys_hosts_are_refused(tmp_path, base_model, location):
    model = dataclasses.replace(base_model, model_location=location)
    error = assert_refused(tmp_path, model, "/etc/passwd")
    assert "refused" in error.message


def test_a_redirect_away_from_the_registrys_hosts_is_refused(tmp_path, base_model):
    for target in ("file:///etc/passwd", "http://169.254.169.254/x", "http://127.1:9/x"):
        model = dataclasses.replace(base_model, model_location="{registry}/redirect?to=" + target)
        assert_refused(tmp_path / target.replace("/", "_").replace(":", ""), model, "/etc/passwd")


def test_a_redirect_within_the_registry_is_followed(tmp_path, base_model):
    model = dataclasses.replace(
        base_model, model_location="{registry}/redirect?to={registry}/files/" + MODEL_ID + "/weights.onnx"
    )
    store, _ = fetch(tmp_path, model)
    assert store.has(MODEL_ID)


@pytest.mark.parametrize("name", ["car\nperson", "car\r", "bell\x07", "zero\u200bwidth", "", "x" * 300])
def test_class_names_with_line_breaks_or_control_characters_are_refused(tmp_path, base_model, name):
    model = dataclasses.replace(base_model, classes=[*base_model.classes[:-1], name])
    assert_refused(tmp_path, model)


def test_class_names_that_are_not_text_are_refused():
    with pytest.raises(RegistryError):
        check_class_names(["ok", 5], "classes")
    assert check_class_names(["café", "person", "traffic light"], "classes") == ["café", "person", "traffic light"]


def test_artifact_host_allow_list_and_public_addresses():
    settings = RegistrySettings(api_base_url="https://api.example.org", artifact_hosts=("*.cdn.example",))
    policy = ArtifactPolicy(settings)
    policy.check("https://api.example.org/x/weights.onnx", "weights")  # the registry's own host
    with pytest.raises(RegistryError):
        policy.check("https://other.example.org/weights.onnx", "weights")
    local = ArtifactPolicy(dataclasses.replace(settings, artifact_hosts=("localhost",)))
    with pytest.raises(RegistryError, match="non-public"):
        local.check("http://localhost/weights.onnx", "weights")


def test_an_unknown_model_leaves_no_lock_file(tmp_path, base_model):
    registry = FakeRegistry({MODEL_ID: base_model}).start()
    try:
        store = ModelStore(tmp_path / "cache")
        settings = RegistrySettings(source="roboflow", api_base_url=registry.url, timeout_seconds=2, retries=0)
        fetcher = build_fetcher(store, settings)
        for index in range(20):
            with pytest.raises(ModelNotFoundError):
                fetcher.ensure(f"no-such-model-{index}/1", api_key=GOOD_KEY)
    finally:
        registry.stop()
    locks = store.cache_dir / LOCKS_DIR
    assert not locks.exists() or list(locks.iterdir()) == []


def test_open_server_defaults_cap_the_cache_and_name_the_artifact_hosts():
    defaults = CoreSettings.from_env({}).registry
    assert defaults.cache_max_bytes == 10 * 1024**3
    assert "storage.googleapis.com" in defaults.artifact_hosts
    configured = CoreSettings.from_env({"MODEL_CACHE_MAX_BYTES": "0", "MODEL_ARTIFACT_HOSTS": "a.example"}).registry
    assert configured.cache_max_bytes == 0 and configured.artifact_hosts == ("a.example",)


# --- DNS rebinding: the download connects to the address that was checked ---------------------

REBINDING_HOST = "artifacts.rebinding.example"
PUBLIC_ANSWER = "93.184.215.14"


@pytest.fixture
def rebinding_dns(monkeypatch):
    """A name server that answers a public address for the first `honest` lookups of
    REBINDING_HOST and 127.0.0.1 after that (what a rebinding attacker's DNS does). The one stand-in
    in these tests: this machine has no name server of ours to point at."""
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def install(honest: int):
        def getaddrinfo(host, port, *args, **kwargs):
            if host != REBINDING_HOST:
                return real_getaddrinfo(host, port, *args, **kwargs)
            lookups.append(host)
            answer = PUBLIC_ANSWER if len(lookups) <= honest else "127.0.0.1"
            return real_getaddrinfo(answer, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return lookups

    return install


@pytest.mark.parametrize("honest", [1, 2])
def test_a_download_never_reaches_the_address_a_second_dns_answer_names(tmp_path, base_model, rebinding_dns,
                                                                         honest):
    """The registry names an allowed artifact host; its first DNS answer(s) are public and pass the
    check, the next one names an internal server. The internal server must never be asked: the
    connection goes to the checked address (honest=2: the pinned public address), or the answer
    checked when connecting is refused (honest=1)."""
    internal = FakeRegistry({MODEL_ID: base_model}).start()
    try:
        location = f"http://{REBINDING_HOST}:{internal.server.server_port}/files/{MODEL_ID}/weights.onnx"
        lookups = rebinding_dns(honest)
        with pytest.raises(InferenceError):
            fetch(tmp_path, dataclasses.replace(base_model, model_location=location),
                  artifact_hosts=(REBINDING_HOST,))
        assert len(lookups) >= honest  # the check did look the name up
        assert internal.hits("weights.onnx") == 0
    finally:
        internal.stop()
