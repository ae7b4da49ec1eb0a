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
    assert backend.describe()["providers"]


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
    assert OnnxSettings.from_env({}).concurrency == "latency"
    assert OnnxSettings.from_env({"ONNXRUNTIME_CONCURRENCY": "Adaptive"}).concurrency == "adaptive"
    with pytest.raises(ValueError, match="ONNXRUNTIME_CONCURRENCY"):
        OnnxSettings.from_env({"ONNXRUNTIME_CONCURRENCY": "many"})
