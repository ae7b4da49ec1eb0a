"""Model sources against a fake registry on 127.0.0.1: the happy paths, every misbehaviour,
one download under concurrency, offline mode, the cache cap and source plugins."""

from __future__ import annotations

import json
import multiprocessing
import shlex
import threading
from pathlib import Path

import pytest
from fake_registry import FORBIDDEN_KEY, GOOD_KEY, FakeRegistry, RegistryModel, default_model
from inference_core.errors import (
    ModelNotFoundError,
    RegistryAuthError,
    RegistryError,
    RegistryForbiddenError,
    RegistryTimeoutError,
    RegistryUnavailableError,
)
from inference_core.model_ids import parse_model_id
from inference_core.plugins import hookimpl
from inference_core.settings import CoreSettings, RegistrySettings
from inference_core.sources import ModelPackage, ModelSource, build_fetcher, build_source_registry
from inference_core.sources.base import ONNX, Artifact
from inference_core.sources.cache import MARKER_FILE, STAGING_DIR, clean_staging, enforce_cap
from inference_core.sources.locks import model_lock
from inference_core.store import ModelStore
from registry_workers import pull_after_barrier

ASSETS_MODELS = Path(__file__).resolve().parents[3] / "assets" / "models"
MODEL_ID = "shapes/3"


@pytest.fixture(scope="module")
def model() -> RegistryModel:
    found = default_model(ASSETS_MODELS)
    found.colors = {found.classes[0]: "#C7FC00"}
    found.keypoints_metadata = None
    return found


@pytest.fixture
def registry(model):
    running = FakeRegistry({MODEL_ID: model, "other/1": model, "third/1": model}, slow_seconds=1.0).start()
    yield running
    running.stop()


def settings_for(registry: FakeRegistry, **overrides) -> RegistrySettings:
    values = dict(source="roboflow", api_base_url=registry.url, timeout_seconds=0.4, retries=2,
                  backoff_seconds=0.01)
    values.update(overrides)
    return RegistrySettings(**values)


def fetcher_for(tmp_path, registry, **overrides):
    store = ModelStore(tmp_path / "cache")
    return store, build_fetcher(store, settings_for(registry, **overrides))


def assert_cache_clean(store: ModelStore, model_id: str = MODEL_ID, others: tuple = ()) -> None:
    """No model directory, no staging leftovers: nothing half-written survived."""
    assert not store.model_dir(model_id).exists()
    staging = store.cache_dir / STAGING_DIR
    assert not staging.exists() or not list(staging.iterdir())
    assert store.list_models() == list(others)


# --- the happy paths ----------------------------------------------------------------------------


def test_roboflow_source_writes_the_roboflow_cache_layout(tmp_path, registry, model):
    store, fetcher = fetcher_for(tmp_path, registry)
    assert fetcher.ensure(MODEL_ID, api_key=GOOD_KEY) is True
    directory = store.model_dir(MODEL_ID)
    assert sorted(path.name for path in directory.iterdir()) == sorted([
        "weights.onnx", "environment.json", "class_names.txt", "model_type.json", MARKER_FILE])
    assert (directory / "weights.onnx").read_bytes() == model.weights
    environment = json.loads((directory / "environment.json").read_text())
    assert environment["COLORS"] == model.colors and "PREPROCESSING" in environment
    assert json.loads((directory / "model_type.json").read_text()) == {
        "project_task_type": "object-detection", "model_type": "yolov8n", "model_id": MODEL_ID}
    artifact = store.read(MODEL_ID)
    assert artifact.class_names == model.classes
    path, query = registry.requests[0]
    assert path == "/ort/shapes/3"
    assert query == {"api_key": GOOD_KEY, "nocache": "true", "device": "visionhost", "dynamic": "true"}
    assert fetcher.ensure(MODEL_ID, api_key=GOOD_KEY) is False  # cached: no second download
    assert registry.hits("ort") == 1


