import pytest
from inference_backend_onnx import OnnxBackend, OnnxSettings
from inference_backend_onnx.providers import choose_providers
from inference_core.backend_selection import build_backend_registry
from inference_core.errors import BackendUnavailableError
from inference_core.settings import CoreSettings
from inference_core.testing.conformance import BackendConformanceTests


@pytest.fixture
def backend():
    return OnnxBackend(CoreSettings(intra_op_threads=1))


@pytest.fixture
def conformance_models(fixture_model_path):
    return {
        "dynamic_batch": fixture_model_path("shapes-det-yolov8.onnx"),
        "fixed_batch": fixture_model_path("shapes-det-yolov5.onnx"),
    }


class TestOnnxBackendConformance(BackendConformanceTests):
    pass


def test_registered_through_its_entry_point():
    registry = build_backend_registry()
    assert registry.backends["onnx"] is OnnxBackend
    assert "onnx" in registry.available()


def test_provider_order_and_explicit_choice():
    present = ["CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider"]
    assert choose_providers((), present) == ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(("cuda",), present) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers((), ["CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    with pytest.raises(BackendUnavailableError, match="CoreMLExecutionProvider"):
        choose_providers(("coreml",), ["CPUExecutionProvider"])


def test_session_reports_providers_and_threads_setting(fixture_model_path):
    backend = OnnxBackend(CoreSettings(intra_op_threads=1))
    session = backend.load(fixture_model_path("shapes-det-yolov8.onnx"))
    assert session.info.providers[-1] == "CPUExecutionProvider"
    assert backend.providers()[-1] == "CPUExecutionProvider"


def test_its_own_settings_come_from_the_environment_core_was_given():
    chosen = OnnxBackend(CoreSettings.from_env({"ONNXRUNTIME_EXECUTION_PROVIDERS": "[CPUExecutionProvider]"}))
    assert chosen.onnx_settings == OnnxSettings(execution_providers=("CPUExecutionProvider",))
    assert chosen.providers() == ["CPUExecutionProvider"]
    assert OnnxBackend(CoreSettings.from_env({"INTRA_OP_SPINNING": "yes"})).onnx_settings.intra_op_spinning
    missing = OnnxBackend(CoreSettings.from_env({"ONNXRUNTIME_EXECUTION_PROVIDERS": "coreml"}))
    with pytest.raises(BackendUnavailableError, match="CoreMLExecutionProvider"):
        missing.providers()


@pytest.mark.parametrize("mode", ["throughput", "adaptive"])
class TestOnnxBackendConformanceWithParallelSessions(BackendConformanceTests):
    @pytest.fixture
    def backend(self, mode):
        return OnnxBackend(CoreSettings(), OnnxSettings(concurrency=mode))


def test_concurrency_modes_open_one_session_per_core_and_a_wide_one(fixture_model_path):
    import os

    path = fixture_model_path("shapes-det-yolov8.onnx")
    cores = os.cpu_count() or 1
    latency = OnnxBackend(CoreSettings(), OnnxSettings(concurrency="latency")).load(path)
    throughput = OnnxBackend(CoreSettings(), OnnxSettings(concurrency="throughput")).load(path)
    adaptive = OnnxBackend(CoreSettings(), OnnxSettings(concurrency="adaptive")).load(path)
    assert (latency.lanes.wide_count, latency.lanes.narrow_count) == (0, 1)
    if cores > 1:
        assert (throughput.lanes.wide_count, throughput.lanes.narrow_count) == (0, cores)
        assert (adaptive.lanes.wide_count, adaptive.lanes.narrow_count) == (1, cores)


def test_concurrency_setting_from_environment():
    assert OnnxSettings.from_env({}).concurrency == "adaptive"
    assert OnnxSettings.from_env({"ONNXRUNTIME_CONCURRENCY": "latency"}).concurrency == "latency"
    assert OnnxSettings.from_env({"ONNXRUNTIME_CONCURRENCY": "Adaptive"}).concurrency == "adaptive"
    with pytest.raises(ValueError, match="ONNXRUNTIME_CONCURRENCY"):
        OnnxSettings.from_env({"ONNXRUNTIME_CONCURRENCY": "many"})


def test_io_binding_gives_the_same_outputs_as_run(fixture_model_path):
    import numpy as np

    path = fixture_model_path("shapes-det-yolov8.onnx")
    plain = OnnxBackend(CoreSettings(), OnnxSettings(io_binding="off")).load(path)
    bound = OnnxBackend(CoreSettings(), OnnxSettings(io_binding="on")).load(path)
    assert bound.io_binding and not plain.io_binding
    assert not OnnxBackend(CoreSettings(), OnnxSettings()).load(path).io_binding, "auto: only with CUDA"
    feed = {plain.inputs[0].name: np.random.default_rng(3).random((2, 3, 320, 320), dtype=np.float32)}
    for ours, theirs in zip(bound.run(feed), plain.run(feed), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_tensorrt_engines_live_under_the_model_cache_with_their_options(tmp_path):
    from inference_backend_onnx.gpu import engine_cache_dir, provider_entries

    cache = tmp_path / "models"
    weights = cache / "project" / "3" / "weights.onnx"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"")
    folder = engine_cache_dir(cache, weights)
    assert folder == cache / ".tensorrt" / "project" / "3"
    outside = engine_cache_dir(cache, tmp_path / "elsewhere.onnx")
    assert outside.parent == cache / ".tensorrt" / "outside"
    entries = provider_entries(["TensorrtExecutionProvider", "CUDAExecutionProvider"], folder, fp16=True)
    name, options = entries[0]
    assert name == "TensorrtExecutionProvider" and entries[1] == "CUDAExecutionProvider"
    assert options["trt_engine_cache_enable"] and options["trt_engine_cache_path"] == str(folder)
    assert options["trt_fp16_enable"] is True
    assert provider_entries(["CPUExecutionProvider"], folder, fp16=False) == ["CPUExecutionProvider"]


def test_engine_build_progress_is_logged_only_when_tensorrt_builds(tmp_path, caplog):
    import logging

    from inference_backend_onnx.gpu import engine_build_progress

    with caplog.at_level(logging.WARNING, logger="inference_backend_onnx"):
        with engine_build_progress("m.onnx", tmp_path / "engines", ["CPUExecutionProvider"]):
            pass
        assert not caplog.records
        with engine_build_progress("m.onnx", tmp_path / "engines", ["TensorrtExecutionProvider"]):
            pass
        assert "building an engine for m.onnx" in caplog.text and "ready after" in caplog.text
        caplog.clear()
        (tmp_path / "engines" / "TensorrtExecutionProvider_m.engine").write_bytes(b"x")
        with engine_build_progress("m.onnx", tmp_path / "engines", ["TensorrtExecutionProvider"]):
            pass
        assert not caplog.records, "an engine in the cache is reused without a build message"


def test_precision_and_io_binding_settings_from_environment():
    settings = OnnxSettings.from_env({"ONNXRUNTIME_PRECISION": "FP16", "ONNXRUNTIME_IO_BINDING": "on"})
    assert (settings.precision, settings.io_binding) == ("fp16", "on")
    assert (OnnxSettings.from_env({}).precision, OnnxSettings.from_env({}).io_binding) == ("fp32", "auto")
    with pytest.raises(ValueError, match="ONNXRUNTIME_PRECISION"):
        OnnxSettings.from_env({"ONNXRUNTIME_PRECISION": "int4"})
