"""Load once under concurrency, LRU capacity, pinning and unloading, over real sessions."""

from __future__ import annotations

import threading
import time

import pytest
from inference_backend_onnx import OnnxBackend
from inference_core import CoreSettings, build_manager
from inference_core.plugins import hookimpl
from model_dirs import roboflow_model_dir


class CountingOnnxBackend(OnnxBackend):
    """The real ONNX backend, counting loads and closes (and loading slowly, to invite races)."""

    name = "counting-onnx"
    loads: list[str] = []
    closed: list[object] = []

    def load(self, path):
        time.sleep(0.2)
        session = super().load(path)
        CountingOnnxBackend.loads.append(str(path))
        original_close = session.close

        def close():
            CountingOnnxBackend.closed.append(session)
            original_close()

        session.close = close
        return session


class CountingPlugin:
    @hookimpl
    def register_backends(self):
        return [CountingOnnxBackend]


@pytest.fixture
def counting_manager(tmp_path, fixture_model_path):
    CountingOnnxBackend.loads.clear()
    CountingOnnxBackend.closed.clear()
    for project in ("a", "b", "c"):
        roboflow_model_dir(tmp_path, f"{project}/1", fixture_model_path("shapes-det-yolov8.onnx"))
    settings = CoreSettings(model_cache_dir=tmp_path, max_active_models=2, backend="counting-onnx", intra_op_threads=1)
    return build_manager(settings, plugins=[CountingPlugin()])


def test_many_threads_asking_at_once_load_the_model_once(counting_manager):
    models = []
    threads = [threading.Thread(target=lambda: models.append(counting_manager.get("a/1"))) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(CountingOnnxBackend.loads) == 1
    assert len({id(model) for model in models}) == 1 and len(models) == 12


def test_least_recently_used_is_evicted_and_closed(counting_manager):
    first = counting_manager.get("a/1")
    counting_manager.get("b/1")
    counting_manager.get("a/1")  # touch a: b is now the least recently used
    counting_manager.get("c/1")
    assert counting_manager.loaded_ids() == ["a/1", "c/1"]
    assert len(CountingOnnxBackend.closed) == 1 and first.session not in CountingOnnxBackend.closed


def test_pinned_models_are_never_evicted(counting_manager):
    counting_manager.get("a/1", pin=True)
    counting_manager.get("b/1")
    counting_manager.get("c/1")
    assert "a/1" in counting_manager.loaded_ids() and len(counting_manager.loaded_ids()) == 2


def test_remove_and_clear_close_sessions(counting_manager):
    counting_manager.get("a/1")
    counting_manager.get("b/1")
    counting_manager.remove("a/1")
    assert counting_manager.loaded_ids() == ["b/1"] and len(CountingOnnxBackend.closed) == 1
    counting_manager.clear()
    assert counting_manager.loaded_ids() == [] and len(CountingOnnxBackend.closed) == 2
    assert counting_manager.describe() == []


def test_registry_description(counting_manager):
    counting_manager.get("a/1")
    assert counting_manager.describe() == [{
        "model_id": "a/1", "task_type": "object-detection", "batch_size": None,
        "input_height": 320, "input_width": 320,
    }]


def test_unloading_does_not_break_requests_still_holding_the_model(counting_manager):
    """Calls in flight when the model is unloaded finish; the runtime goes when the last one does."""
    import gc
    import weakref

    import numpy as np

    model = counting_manager.get("a/1")
    image = np.full((240, 320, 3), 90, np.uint8)
    in_flight, unloaded = threading.Barrier(4), threading.Event()
    real_run = model.session.run

    def run_across_the_unload(feeds):
        in_flight.wait(timeout=30)  # every caller is inside the runtime ...
        assert unloaded.wait(timeout=30)  # ... when the model is unloaded under it
        return real_run(feeds)

    model.session.run = run_across_the_unload
    errors: list[Exception] = []

    def infer_once():
        try:
            model.infer(image)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=infer_once) for _ in range(3)]
    for thread in threads:
        thread.start()
    in_flight.wait(timeout=30)
    counting_manager.remove("a/1")
    unloaded.set()
    for thread in threads:
        thread.join()
    assert errors == [] and model.session.closed and not counting_manager.is_loaded("a/1")
    # nothing but this test holds the session now (and the counter that saw it closed):
    # dropping them frees the runtime session
    assert CountingOnnxBackend.closed == [model.session]
    CountingOnnxBackend.closed.clear()
    released = weakref.ref(model.session)
    del model, real_run, run_across_the_unload, threads
    gc.collect()
    assert released() is None, "the unloaded session is still referenced after its last call"
