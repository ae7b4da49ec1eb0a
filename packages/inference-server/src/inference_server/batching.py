"""Dynamic batching: requests for the same model that arrive together share one forward pass.

Everything here runs on the event loop thread, so the per-model queues need no locks; the
forward pass itself runs in the worker pool. A request's tensors join the model's queue; the
queue is flushed when the window closes or when it holds `max_batch` images, whichever comes
first, and each caller gets back exactly the outputs of its own images, in order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Called with the number of images in each forward pass (for metrics).
BatchObserver = Callable[[str, int], None]


@dataclass
class _Waiting:
    tensors: list[np.ndarray]
    future: asyncio.Future


@dataclass
class _Queue:
    model: Any
    waiting: list[_Waiting] = field(default_factory=list)
    timer: asyncio.TimerHandle | None = None

    def image_count(self) -> int:
        return sum(len(item.tensors) for item in self.waiting)


class DynamicBatcher:
    def __init__(
        self,
        executor: Executor,
        window_seconds: float,
        max_batch: int,
        observer: BatchObserver | None = None,
    ) -> None:
        self.executor = executor
        self.window_seconds = window_seconds
        self.max_batch = max_batch
        self.observer = observer
        # Keyed by the model object's id: a model unloaded and loaded again gets a fresh queue.
        self._queues: dict[int, _Queue] = {}

    async def forward(self, model: Any, tensors: list[np.ndarray]) -> list[list[np.ndarray]]:
        """Outputs for `tensors` (one list of arrays per image), computed with other callers'."""
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(id(model), _Queue(model))
        waiting = _Waiting(tensors, loop.create_future())
        queue.waiting.append(waiting)
        if queue.image_count() >= self.max_batch:
            self._flush(id(model))
        elif queue.timer is None:
            queue.timer = loop.call_later(self.window_seconds, self._flush, id(model))
        return await waiting.future

    def _flush(self, key: int) -> None:
        queue = self._queues.pop(key, None)
        if queue is None:
            return
        if queue.timer is not None:
            queue.timer.cancel()
        for group in _same_shape_groups(queue.waiting):
            asyncio.ensure_future(self._run(queue.model, group))

    async def _run(self, model: Any, group: list[_Waiting]) -> None:
        tensors = [tensor for item in group for tensor in item.tensors]
        if self.observer is not None:
            self.observer(getattr(model, "model_id", "?"), len(tensors))
        loop = asyncio.get_running_loop()
        try:
            outputs = await loop.run_in_executor(self.executor, model.forward, tensors)
        except BaseException as error:  # every caller of the batch sees the failure
            for item in group:
                if not item.future.done():
                    item.future.set_exception(error)
            return
        start = 0
        for item in group:
            if not item.future.done():  # a caller that went away (cancelled) is skipped
                item.future.set_result(outputs[start : start + len(item.tensors)])
            start += len(item.tensors)


def _same_shape_groups(waiting: list[_Waiting]) -> list[list[_Waiting]]:
    """Split the queue so each forward pass concatenates tensors of one shape only."""
    groups: dict[tuple, list[_Waiting]] = {}
    for item in waiting:
        shapes = {tensor.shape for tensor in item.tensors}
        key = shapes.pop() if len(shapes) == 1 else ("mixed", id(item))
        groups.setdefault(key, []).append(item)
    return list(groups.values())