def test_keypoints_metadata_is_written_and_existing_colors_are_kept(tmp_path, model):
    pose = RegistryModel(weights=model.weights, classes=["person"], task="keypoint-detection",
                         environment={"COLORS": {"person": "#000000"}}, colors={"person": "#FFFFFF"},
                         keypoints_metadata=[{"object_class_id": 0, "keypoints": {"0": "nose"}}])
    running = FakeRegistry({"pose/1": pose}).start()
    try:
        store, fetcher = fetcher_for(tmp_path, running)
        fetcher.ensure("pose/1", api_key=GOOD_KEY)
    finally:
        running.stop()
    directory = store.model_dir("pose/1")
    assert json.loads((directory / "keypoints_metadata.json").read_text())[0]["keypoints"] == {"0": "nose"}
    assert json.loads((directory / "environment.json").read_text())["COLORS"] == {"person": "#000000"}


def test_the_settings_key_is_used_when_the_request_has_none(tmp_path, registry):
    store, fetcher = fetcher_for(tmp_path, registry, api_key=GOOD_KEY)
    fetcher.ensure(MODEL_ID)
    assert store.has(MODEL_ID)


@pytest.mark.parametrize("source", ["http-folder", "local-folder"])
def test_folder_sources(tmp_path, registry, model, source):
    if source == "http-folder":
        base = f"{registry.url}/folder"
    else:
        base = tmp_path / "shared-models"
        (base / "shapes" / "3").mkdir(parents=True)
        for name, body in model.folder_files().items():
            (base / "shapes" / "3" / name).write_bytes(body)
        base = str(base)
    store, fetcher = fetcher_for(tmp_path, registry, source=source, source_url=base)
    assert fetcher.ensure(MODEL_ID) is True
    assert store.read(MODEL_ID).class_names == model.classes
    assert not (store.model_dir(MODEL_ID) / "keypoints_metadata.json").exists()  # optional, absent
    with pytest.raises(ModelNotFoundError, match="weights.onnx of model 'nothing/1'") as missing:
        fetcher.ensure("nothing/1")
    assert_names_cache_and_import_command(missing.value.message, store, "nothing/1")
    assert_cache_clean(store, "nothing/1", others=(MODEL_ID,))


def test_settings_from_the_environment():
    registry = CoreSettings.from_env({
        "API_BASE_URL": "http://registry.local/", "OFFLINE_MODE": "true", "ROBOFLOW_API_KEY": "k",
        "MODEL_CACHE_MAX_BYTES": "1000", "MODEL_DOWNLOAD_TIMEOUT": "3", "MODEL_DOWNLOAD_RETRIES": "1",
    }).registry
    assert (registry.source, registry.api_base_url, registry.offline, registry.api_key) == (
        "roboflow", "http://registry.local", True, "k")
    assert (registry.cache_max_bytes, registry.timeout_seconds, registry.retries) == (1000, 3.0, 1)
    folder = CoreSettings.from_env({"MODEL_SOURCE_URL": "https://models.example/"}).registry
    assert folder.source == "http-folder"
    assert CoreSettings.from_env({}).registry.api_base_url == "https://api.roboflow.com"


# --- misbehaving registries: a clear error, nothing left behind ---------------------------------


def test_no_key_wrong_key_forbidden_key_and_unknown_model(tmp_path, registry):
    store, fetcher = fetcher_for(tmp_path, registry)
    with pytest.raises(ModelNotFoundError, match="no API key was given") as no_key:
        fetcher.ensure(MODEL_ID)
    assert_names_cache_and_import_command(no_key.value.message, store, MODEL_ID)
    with pytest.raises(RegistryAuthError, match="Check the API key") as unauthorized:
        fetcher.ensure(MODEL_ID, api_key="wrong-key")
    assert unauthorized.value.status_code == 401 and "wrong-key" not in unauthorized.value.message
    with pytest.raises(RegistryForbiddenError, match="Check the API key") as forbidden:
        fetcher.ensure(MODEL_ID, api_key=FORBIDDEN_KEY)
    assert forbidden.value.status_code == 403
    with pytest.raises(ModelNotFoundError, match="no model 'missing/1'") as missing:
        fetcher.ensure("missing/1", api_key=GOOD_KEY)
    assert_names_cache_and_import_command(missing.value.message, store, "missing/1")
    assert missing.value.status_code == 404
    assert registry.hits("ort") == 3  # 4xx are never retried
    assert_cache_clean(store)


