"""Runs a workflow specification on each batch of frames (`InferencePipeline.init_with_workflow`).

Uses the workflows package's in-process `WorkflowRunner`, built once so that per-video state
(trackers, line counters) lives across frames. Each frame enters as the image input with
Roboflow's video metadata (`video_identifier` is the source id), so video blocks keep one state
per source.
"""

from __future__ import annotations

from typing import Any

from inference_stream.entities import VideoFrame


def video_metadata(frame: VideoFrame) -> dict[str, Any]:
    """Roboflow's `VideoMetadata` fields for a frame."""
    return {
        "video_identifier": str(frame.source_id) if frame.source_id is not None else "default_source",
        "frame_number": frame.frame_id,
        "frame_timestamp": frame.frame_timestamp.isoformat(),
        "fps": frame.fps,
        "measured_fps": frame.measured_fps,
        "comes_from_video_file": frame.comes_from_video_file,
        "total_frames": frame.total_frames,
    }


def load_specification(
    workflow_specification: dict | None,
    workspace_name: str | None,
    workflow_id: str | None,
    api_key: str | None = None,
    use_cache: bool = True,
) -> dict:
    """The inline specification, or a saved one: from `WORKFLOWS_SPECIFICATIONS_DIR`, else fetched
    from Roboflow's API with `api_key` (kept on disk for offline use), as the server's routes do."""
    if workflow_specification:
        return workflow_specification
    if workspace_name is None or workflow_id is None:
        raise ValueError("Either (`workspace_name`, `workflow_id`) or `workflow_specification` must be provided.")
    from inference_workflows.context import WorkflowSettings
    from inference_workflows.saved import load_saved_specification

    return load_saved_specification(WorkflowSettings.from_env(), workspace_name, workflow_id, api_key, use_cache)


class WorkflowFrameHandler:
    """`on_video_frame` for a workflow: one run per batch, one output object per frame."""

    def __init__(
        self,
        specification: dict,
        manager: Any = None,
        api_key: str | None = None,
        image_input_name: str = "image",
        video_metadata_input_name: str = "video_metadata",
        workflows_parameters: dict[str, Any] | None = None,
        serialize_results: bool = False,
    ) -> None:
        from inference_workflows.context import WorkflowSettings
        from inference_workflows.runner import WorkflowRunner

        self._runner = WorkflowRunner(specification, manager=manager, api_key=api_key,
                                      settings=WorkflowSettings.from_env())
        declared = {item.name for item in self._runner.workflow.spec.inputs}
        if image_input_name not in declared:
            raise ValueError(f"The workflow has no input named {image_input_name!r} (image_input_name).")
        self._image_input_name = image_input_name
        self._metadata_input_name = video_metadata_input_name if video_metadata_input_name in declared else None
        self._parameters = dict(workflows_parameters or {})
        self._serialise = serialize_results

    def __call__(self, frames: list[VideoFrame]) -> list[dict]:
        from inference_workflows.images import WorkflowImage

        inputs = dict(self._parameters)
        inputs[self._image_input_name] = [
            WorkflowImage.from_input(frame.image, self._image_input_name, None, video_metadata(frame))
            for frame in frames
        ]
        if self._metadata_input_name is not None:
            inputs[self._metadata_input_name] = [video_metadata(frame) for frame in frames]
        return self._runner.run(inputs, serialise=self._serialise)
