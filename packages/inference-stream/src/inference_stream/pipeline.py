"""`InferencePipeline`: decoding, inference and sinks, each on its own thread.

Per source one decoding thread fills a frame buffer (see `video_source`); one inference thread
collects a batch (one frame per source), runs it through the model in one forward pass and queues
the results; the dispatching thread (the caller's, with `start(use_main_thread=True)`) hands them to
`on_prediction`. Public names, parameters and defaults are Roboflow's.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import Enum
from functools import partial
from queue import Full, Queue
from typing import Any

from inference_core.settings import UrlPolicy

from inference_stream.entities import (
    BufferConsumptionStrategy,
    BufferFillingStrategy,
    StatusUpdateHandler,
    StreamState,
    UpdateSeverity,
    VideoFrame,
    error_payload,
    send_status_update,
)
from inference_stream.model_handlers import default_process_frame
from inference_stream.multiplexer import multiplex
from inference_stream.settings import ModelConfig, StreamSettings
from inference_stream.video_source import VideoSource
from inference_stream.watchdog import NullPipelineWatchdog, PipelineWatchDog

logger = logging.getLogger(__name__)

INFERENCE_PIPELINE_CONTEXT = "inference_pipeline"
INFERENCE_THREAD_STARTED_EVENT = "INFERENCE_THREAD_STARTED"
INFERENCE_THREAD_FINISHED_EVENT = "INFERENCE_THREAD_FINISHED"
INFERENCE_COMPLETED_EVENT = "INFERENCE_COMPLETED"
INFERENCE_ERROR_EVENT = "INFERENCE_ERROR"
INFERENCE_RESULTS_DISPATCHING_ERROR_EVENT = "INFERENCE_RESULTS_DISPATCHING_ERROR"

_POLL_SECONDS = 0.1
_END = object()


class SinkMode(Enum):
    ADAPTIVE = "adaptive"
    BATCH = "batch"
    SEQUENTIAL = "sequential"


OnVideoFrame = Callable[[list[VideoFrame]], list[Any]]
SinkHandler = Callable[[Any, Any], None] | None


class InferencePipeline:
    @classmethod
    def init(
        cls,
        video_reference: Any,
        model_id: str,
        on_prediction: SinkHandler = None,
        api_key: str | None = None,
        max_fps: float | None = None,
        watchdog: PipelineWatchDog | None = None,
        status_update_handlers: list[StatusUpdateHandler] | None = None,
        source_buffer_filling_strategy: BufferFillingStrategy | None = None,
        source_buffer_consumption_strategy: BufferConsumptionStrategy | None = None,
        class_agnostic_nms: bool | None = None,
        confidence: float | None = None,
        iou_threshold: float | None = None,
        max_candidates: int | None = None,
        max_detections: int | None = None,
        mask_decode_mode: str | None = "accurate",
        tradeoff_factor: float | None = 0.0,
        active_learning_enabled: bool | None = None,
        video_source_properties: dict | list[dict | None] | None = None,
        active_learning_target_dataset: str | None = None,
        batch_collection_timeout: float | None = None,
        sink_mode: SinkMode = SinkMode.ADAPTIVE,
        predictions_queue_size: int | None = None,
        decoding_buffer_size: int | None = None,
        model_manager: Any = None,
        url_policy: UrlPolicy | None = None,
        **unsupported: Any,
    ) -> InferencePipeline:
        """A pipeline running `model_id` on every frame of `video_reference` (one or a list).

        The model is loaded here, so a wrong id fails now with the core's error, before any thread
        starts. `confidence`, `iou_threshold`, `max_candidates`, `max_detections` and
        `class_agnostic_nms` default to Roboflow's environment variables (CONFIDENCE=0.4,
        IOU_THRESHOLD=0.3, ...). Active learning needs Roboflow's platform and is not available.
        `model_manager` (a core `ModelManager`) and `url_policy` (checked against stream URLs) are
        VisionHost additions; by default the process-wide manager of `get_model` is used.
        """
        _warn_unsupported(unsupported, active_learning_enabled, active_learning_target_dataset)
        if model_manager is not None:
            model = model_manager.get(model_id, api_key=api_key)
        else:
            from inference_core import get_model

            model = get_model(model_id, api_key=api_key)
        config = ModelConfig.init(
            class_agnostic_nms=class_agnostic_nms,
            confidence=confidence,
            iou_threshold=iou_threshold,
            max_candidates=max_candidates,
            max_detections=max_detections,
            mask_decode_mode=mask_decode_mode,
            tradeoff_factor=tradeoff_factor,
        )
        # the parameters are checked once here rather than failing on the first frame
        from inference_core.params import InferenceParams

        InferenceParams.from_kwargs(**config.to_postprocessing_params())
        return cls.init_with_custom_logic(
            video_reference=video_reference,
            on_video_frame=partial(default_process_frame, model=model, inference_config=config),
            on_prediction=on_prediction,
            max_fps=max_fps,
            watchdog=watchdog,
            status_update_handlers=status_update_handlers,
            source_buffer_filling_strategy=source_buffer_filling_strategy,
            source_buffer_consumption_strategy=source_buffer_consumption_strategy,
            video_source_properties=video_source_properties,
            batch_collection_timeout=batch_collection_timeout,
            sink_mode=sink_mode,
            predictions_queue_size=predictions_queue_size,
            decoding_buffer_size=decoding_buffer_size,
            url_policy=url_policy,
        )

    @classmethod
    def init_with_workflow(
        cls,
        video_reference: Any,
        workflow_specification: dict | None = None,
        workspace_name: str | None = None,
        workflow_id: str | None = None,
        api_key: str | None = None,
        image_input_name: str = "image",
        workflows_parameters: dict[str, Any] | None = None,
        on_prediction: SinkHandler = None,
        max_fps: float | None = None,
        watchdog: PipelineWatchDog | None = None,
        status_update_handlers: list[StatusUpdateHandler] | None = None,
        source_buffer_filling_strategy: BufferFillingStrategy | None = None,
        source_buffer_consumption_strategy: BufferConsumptionStrategy | None = None,
        video_source_properties: dict | list[dict | None] | None = None,
        video_metadata_input_name: str = "video_metadata",
        batch_collection_timeout: float | None = None,
        serialize_results: bool = False,
        predictions_queue_size: int | None = None,
        decoding_buffer_size: int | None = None,
        model_manager: Any = None,
        url_policy: UrlPolicy | None = None,
        use_workflow_definition_cache: bool = True,
        **unsupported: Any,
    ) -> InferencePipeline:
        """A pipeline running a workflow on every frame; `on_prediction` gets one output object per frame.

        The specification is given inline or, by `workspace_name` and `workflow_id`, read from the
        saved specifications folder (`WORKFLOWS_SPECIFICATIONS_DIR`) or fetched from Roboflow's API
        with `api_key`, as the server's workflow routes do. It is compiled (and its
        errors raised) here, before any thread starts. Needs the `visionhost-workflows` package.
        """
        try:
            from inference_stream.workflow_handler import WorkflowFrameHandler, load_specification

            import inference_workflows  # noqa: F401
        except ImportError as error:
            raise ImportError(
                "InferencePipeline.init_with_workflow needs the visionhost-workflows package "
                '(pip install "./packages/inference-workflows" from the VisionHost repository).'
            ) from error
        handler = WorkflowFrameHandler(
            load_specification(
                workflow_specification, workspace_name, workflow_id, api_key, use_workflow_definition_cache
            ),
            manager=model_manager,
            api_key=api_key,
            image_input_name=image_input_name,
            video_metadata_input_name=video_metadata_input_name,
            workflows_parameters=workflows_parameters,
            serialize_results=serialize_results,
        )
        return cls.init_with_custom_logic(
            video_reference=video_reference,
            on_video_frame=handler,
            on_prediction=on_prediction,
            max_fps=max_fps,
            watchdog=watchdog,
            status_update_handlers=status_update_handlers,
            source_buffer_filling_strategy=source_buffer_filling_strategy,
            source_buffer_consumption_strategy=source_buffer_consumption_strategy,
            video_source_properties=video_source_properties,
            batch_collection_timeout=batch_collection_timeout,
            predictions_queue_size=predictions_queue_size,
            decoding_buffer_size=decoding_buffer_size,
            url_policy=url_policy,
            **unsupported,
        )

    @classmethod
    def init_with_custom_logic(
        cls,
        video_reference: Any,
        on_video_frame: OnVideoFrame,
        on_prediction: SinkHandler = None,
        on_pipeline_start: Callable[[], None] | None = None,
        on_pipeline_end: Callable[[], None] | None = None,
        max_fps: float | None = None,
        watchdog: PipelineWatchDog | None = None,
        status_update_handlers: list[StatusUpdateHandler] | None = None,
        source_buffer_filling_strategy: BufferFillingStrategy | None = None,
        source_buffer_consumption_strategy: BufferConsumptionStrategy | None = None,
        video_source_properties: dict | list[dict | None] | None = None,
        batch_collection_timeout: float | None = None,
        sink_mode: SinkMode = SinkMode.ADAPTIVE,
        predictions_queue_size: int | None = None,
        decoding_buffer_size: int | None = None,
        url_policy: UrlPolicy | None = None,
        **unsupported: Any,
    ) -> InferencePipeline:
        """A pipeline calling `on_video_frame(list_of_frames) -> list_of_predictions` per batch."""
        _warn_unsupported(unsupported)
        settings = StreamSettings.from_env()
        watchdog = watchdog or NullPipelineWatchdog()
        handlers = [*(status_update_handlers or []), watchdog.on_status_update]
        references = video_reference if isinstance(video_reference, list) else [video_reference]
        if not references:
            raise ValueError("Cannot initialise `InferencePipeline` with empty `video_reference`")
        properties = _broadcast(video_source_properties, len(references))
        desired_fps = max_fps if settings.frame_drop_on_file_rate_limiting else None
        sources = [
            VideoSource.init(
                video_reference=reference,
                buffer_size=decoding_buffer_size or settings.buffer_size,
                status_update_handlers=handlers,
                buffer_filling_strategy=source_buffer_filling_strategy,
                buffer_consumption_strategy=source_buffer_consumption_strategy,
                video_source_properties=source_properties,
                source_id=index,
                desired_fps=desired_fps,
                url_policy=url_policy,
                settings=settings,
            )
            for index, (reference, source_properties) in enumerate(zip(references, properties))
        ]
        watchdog.register_video_sources(sources)
        return cls(
            on_video_frame=on_video_frame,
            video_sources=sources,
            predictions_queue=Queue(maxsize=predictions_queue_size or settings.predictions_queue_size),
            watchdog=watchdog,
            status_update_handlers=handlers,
            on_prediction=on_prediction,
            on_pipeline_start=on_pipeline_start,
            on_pipeline_end=on_pipeline_end,
            max_fps=None if desired_fps else max_fps,
            batch_collection_timeout=batch_collection_timeout,
            sink_mode=sink_mode,
        )

    def __init__(
        self,
        on_video_frame: OnVideoFrame,
        video_sources: list[VideoSource],
        predictions_queue: Queue,
        watchdog: PipelineWatchDog,
        status_update_handlers: list[StatusUpdateHandler],
        on_prediction: SinkHandler = None,
        on_pipeline_start: Callable[[], None] | None = None,
        on_pipeline_end: Callable[[], None] | None = None,
        max_fps: float | None = None,
        batch_collection_timeout: float | None = None,
        sink_mode: SinkMode = SinkMode.ADAPTIVE,
    ) -> None:
        self._on_video_frame = on_video_frame
        self._video_sources = video_sources
        self._predictions_queue = predictions_queue
        self._watchdog = watchdog
        self._status_update_handlers = status_update_handlers
        self._on_prediction = on_prediction
        self._on_pipeline_start = on_pipeline_start
        self._on_pipeline_end = on_pipeline_end
        self._max_fps = max_fps
        self._batch_collection_timeout = batch_collection_timeout
        self._sink_mode = sink_mode
        self._stop = threading.Event()
        self._inference_thread: threading.Thread | None = None
        self._dispatching_thread: threading.Thread | None = None
        #: the exception that ended the inference thread, if one did (a source that never opened, ...)
        self.error: BaseException | None = None

    # --- Roboflow's control surface ---------------------------------------------------------

    def start(self, use_main_thread: bool = True) -> None:
        """Start decoding and inference; dispatch results on this thread (blocks) or a new one."""
        if self._inference_thread is not None:
            raise RuntimeError("This pipeline was started already; build a new one to run again.")
        self._stop.clear()
        self._inference_thread = threading.Thread(target=self._execute_inference, name="inference-pipeline")
        self._inference_thread.start()
        if self._on_pipeline_start is not None:
            self._on_pipeline_start()
        if use_main_thread:
            self._dispatch_inference_results()
        else:
            self._dispatching_thread = threading.Thread(
                target=self._dispatch_inference_results, name="inference-pipeline-sinks"
            )
            self._dispatching_thread.start()

    def terminate(self) -> None:
        """Stop every source and the inference loop. Never blocks: `join()` waits for the threads."""
        self._stop.set()
        for source in self._video_sources:
            source.terminate(wait_on_frames_consumption=False, purge_frames_buffer=True)

    def join(self) -> None:
        """Wait until every thread of the pipeline has finished, then call `on_pipeline_end`."""
        if self._inference_thread is not None:
            if (
                self._dispatching_thread is None
                and self._inference_thread.is_alive()
                and not self._dispatched
            ):
                self._drain_without_dispatcher()
            self._inference_thread.join()
        if self._dispatching_thread is not None:
            self._dispatching_thread.join()
        for source in self._video_sources:
            source.join()
        if self._on_pipeline_end is not None:
            on_pipeline_end, self._on_pipeline_end = self._on_pipeline_end, None
            on_pipeline_end()

    def pause_stream(self, source_id: int | None = None) -> None:
        self._for_sources(source_id, lambda source: source.pause())

    def mute_stream(self, source_id: int | None = None) -> None:
        self._for_sources(source_id, lambda source: source.mute())

    def resume_stream(self, source_id: int | None = None) -> None:
        self._for_sources(source_id, lambda source: source.resume())

    @property
    def video_sources(self) -> list[VideoSource]:
        return list(self._video_sources)

    # --- threads ----------------------------------------------------------------------------

    _dispatched = False

    def _execute_inference(self) -> None:
        self._send(UpdateSeverity.INFO, INFERENCE_THREAD_STARTED_EVENT)
        try:
            for source in self._video_sources:
                if self._stop.is_set():
                    break
                source.start()
            batches = multiplex(
                self._video_sources, self._stop, self._max_fps, self._batch_collection_timeout
            )
            for frames in batches:
                self._watchdog.on_model_inference_started(frames=frames)
                predictions = self._on_video_frame(frames)
                self._watchdog.on_model_prediction_ready(frames=frames)
                self._offer((predictions, frames))
                self._send(
                    UpdateSeverity.DEBUG,
                    INFERENCE_COMPLETED_EVENT,
                    {
                        "frames_ids": [frame.frame_id for frame in frames],
                        "frames_timestamps": [frame.frame_timestamp for frame in frames],
                        "sources_id": [frame.source_id for frame in frames],
                    },
                )
        except Exception as error:
            self.error = error
            self._send(
                UpdateSeverity.ERROR,
                INFERENCE_ERROR_EVENT,
                error_payload(error, context="inference_thread"),
            )
            logger.error("Inference pipeline stopped: %s", error)
        finally:
            self._stop.set()
            for source in self._video_sources:
                if source.get_state() is not StreamState.NOT_STARTED:
                    source.terminate(wait_on_frames_consumption=False, purge_frames_buffer=True)
            self._predictions_queue.put(_END)
            self._send(UpdateSeverity.INFO, INFERENCE_THREAD_FINISHED_EVENT)

    def _offer(self, item: tuple) -> None:
        """Queue results for the sinks; waits while the sinks are behind (every file frame counts)."""
        while True:
            try:
                self._predictions_queue.put(item, timeout=_POLL_SECONDS)
                return
            except Full:
                if self._stop.is_set() and not self._sinks_running():
                    return

    def _sinks_running(self) -> bool:
        return self._dispatched or (
            self._dispatching_thread is not None and self._dispatching_thread.is_alive()
        )

    def _dispatch_inference_results(self) -> None:
        self._dispatched = True
        while True:
            item = self._predictions_queue.get()
            if item is _END:
                break
            predictions, frames = item
            if self._on_prediction is not None:
                self._dispatch(predictions, frames)

    def _drain_without_dispatcher(self) -> None:
        while self._predictions_queue.get() is not _END:
            pass

    def _dispatch(self, predictions: list[Any], frames: list[VideoFrame]) -> None:
        batch_sink = self._sink_mode is SinkMode.BATCH or (
            self._sink_mode is SinkMode.ADAPTIVE and len(self._video_sources) > 1
        )
        if batch_sink:
            by_source = {
                frame.source_id: (prediction, frame) for prediction, frame in zip(predictions, frames)
            }
            aligned = [by_source.get(source.source_id, (None, None)) for source in self._video_sources]
            self._call_sink([pair[0] for pair in aligned], [pair[1] for pair in aligned])
            return
        for prediction, frame in zip(predictions, frames):
            self._call_sink(prediction, frame)

    def _call_sink(self, predictions: Any, frames: Any) -> None:
        try:
            self._on_prediction(predictions, frames)
        except Exception as error:  # a failing sink is reported, and the pipeline goes on
            self._send(
                UpdateSeverity.ERROR,
                INFERENCE_RESULTS_DISPATCHING_ERROR_EVENT,
                error_payload(error, context="inference_results_dispatching"),
            )
            logger.exception("Error in results dispatching - %s", error)

    def _for_sources(self, source_id: int | None, action: Callable[[VideoSource], None]) -> None:
        for source in self._video_sources:
            if source_id is None or source.source_id == source_id:
                action(source)

    def _send(self, severity: UpdateSeverity, event_type: str, payload: dict | None = None) -> None:
        send_status_update(
            self._status_update_handlers, severity, event_type, INFERENCE_PIPELINE_CONTEXT, payload
        )


def _broadcast(properties: dict | list | None, count: int) -> list[dict | None]:
    if not isinstance(properties, list):
        return [properties] * count
    if len(properties) == 1:
        return properties * count
    if len(properties) != count:
        raise ValueError(
            "Cannot apply `video_source_properties` to video sources due to missmatch in number of "
            "entries in properties configuration."
        )
    return properties


def _warn_unsupported(
    unsupported: dict, active_learning: bool | None = None, dataset: str | None = None
) -> None:
    ignored = [name for name, value in unsupported.items() if value is not None]
    if active_learning or dataset:
        ignored.append("active_learning")
    if ignored:
        logger.warning(
            "InferencePipeline ignores parameters it does not support here: %s", ", ".join(ignored)
        )