@pytest.mark.parametrize(
    ("target", "fault", "error_class", "status", "message"),
    [
        ("ort", "slow", RegistryTimeoutError, 504, "did not answer within"),
        ("weights.onnx", "slow", RegistryTimeoutError, 504, "did not answer within"),
        ("weights.onnx", "truncate", RegistryError, 502, "cut short"),
        ("ort", "500", RegistryError, 502, "HTTP 500"),
        ("weights.onnx", "503", RegistryUnavailableError, 503, "HTTP 503"),
        ("weights.onnx", "html", RegistryError, 502, "HTML page"),
        ("weights.onnx", "garbage", RegistryError, 502, "not a valid ONNX model"),
        ("environment.json", "garbage", RegistryError, 502, "not valid JSON"),
        ("ort", "not-json", RegistryError, 502, "not JSON"),
        ("weights.onnx", "drop", RegistryUnavailableError, 503, "Remote end closed"),
    ],
)
def test_every_misbehaviour_is_a_clear_error_and_leaves_no_broken_entry(
    tmp_path, registry, target, fault, error_class, status, message
):
    store, fetcher = fetcher_for(tmp_path, registry)
    registry.fail(target, fault)
    with pytest.raises(error_class, match=message) as raised:
        fetcher.ensure(MODEL_ID, api_key=GOOD_KEY)
    assert raised.value.status_code == status
    assert GOOD_KEY not in raised.value.message
    assert_cache_clean(store)
    transient = fault in ("slow", "truncate", "500", "503", "drop")
    assert registry.hits(target) == (3 if transient else 1)  # retries only what may pass next time


@pytest.mark.parametrize(("target", "fault"), [("ort", "500"), ("weights.onnx", "truncate"),
                                               ("weights.onnx", "drop"), ("environment.json", "slow")])
def test_transient_failures_are_retried_until_the_download_succeeds(tmp_path, registry, target, fault):
    store, fetcher = fetcher_for(tmp_path, registry)
    registry.fail(target, fault, times=2)
    assert fetcher.ensure(MODEL_ID, api_key=GOOD_KEY) is True
    assert registry.hits(target) == 3
    store.read(MODEL_ID)


def test_an_unreachable_registry_is_503(tmp_path, registry):
    store, fetcher = fetcher_for(tmp_path, registry)
    registry.stop()
    with pytest.raises(RegistryUnavailableError, match="Cannot reach the model registry") as raised:
        fetcher.ensure(MODEL_ID, api_key=GOOD_KEY)
    assert "OFFLINE_MODE" in raised.value.message
    assert_cache_clean(store)


def test_a_download_over_the_size_cap_is_refused(tmp_path, registry):
    store, fetcher = fetcher_for(tmp_path, registry, max_download_bytes=100)
    with pytest.raises(RegistryError, match="MODEL_DOWNLOAD_MAX_BYTES"):
        fetcher.ensure(MODEL_ID, api_key=GOOD_KEY)
    assert_cache_clean(store)


# --- one download under concurrency -------------------------------------------------------------


def test_sixteen_threads_asking_at_once_cause_one_download(tmp_path, registry):
    store, fetcher = fetcher_for(tmp_path, registry, timeout_seconds=5.0)
    registry.fail("weights.onnx", "slow", times=1)  # keep the first download open while others wait
    barrier = threading.Barrier(16)
    outcomes: list[object] = []

    def ask():
        barrier.wait()
        try:
            outcomes.append(fetcher.ensure(MODEL_ID, api_key=GOOD_KEY))
        except Exception as error:
            outcomes.append(error)

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [False] * 15 + [True]
    assert (registry.hits("ort"), registry.hits("weights.onnx")) == (1, 1)
    store.read(MODEL_ID)


