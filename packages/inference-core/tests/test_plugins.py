import importlib
import inspect
from pathlib import Path

import pytest
from inference_core.backend_selection import BackendSelector, build_backend_registry
from inference_core.errors import BackendUnavailableError
from inference_core.plugins import ENTRY_POINT_GROUPS, KINDS, hookimpl, hookspecs, load_plugins
from inference_core.runtime import Backend
from inference_core.settings import CoreSettings


def make_backend(backend_name: str, priority: int = 0, reason: str | None = None, suffix: str = ".onnx"):
    class FakeRuntimeBackend(Backend):
        name = backend_name
        auto_priority = priority

        @classmethod
        def unavailable_reason(cls):
            return reason

        def can_load(self, path: Path) -> bool:
            return path.suffix == suffix

        def load(self, path: Path):
            raise NotImplementedError

    return FakeRuntimeBackend


class PluginA:
    @hookimpl
    def register_backends(self):
        return [make_backend("alpha", priority=1), make_backend("beta", priority=5, reason="no beta runtime")]


class PluginB:
    @hookimpl
    def register_backends(self):
        return [make_backend("alpha"), make_backend("gamma", priority=3, suffix=".xml")]


def test_explicit_plugins_duplicates_and_availability():
    registry = build_backend_registry([PluginA(), PluginB()])
    assert set(registry.backends) == {"alpha", "beta", "gamma"}
    assert any("duplicate backend name 'alpha'" in reason for reason in registry.failures.values())
    assert set(registry.available()) == {"alpha", "gamma"}
    assert registry.unavailable()["beta"] == "no beta runtime"


def test_auto_choice_prefers_priority_among_those_that_can_load():
    selector = BackendSelector(build_backend_registry([PluginA(), PluginB()]), CoreSettings())
    assert selector.for_artifact(Path("weights.onnx")).name == "alpha"
    assert selector.for_artifact(Path("weights.xml")).name == "gamma"
    with pytest.raises(BackendUnavailableError, match="No installed backend can load weights.bin"):
        selector.for_artifact(Path("weights.bin"))


def test_named_backend_missing_or_unavailable_is_a_clear_error():
    registry = build_backend_registry([PluginA()])
    with pytest.raises(BackendUnavailableError, match="'delta' is not installed"):
        BackendSelector(registry, CoreSettings(backend="delta")).for_artifact(Path("w.onnx"))
    with pytest.raises(BackendUnavailableError, match="no beta runtime"):
        BackendSelector(registry, CoreSettings(backend="beta")).for_artifact(Path("w.onnx"))


def test_a_plugin_that_fails_to_import_is_recorded_not_fatal(tmp_path, monkeypatch):
    dist_info = tmp_path / "broken_backend-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-backend\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUPS['backends']}]\nbroken = broken_backend_module\n"
    )
    (tmp_path / "broken_backend_module.py").write_text("raise ImportError('libbroken.so not found')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    plugins = load_plugins()
    registry = build_backend_registry(plugins)
    assert "libbroken.so not found" in registry.failures["broken"]
    record = next(record for record in plugins.report() if record["name"] == "broken")
    assert record["distribution"] == "broken-backend" and record["version"] == "0.1"
    assert "ImportError: libbroken.so not found" in record["error"]
    # the working plugins still registered around it
    assert "onnx" in registry.backends and plugins.classes("model_architectures")


class RaisingPlugin:
    @hookimpl
    def register_model_sources(self):
        raise RuntimeError("source table missing")

    @hookimpl
    def register_backends(self):
        return [object, "not-a-class"]


def test_a_hook_that_raises_or_offers_junk_is_recorded_against_its_plugin():
    plugins = load_plugins([RaisingPlugin(), PluginA()])
    record = next(record for record in plugins.report() if record["name"].startswith("RaisingPlugin"))
    assert "register_model_sources() raised RuntimeError: source table missing" in record["error"]
    assert "is not a Backend subclass with a string `name`" in record["error"]
    assert record["registers"] == {}
    assert [backend.name for backend in plugins.classes("backends")] == ["alpha", "beta"]
    # core's own sources are unaffected by the broken plugin
    assert {"roboflow", "http-folder", "local-folder"} <= set(plugins.by_name("model_sources"))


def test_every_kind_has_a_hook_and_an_entry_point_group():
    assert set(ENTRY_POINT_GROUPS) == set(KINDS)
    for kind in KINDS:
        assert ENTRY_POINT_GROUPS[kind] == f"visionhost.{kind}"
        assert callable(getattr(hookspecs, f"register_{kind}"))
    with pytest.raises(KeyError, match="Unknown plugin kind 'gadgets'"):
        load_plugins([]).classes("gadgets")


def test_every_hook_is_documented():
    hooks = [member for name, member in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("register_")]
    assert hooks
    for hook in hooks:
        assert hook.__doc__ and len(hook.__doc__.split()) > 20, hook.__name__
