"""Runs inference off the event loop: decode and pre-process, forward (batched), post-process.

Routes hand over image sources and request parameters; every CPU-heavy step runs in one
thread pool sized to the hardware, and forward passes of models with a dynamic batch
dimension go through the :class:`DynamicBatcher` so concurrent requests share them.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from inference_core.errors import InvalidInputError, PayloadTooLargeError
from inference_core.manager import ModelManager
from inference_core.models import VisionModel
from inference_core.models.base import PreparedImage
from inference_core.params import InferenceParams

from inference_server.batching import DynamicBatcher
from inference_server.metrics import Metrics
from inference_server.settings import ServerSettings

T = TypeVar("T")

#: Image types a client may declare on the JSON routes.
WIRE_IMAGE_TYPES = ("base64", "url", "numpy", "file")


@dataclass(frozen=True)
class PickledArray:
    """A legacy-route body holding `pickle.dumps(ndarray)`; read by the restricted unpickler."""

    payload: bytes


@dataclass
class InferenceResult:
    response: Any

    def drawing(self) -> bytes | None:
        """JPEG bytes of the drawn predictions, when drawing was asked for."""
        encoded = getattr(self.response, "visualization", None)
        return base64.b64decode(encoded) if encoded else None


def wire_image(declaration: Any) -> dict[str, Any]:
    """Check a JSON image object's shape and type before any loading happens."""
    if not isinstance(declaration, dict) or "type" not in declaration or "value" not in declaration:
        raise InvalidInputError("Each image must be an object with 'type' and 'value' fields.")
    kind = str(declaration["type"]).lower()
    if kind not in WIRE_IMAGE_TYPES:
        raise InvalidInputError("Image declaration contains not recognised image type.")
    return {"type": kind, "value": declaration["value"]}


class InferenceRunner:
    def __init__(self, manager: ModelManager, settings: ServerSettings, metrics: Metrics) -> None:
        self.manager = manager
        self.settings = settings
        self.metrics = metrics
        self.executor = ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="inference")
        # URL downloads wait on other hosts: their own pool, so slow hosts cannot hold inference threads.
        self.url_executor = ThreadPoolExecutor(settings.url_fetch_workers, thread_name_prefix="url-fetch")
        self.batcher = DynamicBatcher(
            self.executor, settings.batch_window_seconds, settings.max_dynamic_batch, metrics.observe_batch
        )

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a blocking function in the worker pool."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def model(self, model_id: str, pin: bool = False, api_key: str | None = None) -> VisionModel:
        """The loaded model; loading (and, with a key, downloading) it happens in the pool."""
        loaded = self.manager.loaded(model_id, pin)  # the common case needs no thread hop
        if loaded is not None:
            return loaded
        return await self.call(self.manager.get, model_id, pin, api_key)

    async def infer(
        self,
        model_id: str,
        sources: list[Any],
        params: InferenceParams,
        started: float,
        inference_id: str | None = None,
        api_key: str | None = None,
    ) -> list[InferenceResult]:
        """One response per source, in order; `started` is when the request arrived."""
        self.check_batch_length(len(sources))
        model = await self.model(model_id, api_key=api_key)
        sources = await self._fetch_urls(sources)
        if self._batches(model) and not params.visualize_predictions:
            responses = await self._infer_batched(model, sources, params)
        else:  # one hop to the pool for the whole request
            responses = await self.call(self._infer_at_once, model, sources, params)
        results = [InferenceResult(response) for response in responses]
        elapsed = time.perf_counter() - started
        for result in results:
            result.response.time = elapsed
            result.response.inference_id = inference_id or str(uuid.uuid4())
        self.metrics.observe_inference(model.model_id, len(results))
        return results

    async def _fetch_urls(self, sources: list[Any]) -> list[Any]:
        """URL sources downloaded (in the URL pool) into encoded bytes; other sources as they are."""
        loop = asyncio.get_running_loop()
        fetch = self.manager.image_loader.fetch

        async def fetched(source: Any) -> Any:
            if isinstance(source, dict) and source.get("type") == "url":
                return await loop.run_in_executor(self.url_executor, fetch, source["value"])
            return source

        return list(await asyncio.gather(*(fetched(source) for source in sources)))

    def check_batch_length(self, count: int) -> None:
        if count == 0:
            raise InvalidInputError("The request holds no images.")
        if count > self.settings.max_batch_size:
            raise PayloadTooLargeError(
                f"The request holds {count} images; this server accepts at most "
                f"{self.settings.max_batch_size} per request (MAX_BATCH_SIZE)."
            )

    def _batches(self, model: VisionModel) -> bool:
        """Whether forward passes of this model are gathered across requests."""
        mode = self.settings.dynamic_batching
        if mode == "off" or model.batch_size is not None or self.settings.batch_window_seconds <= 0:
            return False
        return mode == "on" or model.device.lower() != "cpu"

    async def _infer_batched(
        self, model: VisionModel, sources: list[Any], params: InferenceParams
    ) -> list[Any]:
        prepared = await asyncio.gather(*(self.call(self._prepare, model, source, params) for source in sources))
        outputs = await self.batcher.forward(model, [item.tensor for item in prepared])
        return await asyncio.gather(
            *(
                self.call(model.finish, output, item, params)
                for output, item in zip(outputs, prepared, strict=True)
            )
        )

    def _infer_at_once(self, model: VisionModel, sources: list[Any], params: InferenceParams) -> list[Any]:
        """Decode, pre-process, forward and post-process in the calling worker thread.

        When predictions are drawn, each original image is kept until it is drawn on: then the
        images go through one at a time, so a request never holds more than one original.
        """
        if params.visualize_predictions and len(sources) > 1:
            return [answer for source in sources for answer in self._infer_at_once(model, [source], params)]
        prepared = [self._prepare(model, source, params) for source in sources]
        outputs = model.forward([item.tensor for item in prepared])
        return [model.finish(output, item, params) for output, item in zip(outputs, prepared, strict=True)]

    def _prepare(self, model: VisionModel, source: Any, params: InferenceParams) -> PreparedImage:
        """Decode and pre-process; the model keeps the original only when it is to be drawn."""
        if isinstance(source, PickledArray):
            source = self.manager.load_pickled_array(source.payload)
        return model.prepare(source, params)

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.url_executor.shutdown(wait=False, cancel_futures=True)