def test_several_processes_asking_at_once_cause_one_download(tmp_path, registry):
    settings = CoreSettings(model_cache_dir=tmp_path / "cache",
                            registry=settings_for(registry, timeout_seconds=10.0))
    registry.fail("weights.onnx", "slow", times=1)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    arguments = (barrier, settings, MODEL_ID, GOOD_KEY, results)
    processes = [context.Process(target=pull_after_barrier, args=arguments) for _ in range(3)]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    assert outcomes == [("ok", False), ("ok", False), ("ok", True)]
    assert (registry.hits("ort"), registry.hits("weights.onnx")) == (1, 1)


# --- offline mode, leftovers, the cache cap -----------------------------------------------------


def test_offline_mode_never_touches_the_network(tmp_path, registry):
    store, online = fetcher_for(tmp_path, registry)
    online.ensure(MODEL_ID, api_key=GOOD_KEY)
    offline_settings = settings_for(registry, offline=True)
    registry.stop()
    offline = build_fetcher(store, offline_settings)
    assert offline.ensure(MODEL_ID, api_key=GOOD_KEY) is False
    with pytest.raises(ModelNotFoundError, match="offline mode is on") as raised:
        offline.ensure("other/1", api_key=GOOD_KEY)
    assert raised.value.status_code == 404 and "OFFLINE_MODE=true" in raised.value.message
    assert_names_cache_and_import_command(raised.value.message, store, "other/1")


def test_a_store_without_a_source_names_its_directory_and_the_import_command(tmp_path):
    store = ModelStore(tmp_path / "my cache")
    with pytest.raises(ModelNotFoundError) as no_source:
        build_fetcher(store, RegistrySettings(source="none")).ensure("absent/2")
    assert_names_cache_and_import_command(no_source.value.message, store, "absent/2")
    with pytest.raises(ModelNotFoundError) as unreadable:
        store.read("absent/2")
    assert_names_cache_and_import_command(unreadable.value.message, store, "absent/2")


def assert_names_cache_and_import_command(message: str, store: ModelStore, model_id: str) -> None:
    """The message names the directory looked in and a command that files the model there."""
    assert str(store.cache_dir) in message
    command = message.split("`inference models import ", 1)[1].split("`", 1)[0]
    assert f"--model-id {model_id}" in command
    assert shlex.split(command)[-2:] == ["--cache-dir", str(store.cache_dir)]


def test_staging_leftovers_of_a_killed_download_are_removed_on_start(tmp_path, registry):
    store = ModelStore(tmp_path / "cache")
    staging = tmp_path / "cache" / STAGING_DIR
    (staging / "shapes@3-abc123").mkdir(parents=True)
    (staging / "shapes@3-abc123" / "weights.onnx").write_bytes(b"half a file")
    (staging / "busy@1-def456").mkdir()
    with model_lock(store.cache_dir, parse_model_id("busy/1")):  # a download in progress elsewhere
        assert clean_staging(store.cache_dir) == 1
    assert [path.name for path in staging.iterdir()] == ["busy@1-def456"]
    build_fetcher(store, settings_for(registry))  # a fresh start cleans what is no longer locked
    assert not list(staging.iterdir())


def test_cache_cap_evicts_least_recently_used_downloads_only(tmp_path, registry, model):
    import os
    import time

    store, fetcher = fetcher_for(tmp_path, registry)
    imported = tmp_path / "mine.onnx"
    imported.write_bytes(model.weights)
    store.import_ultralytics_onnx(imported, "mine/1")
    for index, model_id in enumerate([MODEL_ID, "other/1", "third/1"]):
        fetcher.ensure(model_id, api_key=GOOD_KEY)
        stamp = time.time() - 100 + index
        os.utime(store.model_dir(model_id) / MARKER_FILE, (stamp, stamp))
    fetcher.ensure(MODEL_ID, api_key=GOOD_KEY)  # a use: shapes/3 is now the most recent
    total = sum(path.stat().st_size for path in store.cache_dir.rglob("*") if path.is_file())
    evicted = enforce_cap(store, max_bytes=total - 100, keep=["third/1"])
    assert evicted == ["other/1"]  # the oldest; third/1 is in use; the import is never a candidate
    assert store.list_models() == ["mine/1", "shapes/3", "third/1"]
    assert enforce_cap(store, max_bytes=1, keep=[]) == ["third/1", "shapes/3"]
    assert_cache_clean(store, others=("mine/1",))


