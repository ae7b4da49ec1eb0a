"""The backend conformance suite.

A backend package's tests subclass :class:`BackendConformanceTests` and provide two fixtures:
``backend`` (an instance) and ``conformance_models`` (a dict with the paths of the committed
fixture models under the keys ``dynamic_batch`` and ``fixed_batch``). Every backend must pass.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from inference_core.errors import InferenceError, InputShapeError, ModelArtifactError, ModelNotFoundError


def _input_tensor(session, batch: int, seed: int = 0) -> dict[str, np.ndarray]:
    spec = session.inputs[0]
    height, width = spec.fixed_dim(2) or 320, spec.fixed_dim(3) or 320
    rng = np.random.default_rng(seed)
    return {spec.name: rng.random((batch, 3, height, width), dtype=np.float32)}


class BackendConformanceTests:
    def test_loads_onnx_and_describes_tensors(self, backend, conformance_models):
        path = conformance_models["dynamic_batch"]
        assert backend.can_load(path)
        session = backend.load(path)
        assert len(session.inputs) == 1 and len(session.inputs[0].shape) == 4
        assert session.inputs[0].shape[1] == 3
        assert session.outputs and all(spec.name for spec in session.outputs)
        assert session.info.backend == backend.name and session.info.device
        session.close()

    def test_dynamic_batch_runs_any_batch_size(self, backend, conformance_models):
        session = backend.load(conformance_models["dynamic_batch"])
        assert session.inputs[0].fixed_dim(0) is None
        single = session.run(_input_tensor(session, 1))
        double = session.run(_input_tensor(session, 2))
        assert single[0].shape[0] == 1 and double[0].shape[0] == 2
        np.testing.assert_allclose(double[0][:1], single[0], rtol=1e-3, atol=1e-3)

    def test_fixed_batch_is_reported_and_enforced(self, backend, conformance_models):
        session = backend.load(conformance_models["fixed_batch"])
        assert session.inputs[0].fixed_dim(0) == 1
        assert session.run(_input_tensor(session, 1))[0].shape[0] == 1
        with pytest.raises(InputShapeError):
            session.run(_input_tensor(session, 2))

    def test_wrong_input_shape_is_a_typed_error(self, backend, conformance_models):
        session = backend.load(conformance_models["dynamic_batch"])
        name = session.inputs[0].name
        with pytest.raises(InputShapeError) as caught:
            session.run({name: np.zeros((1, 3, 17, 17), np.float32)})
        assert caught.value.status_code == 400

    def test_concurrent_runs_agree_with_sequential(self, backend, conformance_models):
        session = backend.load(conformance_models["dynamic_batch"])
        feeds = [_input_tensor(session, 1, seed) for seed in range(6)]
        expected = [session.run(feed)[0] for feed in feeds]
        results: dict[int, np.ndarray] = {}

        def worker(index: int) -> None:
            results[index] = session.run(feeds[index])[0]

        threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(feeds))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for index, output in enumerate(expected):
            np.testing.assert_allclose(results[index], output, rtol=1e-4, atol=1e-4)

    def test_missing_file(self, backend, tmp_path: Path):
        with pytest.raises(ModelNotFoundError):
            backend.load(tmp_path / "absent.onnx")

    def test_corrupt_file(self, backend, tmp_path: Path):
        corrupt = tmp_path / "weights.onnx"
        corrupt.write_bytes(b"\x00not a model\xff" * 100)
        with pytest.raises(ModelArtifactError) as caught:
            backend.load(corrupt)
        assert isinstance(caught.value, InferenceError) and corrupt.name in caught.value.message
