import pytest

pytest.importorskip("openvino", reason="openvino is not installed; the OpenVINO backend cannot run here")

from inference_backend_openvino import OpenVinoBackend, OpenVinoSettings  # noqa: E402
from inference_core.backend_selection import build_backend_registry  # noqa: E402
from inference_core.settings import CoreSettings  # noqa: E402
from inference_core.testing.conformance import BackendConformanceTests  # noqa: E402


@pytest.fixture
def backend(tmp_path):
    return OpenVinoBackend(CoreSettings(intra_op_threads=1), OpenVinoSettings(cache_dir=tmp_path / "ov-cache"))


@pytest.fixture
def conformance_models(fixture_model_path):
    return {
        "dynamic_batch": fixture_model_path("shapes-det-yolov8.onnx"),
        "fixed_batch": fixture_model_path("shapes-det-yolov5.onnx"),
    }


class TestOpenVinoBackendConformance(BackendConformanceTests):
    pass


def test_registered_through_its_entry_point():
    registry = build_backend_registry()
    assert registry.backends["openvino"] is OpenVinoBackend
    assert "openvino" in registry.available()


def test_loads_openvino_ir_and_caches_compiled_models(tmp_path, fixture_model_path):
    import numpy as np
    import openvino

    source = fixture_model_path("shapes-det-yolov8.onnx")
    ir_path = tmp_path / "weights.xml"
    openvino.save_model(openvino.Core().read_model(str(source)), str(ir_path), compress_to_fp16=False)
    cache = tmp_path / "ov-cache"
    settings = OpenVinoSettings(cache_dir=cache)
    from_ir = OpenVinoBackend(CoreSettings(), settings).load(ir_path)
    from_onnx = OpenVinoBackend(CoreSettings(), settings).load(source)
    feed = np.random.default_rng(0).random((1, 3, 320, 320), dtype=np.float32)
    np.testing.assert_allclose(
        from_ir.run({from_ir.inputs[0].name: feed})[0], from_onnx.run({from_onnx.inputs[0].name: feed})[0],
        rtol=1e-3, atol=1e-3,
    )
    assert any(cache.iterdir()), "compiled model cache is empty"


def test_settings_from_environment():
    assert OpenVinoSettings.from_env({}).performance_hint == "ADAPTIVE"
    settings = OpenVinoSettings.from_env({"OPENVINO_DEVICE": "AUTO", "OPENVINO_PERFORMANCE_HINT": "throughput"})
    assert (settings.device, settings.performance_hint) == ("AUTO", "THROUGHPUT")
    with pytest.raises(ValueError, match="OPENVINO_PERFORMANCE_HINT='fast' is not valid"):
        OpenVinoSettings.from_env({"OPENVINO_PERFORMANCE_HINT": "fast"})


def test_an_injected_environment_reaches_the_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENVINO_PERFORMANCE_HINT", "LATENCY")  # the process environment says otherwise
    environ = {"OPENVINO_PERFORMANCE_HINT": "throughput", "OPENVINO_CACHE_DIR": str(tmp_path / "ov")}
    backend = OpenVinoBackend(CoreSettings.from_env(environ))
    assert backend.openvino_settings.performance_hint == "THROUGHPUT"
    assert backend.openvino_settings.cache_dir == tmp_path / "ov"


def test_auto_prefers_openvino_on_a_cpu_with_avx512_and_onnx_runtime_elsewhere(monkeypatch, tmp_path):
    from pathlib import Path

    import onnxruntime
    from inference_backend_onnx import OnnxBackend
    from inference_backend_openvino import cpu
    from inference_core.backend_selection import BackendSelector

    accelerated = {"CUDAExecutionProvider", "TensorrtExecutionProvider"} & set(onnxruntime.get_available_providers())
    chosen, read_flags = {}, cpu.has_avx512.__wrapped__
    for flags in ("fpu sse2 avx2 fma", "fpu sse2 avx2 avx512f avx512bw avx512_bf16"):
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
        monkeypatch.setattr(cpu, "has_avx512", lambda path=cpuinfo: read_flags(path))
        selector = BackendSelector(build_backend_registry(), CoreSettings())
        chosen[flags] = selector.for_artifact(Path("weights.onnx")).name
    if accelerated:
        assert set(chosen.values()) == {"onnx"} and OnnxBackend.auto_rank() > OpenVinoBackend.auto_rank()
    else:
        assert list(chosen.values()) == ["onnx", "openvino"]


def test_avx512_is_read_from_the_cpu_flags(tmp_path):
    from inference_backend_openvino import cpu

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_vnni\n")
    assert not cpu.has_avx512.__wrapped__(cpuinfo), "avx512_vnni alone is not avx512f"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512f\n")
    assert cpu.has_avx512.__wrapped__(cpuinfo)
    assert not cpu.has_avx512.__wrapped__(tmp_path / "missing")


class TestOpenVinoBackendConformanceAdaptive(BackendConformanceTests):
    @pytest.fixture
    def backend(self, tmp_path):
        settings = OpenVinoSettings(cache_dir=tmp_path / "ov-cache", performance_hint="ADAPTIVE")
        return OpenVinoBackend(CoreSettings(), settings)


def test_adaptive_hint_has_a_latency_request_and_throughput_streams(tmp_path, fixture_model_path):
    import numpy as np

    path = fixture_model_path("shapes-det-yolov8.onnx")
    cache = tmp_path / "ov-cache"
    adaptive = OpenVinoBackend(CoreSettings(), OpenVinoSettings(cache_dir=cache, performance_hint="ADAPTIVE")).load(path)
    latency = OpenVinoBackend(CoreSettings(), OpenVinoSettings(cache_dir=cache, performance_hint="LATENCY")).load(path)
    assert adaptive.lanes.wide_count == 1 and adaptive.lanes.narrow_count >= 1
    assert (latency.lanes.wide_count, latency.lanes.narrow_count) == (0, 1)
    assert OpenVinoSettings.from_env({"OPENVINO_PERFORMANCE_HINT": "adaptive"}).performance_hint == "ADAPTIVE"
    feed = {adaptive.inputs[0].name: np.random.default_rng(1).random((1, 3, 320, 320), dtype=np.float32)}
    # the wide request (alone) and a narrow one (while the wide is held) give the same answer
    alone = adaptive.run(feed)[0]
    with adaptive.lanes.take():
        beside = adaptive.run(feed)[0]
    np.testing.assert_allclose(alone, beside, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(alone, latency.run(feed)[0], rtol=1e-4, atol=1e-4)
