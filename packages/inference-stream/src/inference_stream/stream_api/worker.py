"""The worker process of one stream-API pipeline: builds it, runs it, answers commands.

Started with the `spawn` method by `PipelineManager`, so a decoder that hangs or crashes takes
down this process only. It talks to the server over one pipe: the first message says whether the
pipeline started, then each command (`status`, `consume`, `pause`, `resume`, `terminate`) gets one
answer. Results are kept in memory (`MemorySinkConfiguration.results_buffer_size` of them) until
consumed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from inference_stream.stream_api.jsonable import jsonable

logger = logging.getLogger(__name__)


def run_worker(connection: Any, request: dict, core_settings: Any) -> None:
    try:
        pipeline, sink, watchdog = _start(request, core_settings)
    except Exception as error:  # reported to the server, which answers the client
        connection.send({"status": "failure", "error_type": type(error).__name__, "message": str(error)})
        connection.close()
        return
    connection.send({"status": "success"})
    try:
        _serve(connection, pipeline, sink, watchdog, request.get("consumption_timeout"))
    finally:
        pipeline.terminate()
        pipeline.join()
        connection.close()


def _start(request: dict, core_settings: Any):
    from inference_core.api import build_manager

    from inference_stream.pipeline import InferencePipeline
    from inference_stream.sinks import InMemoryBufferSink
    from inference_stream.watchdog import BasePipelineWatchDog

    video = request["video_configuration"]
    processing = request["processing_configuration"]
    sink = InMemoryBufferSink.init(queue_size=request["sink_configuration"]["results_buffer_size"])
    watchdog = BasePipelineWatchDog()
    pipeline = InferencePipeline.init_with_workflow(
        video_reference=video["video_reference"],
        workflow_specification=processing.get("workflow_specification"),
        workspace_name=processing.get("workspace_name"),
        workflow_id=processing.get("workflow_id"),
        api_key=request.get("api_key"),
        image_input_name=processing.get("image_input_name", "image"),
        workflows_parameters=processing.get("workflows_parameters"),
        video_metadata_input_name=processing.get("video_metadata_input_name", "video_metadata"),
        on_prediction=sink.on_prediction,
        max_fps=video.get("max_fps"),
        watchdog=watchdog,
        source_buffer_filling_strategy=video.get("source_buffer_filling_strategy"),
        source_buffer_consumption_strategy=video.get("source_buffer_consumption_strategy"),
        video_source_properties=video.get("video_source_properties"),
        batch_collection_timeout=video.get("batch_collection_timeout"),
        serialize_results=True,
        predictions_queue_size=request.get("predictions_queue_size"),
        decoding_buffer_size=request.get("decoding_buffer_size"),
        model_manager=build_manager(core_settings),
        url_policy=core_settings.url_policy,
    )
    pipeline.start(use_main_thread=False)
    return pipeline, sink, watchdog


def _serve(connection: Any, pipeline: Any, sink: Any, watchdog: Any, consumption_timeout: float | None) -> None:
    """Answer commands until `terminate`, the server going away, or `consumption_timeout` seconds
    without a `consume` (Roboflow's rule for pipelines nobody reads any more)."""
    last_consumed = time.monotonic()
    while True:
        try:
            if not connection.poll(0.5):
                if consumption_timeout is not None and time.monotonic() - last_consumed > consumption_timeout:
                    logger.warning("No results consumed for %s s: terminating the pipeline.", consumption_timeout)
                    return
                continue
            command = connection.recv()
        except (EOFError, OSError):  # the server went away
            return
        name = command.get("command")
        if name == "consume":
            last_consumed = time.monotonic()
        try:
            if name == "terminate":
                pipeline.terminate()
                pipeline.join()
                connection.send({"status": "success"})
                return
            connection.send({"status": "success", **_answer(name, command, pipeline, sink, watchdog)})
        except Exception as error:
            connection.send({"status": "failure", "error_type": type(error).__name__, "message": str(error)})


def _answer(name: str, command: dict, pipeline: Any, sink: Any, watchdog: Any) -> dict:
    if name == "status":
        report = jsonable(watchdog.get_report())
        report["pipeline_error"] = None if pipeline.error is None else str(pipeline.error)
        return {"report": report}
    if name == "pause":  # Roboflow's stream API pauses by muting: frames keep being read, not processed
        pipeline.mute_stream()
        return {}
    if name == "resume":
        pipeline.resume_stream()
        return {}
    if name == "consume":
        if sink.empty():
            return {"outputs": [], "frames_metadata": []}
        outputs, frames = sink.consume_prediction()
        excluded = set(command.get("excluded_fields") or [])
        return {
            "outputs": [
                None if output is None else {key: value for key, value in output.items() if key not in excluded}
                for output in outputs
            ],
            "frames_metadata": [
                None if frame is None else {
                    "frame_timestamp": frame.frame_timestamp.isoformat(),
                    "frame_id": frame.frame_id,
                    "source_id": frame.source_id,
                }
                for frame in frames
            ],
        }
    raise ValueError(f"Unknown command {name!r}.")
