"""InferencePipeline.init_with_workflow: a detect, track, count workflow over the crossing clip."""

from __future__ import annotations

import json

import pytest
from inference_stream import InferencePipeline
from stream_checks import CLIP_FRAMES, MODEL_ID, comparable

pytest.importorskip("inference_workflows", reason="init_with_workflow needs visionhost-workflows")

COUNTING_WORKFLOW = {
    "version": "1.0",
    "inputs": [
        {"type": "WorkflowImage", "name": "image"},
        {"type": "WorkflowParameter", "name": "confidence", "default_value": 0.3},
    ],
    "steps": [
        {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "detector", "images": "$inputs.image",
         "model_id": MODEL_ID, "confidence": "$inputs.confidence"},
        {"type": "roboflow_core/byte_tracker@v3", "name": "tracker", "image": "$inputs.image",
         "detections": "$steps.detector.predictions"},
        {"type": "roboflow_core/line_counter@v2", "name": "counter", "image": "$inputs.image",
         "detections": "$steps.tracker.tracked_detections", "line_segment": [[320, 0], [320, 480]]},
    ],
    "outputs": [
        {"type": "JsonField", "name": "predictions", "selector": "$steps.detector.predictions"},
        {"type": "JsonField", "name": "count_in", "selector": "$steps.counter.count_in"},
        {"type": "JsonField", "name": "count_out", "selector": "$steps.counter.count_out"},
    ],
}


def test_a_workflow_runs_on_every_frame_and_counts_the_crossings(clip_file, manager, model):
    outputs, frames = [], []
    pipeline = InferencePipeline.init_with_workflow(
        video_reference=str(clip_file), workflow_specification=COUNTING_WORKFLOW,
        workflows_parameters={"confidence": 0.5}, serialize_results=True, model_manager=manager,
        on_prediction=lambda result, frame: (outputs.append(result), frames.append(frame)),
    )
    pipeline.start()
    pipeline.join()
    assert pipeline.error is None
    assert [frame.frame_id for frame in frames] == list(range(1, CLIP_FRAMES + 1))
    json.dumps(outputs)  # serialised as the server answers
    for result, frame in zip(outputs, frames, strict=True):  # the detector step answers as the image API
        still = model.infer(frame.image, confidence=0.5)[0].to_dict()["predictions"]
        assert comparable(result["predictions"]["predictions"]) == comparable(still)
    assert (outputs[-1]["count_in"], outputs[-1]["count_out"]) == (1, 1)
    assert (outputs[0]["count_in"], outputs[0]["count_out"]) == (0, 0)
    first = outputs[0]["predictions"]["predictions"]
    assert len(first) == 2 and {p["class"] for p in first} == {"square", "circle"}


def test_a_saved_workflow_is_found_by_workspace_and_id(clip_file, manager, tmp_path, monkeypatch):
    (tmp_path / "my-workspace").mkdir()
    (tmp_path / "my-workspace" / "counting.json").write_text(json.dumps(COUNTING_WORKFLOW))
    monkeypatch.setenv("WORKFLOWS_SPECIFICATIONS_DIR", str(tmp_path))
    counts = []
    pipeline = InferencePipeline.init_with_workflow(
        video_reference=str(clip_file), workspace_name="my-workspace", workflow_id="counting",
        model_manager=manager, on_prediction=lambda result, frame: counts.append(result["count_in"]),
    )
    pipeline.start()
    pipeline.join()
    assert len(counts) == CLIP_FRAMES and counts[-1] == 1


def test_a_broken_workflow_fails_before_any_thread_starts(clip_file, manager):
    from inference_workflows.errors import WorkflowError

    broken = {**COUNTING_WORKFLOW, "steps": [{**COUNTING_WORKFLOW["steps"][0], "images": "$inputs.nothing"}]}
    with pytest.raises(WorkflowError, match="nothing"):
        InferencePipeline.init_with_workflow(video_reference=str(clip_file), workflow_specification=broken,
                                             model_manager=manager)
    with pytest.raises(ValueError, match="workflow_specification"):
        InferencePipeline.init_with_workflow(video_reference=str(clip_file), model_manager=manager)
