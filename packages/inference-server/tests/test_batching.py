"""The dynamic batcher: gathering, routing results back, failures, flush on size."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from inference_server.batching import DynamicBatcher


class DoublingModel:
    """Stands in for a model's `forward`: output per image is the image's tensor doubled."""

    model_id = "test/1"

    def __init__(self, fail: bool = False) -> None:
        self.batch_sizes: list[int] = []
        self.fail = fail
        self.lock = threading.Lock()

    def forward(self, tensors):
        with self.lock:
            self.batch_sizes.append(len(tensors))
        if self.fail:
            raise RuntimeError("the runtime broke")
        return [[tensor * 2] for tensor in tensors]


def tensor(value: float, size: int = 4) -> np.ndarray:
    return np.full((1, 3, size, size), value, dtype=np.float32)


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture()
def executor():
    with ThreadPoolExecutor(4) as pool:
        yield pool


def test_requests_in_one_window_share_one_forward_pass_and_get_their_own_results(executor):
    model = DoublingModel()
    observed = []
    batcher = DynamicBatcher(
        executor, window_seconds=0.05, max_batch=64, observer=lambda m, n: observed.append(n)
    )

    async def scenario():
        calls = [batcher.forward(model, [tensor(index), tensor(index + 0.5)]) for index in range(5)]
        return await asyncio.gather(*calls)

    results = run(scenario())
    assert model.batch_sizes == [10] and observed == [10]
    for index, outputs in enumerate(results):
        assert len(outputs) == 2
        assert outputs[0][0].flat[0] == index * 2 and outputs[1][0].flat[0] == index * 2 + 1


def test_a_full_batch_is_sent_without_waiting_for_the_window(executor):
    model = DoublingModel()
    batcher = DynamicBatcher(executor, window_seconds=30.0, max_batch=4)

    async def scenario():
        return await asyncio.wait_for(
            asyncio.gather(*(batcher.forward(model, [tensor(i)]) for i in range(4))), timeout=10
        )

    assert len(run(scenario())) == 4
    assert model.batch_sizes == [4]


def test_a_failure_reaches_every_caller_of_the_batch(executor):
    model = DoublingModel(fail=True)
    batcher = DynamicBatcher(executor, window_seconds=0.01, max_batch=16)

    async def scenario():
        return await asyncio.gather(
            *(batcher.forward(model, [tensor(i)]) for i in range(3)), return_exceptions=True
        )

    results = run(scenario())
    assert all(isinstance(result, RuntimeError) for result in results)


def test_tensors_of_different_shapes_are_not_concatenated(executor):
    model = DoublingModel()
    batcher = DynamicBatcher(executor, window_seconds=0.01, max_batch=16)

    async def scenario():
        return await asyncio.gather(
            batcher.forward(model, [tensor(1, 4)]), batcher.forward(model, [tensor(2, 8)])
        )

    small, large = run(scenario())
    assert small[0][0].shape == (1, 3, 4, 4) and large[0][0].shape == (1, 3, 8, 8)
    assert sorted(model.batch_sizes) == [1, 1]


def test_different_models_get_separate_batches(executor):
    first, second = DoublingModel(), DoublingModel()
    batcher = DynamicBatcher(executor, window_seconds=0.01, max_batch=16)

    async def scenario():
        return await asyncio.gather(
            batcher.forward(first, [tensor(1)]),
            batcher.forward(second, [tensor(2)]),
            batcher.forward(first, [tensor(3)]),
        )

    run(scenario())
    assert first.batch_sizes == [2] and second.batch_sizes == [1]


def test_a_cancelled_caller_does_not_break_the_others(executor):
    model = DoublingModel()
    batcher = DynamicBatcher(executor, window_seconds=0.05, max_batch=16)

    async def scenario():
        doomed = asyncio.ensure_future(batcher.forward(model, [tensor(1)]))
        survivor = asyncio.ensure_future(batcher.forward(model, [tensor(2)]))
        await asyncio.sleep(0)
        doomed.cancel()
        return await survivor

    (output,) = run(scenario())
    assert output[0].flat[0] == 4
