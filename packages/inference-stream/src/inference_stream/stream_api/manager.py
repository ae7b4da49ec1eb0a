"""Keeps the stream API's pipelines: one worker process each, a cap on how many run.

The server calls these methods from worker threads (they block on the worker's pipe, never for
longer than `command_timeout`). A worker that stopped answering is killed; one that died is
forgotten, so no pipeline outlives its process or lingers as a phantom.
"""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from inference_core.errors import InferenceError, InvalidInputError

from inference_stream.sources import check_stream_address
from inference_stream.sources.opencv import is_network_reference
from inference_stream.stream_api.worker import run_worker


class PipelineNotFoundError(InferenceError):
    """No pipeline with that id (never started, terminated, or its worker died)."""

    status_code = 404


class StreamApiDisabledError(InferenceError):
    """The server was not started with ENABLE_STREAM_API."""

    status_code = 404


class TooManyPipelinesError(InferenceError):
    status_code = 429


class PipelineOperationError(InferenceError):
    status_code = 500


class PipelineStateError(InferenceError):
    """The command does not apply in the pipeline's state (pausing one whose source ended, ...)."""

    status_code = 409


@dataclass
class _Worker:
    process: Any
    connection: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


class PipelineManager:
    def __init__(
        self,
        core_settings: Any,
        max_pipelines: int = 8,
        start_timeout: float = 120.0,
        command_timeout: float = 30.0,
    ) -> None:
        self._core = core_settings
        self._max_pipelines = max_pipelines
        self._start_timeout = start_timeout
        self._command_timeout = command_timeout
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")

    def check_sources(self, references: Any) -> None:
        """Refuse what a client may not open: internal stream addresses, server files, devices."""
        for reference in references if isinstance(references, list) else [references]:
            if is_network_reference(reference):
                check_stream_address(reference.strip(), self._core.url_policy)
            elif not self._core.image_limits.allow_file_paths:
                raise InvalidInputError(
                    f"Video source {reference!r} is a server file or device; this server only opens stream "
                    "URLs (ALLOW_FILE_INPUT=true allows files and cameras)."
                )

    def initialise(self, request: dict) -> str:
        self.check_sources(request["video_configuration"]["video_reference"])
        with self._lock:
            self._forget_dead()
            if len(self._workers) >= self._max_pipelines:
                raise TooManyPipelinesError(
                    f"{self._max_pipelines} pipelines are running already (STREAM_MANAGER_MAX_ACTIVE_PIPELINES)."
                )
            pipeline_id = str(uuid.uuid4())
            parent, child = self._context.Pipe()
            process = self._context.Process(
                target=run_worker, args=(child, request, self._core), name=f"inference-pipeline-{pipeline_id}",
                daemon=True,
            )
            process.start()
            child.close()
            self._workers[pipeline_id] = _Worker(process, parent)
        reply = self._receive(pipeline_id, self._workers[pipeline_id], self._start_timeout)
        if reply.get("status") != "success":
            self._stop(pipeline_id)
            raise InvalidInputError(f"The pipeline could not start: {reply.get('message')}")
        return pipeline_id

    def list(self) -> list[str]:
        with self._lock:
            self._forget_dead()
            return list(self._workers)

    def command(self, pipeline_id: str, command: str, **payload: Any) -> dict:
        worker = self._worker(pipeline_id)
        with worker.lock:
            try:
                worker.connection.send({"command": command, **payload})
            except (BrokenPipeError, OSError):
                self._stop(pipeline_id)
                raise PipelineNotFoundError(f"Pipeline {pipeline_id} has stopped.") from None
            reply = self._receive(pipeline_id, worker, self._command_timeout)
        if command == "terminate":
            self._stop(pipeline_id)
        if reply.get("status") != "success":
            error = PipelineStateError if reply.get("error_type") == "StreamOperationNotAllowedError" else (
                PipelineOperationError
            )
            raise error(f"Pipeline {pipeline_id}: {reply.get('message')}")
        return reply

    def terminate(self, pipeline_id: str) -> dict:
        return self.command(pipeline_id, "terminate")

    def shutdown(self) -> None:
        for pipeline_id in self.list():
            try:
                self.terminate(pipeline_id)
            except InferenceError:
                self._stop(pipeline_id)

    def _worker(self, pipeline_id: str) -> _Worker:
        with self._lock:
            self._forget_dead()
            worker = self._workers.get(pipeline_id)
        if worker is None:
            raise PipelineNotFoundError(f"No inference pipeline with id {pipeline_id}.")
        return worker

    def _receive(self, pipeline_id: str, worker: _Worker, timeout: float) -> dict:
        try:
            if worker.connection.poll(timeout):
                return worker.connection.recv()
        except (EOFError, OSError):
            pass
        self._stop(pipeline_id)
        raise PipelineOperationError(f"Pipeline {pipeline_id} did not answer in {timeout:g} s and was stopped.")

    def _stop(self, pipeline_id: str) -> None:
        with self._lock:
            worker = self._workers.pop(pipeline_id, None)
        if worker is None:
            return
        worker.process.join(timeout=10)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(timeout=10)
        worker.connection.close()

    def _forget_dead(self) -> None:
        for pipeline_id, worker in list(self._workers.items()):
            if not worker.process.is_alive():
                self._workers.pop(pipeline_id)
                worker.connection.close()