def test_the_cap_applies_after_each_download_and_spares_loaded_models(tmp_path, registry):
    store, fetcher = fetcher_for(tmp_path, registry, cache_max_bytes=1)
    fetcher.ensure(MODEL_ID, api_key=GOOD_KEY, keep=[])
    fetcher.ensure("other/1", api_key=GOOD_KEY, keep=[MODEL_ID])  # shapes/3 is loaded: spared
    assert store.list_models() == ["other/1", "shapes/3"]
    fetcher.ensure("third/1", api_key=GOOD_KEY, keep=[])
    assert store.list_models() == ["third/1"]  # the just-downloaded model always stays


# --- sources are plugins -------------------------------------------------------------------------


class MemorySource(ModelSource):
    name = "memory"
    locations_from_registry = False  # a local path from the server's own settings

    def describe(self, model_id, api_key):
        return ModelPackage(artifacts=[Artifact("weights.onnx", str(self.settings.source_url), ONNX)],
                            files={"class_names.txt": "circle\nsquare\n"})


class ClashingSource(MemorySource):
    name = "roboflow"


class MemoryPlugin:
    @hookimpl
    def register_model_sources(self):
        return [MemorySource, ClashingSource]


def test_sources_come_from_plugins_and_built_ins_keep_their_names(tmp_path, model):
    registry = build_source_registry([MemoryPlugin()])
    assert {"roboflow", "http-folder", "local-folder", "memory"} <= set(registry.sources)
    assert registry.sources["roboflow"].__module__ == "inference_core.sources.roboflow"
    assert any("duplicate model source name 'roboflow'" in reason for reason in registry.failures.values())
    weights = tmp_path / "w.onnx"
    weights.write_bytes(model.weights)
    store = ModelStore(tmp_path / "cache")
    settings = RegistrySettings(source="memory", source_url=str(weights))
    assert build_fetcher(store, settings, [MemoryPlugin()]).ensure("mem/1") is True
    assert store.read("mem/1").class_names == ["circle", "square"]


def test_an_unknown_source_or_none_is_a_clear_error(tmp_path):
    store = ModelStore(tmp_path)
    with pytest.raises(RegistryUnavailableError, match="MODEL_SOURCE='s3' is not an installed model source"):
        build_fetcher(store, RegistrySettings(source="s3")).ensure("a/1")
    with pytest.raises(ModelNotFoundError, match="no model source is configured"):
        build_fetcher(store, RegistrySettings(source="none")).ensure("a/1")


def test_a_download_killed_mid_way_leaves_no_model_and_its_staging_is_cleaned_on_restart(tmp_path, registry):
    import time

    settings = CoreSettings(model_cache_dir=tmp_path / "cache",
                            registry=settings_for(registry, timeout_seconds=30.0))
    registry.slow_seconds = 30.0
    registry.fail("weights.onnx", "slow", times=1)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(1), context.Queue()
    arguments = (barrier, settings, MODEL_ID, GOOD_KEY, results)
    process = context.Process(target=pull_after_barrier, args=arguments)
    process.start()
    deadline = time.monotonic() + 60
    while registry.hits("weights.onnx") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.kill()
    process.join(timeout=30)
    store = ModelStore(settings.model_cache_dir)
    assert not store.has(MODEL_ID) and store.list_models() == []
    assert list((store.cache_dir / STAGING_DIR).iterdir())  # the killed download's leftovers
    fetcher = build_fetcher(store, settings_for(registry))  # "restart"
    assert not list((store.cache_dir / STAGING_DIR).iterdir())
    assert fetcher.ensure(MODEL_ID, api_key=GOOD_KEY) is True
