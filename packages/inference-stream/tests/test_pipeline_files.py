"""InferencePipeline over real H.264 files: every frame, in order, with the still-image API's answers."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from inference_core.errors import InvalidModelIdError, ModelNotFoundError
from inference_stream import InferencePipeline, SourceConnectionError, VideoFrame
from inference_stream.pipeline import INFERENCE_ERROR_EVENT
from stream_checks import CLIP_FRAMES, MODEL_ID, comparable, pipeline_threads
from synthetic_shapes import box_iou


def decode_all(path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            return frames
        frames.append(image)


def test_every_frame_of_a_file_in_order_with_the_still_image_api_answers(clip_file, clip, manager, model):
    seen: list[tuple[dict, VideoFrame]] = []
    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(clip_file),
        on_prediction=lambda p, f: seen.append((p, f)),
        confidence=0.5,
        model_manager=manager,
    )
    pipeline.start()
    pipeline.join()

    assert pipeline.error is None
    reference_frames = decode_all(clip_file)
    assert len(reference_frames) == CLIP_FRAMES
    assert [frame.frame_id for _, frame in seen] == list(range(1, CLIP_FRAMES + 1))
    for (predictions, frame), reference, truth in zip(seen, reference_frames, clip.boxes):
        assert np.array_equal(frame.image, reference)
        assert frame.comes_from_video_file is True and frame.source_id == 0
        assert frame.fps == pytest.approx(clip.fps) and frame.total_frames == CLIP_FRAMES
        assert set(predictions) >= {"image", "predictions", "inference_id", "time"}
        assert predictions["image"] == {"width": 640, "height": 480}
        still = model.infer(frame.image, confidence=0.5)[0].to_dict()
        assert comparable(predictions["predictions"]) == comparable(still["predictions"])
        # and the detector sees the scripted shapes where they were drawn
        found = [
            (
                p["x"] - p["width"] / 2,
                p["y"] - p["height"] / 2,
                p["x"] + p["width"] / 2,
                p["y"] + p["height"] / 2,
            )
            for p in predictions["predictions"]
        ]
        for box in truth:
            assert max(box_iou(box, candidate) for candidate in found) > 0.6
    assert pipeline_threads() == []


def test_several_sources_are_batched_into_one_call_and_sinks_get_aligned_lists(clip_file, manager, model):
    batches: list[int] = []
    sink_calls: list[tuple[list, list]] = []

    def on_video_frame(frames: list[VideoFrame]) -> list[dict]:
        batches.append(len(frames))
        return [response.to_dict() for response in model.infer([frame.image for frame in frames])]

    pipeline = InferencePipeline.init_with_custom_logic(
        video_reference=[str(clip_file), str(clip_file)],
        on_video_frame=on_video_frame,
        on_prediction=lambda predictions, frames: sink_calls.append((predictions, frames)),
    )
    pipeline.start()
    pipeline.join()

    assert batches == [2] * CLIP_FRAMES
    assert len(sink_calls) == CLIP_FRAMES
    for predictions, frames in sink_calls:
        assert isinstance(predictions, list) and isinstance(frames, list)
        assert [frame.source_id for frame in frames] == [0, 1]
        assert frames[0].frame_id == frames[1].frame_id
        assert comparable(predictions[0]["predictions"]) == comparable(predictions[1]["predictions"])


def test_max_fps_on_a_file_keeps_every_frame_by_default(clip_file, manager):
    frame_ids = []
    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(clip_file),
        max_fps=200,
        on_prediction=lambda p, f: frame_ids.append(f.frame_id),
        model_manager=manager,
    )
    pipeline.start()
    pipeline.join()
    assert frame_ids == list(range(1, CLIP_FRAMES + 1))


def test_frame_drop_rate_limiting_on_a_file_keeps_every_nth_frame(clip_file, manager, monkeypatch):
    monkeypatch.setenv("ENABLE_FRAME_DROP_ON_VIDEO_FILE_RATE_LIMITING", "True")
    frame_ids = []
    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(clip_file),
        max_fps=5,
        on_prediction=lambda p, f: frame_ids.append(f.frame_id),
        model_manager=manager,
    )
    pipeline.start()
    pipeline.join()
    assert frame_ids == list(range(1, CLIP_FRAMES + 1, 2))  # 10 fps file, 5 fps wanted


def test_terminate_from_a_sink_stops_the_pipeline_early(clip_file, manager):
    frame_ids = []

    def sink(predictions, frame):
        frame_ids.append(frame.frame_id)
        if frame.frame_id == 3:
            pipeline.terminate()

    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(clip_file),
        on_prediction=sink,
        model_manager=manager,
        decoding_buffer_size=2,
        predictions_queue_size=2,
    )
    pipeline.start()
    pipeline.join()
    assert 3 <= len(frame_ids) < CLIP_FRAMES
    assert frame_ids == list(range(1, len(frame_ids) + 1))
    assert pipeline_threads() == []


def test_start_in_a_thread_then_join(clip_file, manager):
    frame_ids = []
    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(clip_file),
        model_manager=manager,
        on_prediction=lambda p, f: frame_ids.append(f.frame_id),
    )
    pipeline.start(use_main_thread=False)
    pipeline.join()
    assert frame_ids == list(range(1, CLIP_FRAMES + 1))
    assert pipeline_threads() == []


@pytest.mark.parametrize(
    "model_id, error", [("no-such-model/1", ModelNotFoundError), ("not a model id", InvalidModelIdError)]
)
def test_a_wrong_model_id_fails_at_init_and_starts_nothing(clip_file, model_cache, model_id, error):
    from inference_core import CoreSettings, build_manager
    from inference_core.settings import RegistrySettings

    offline = build_manager(
        CoreSettings(model_cache_dir=model_cache, registry=RegistrySettings(offline=True))
    )
    with pytest.raises(error) as raised:
        InferencePipeline.init(model_id=model_id, video_reference=str(clip_file), model_manager=offline)
    assert model_id.split("/")[0] in str(raised.value) or "model" in str(raised.value).lower()
    assert pipeline_threads() == []


def test_a_missing_file_ends_the_pipeline_with_the_connection_error(tmp_path, manager):
    updates = []
    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(tmp_path / "missing.mp4"),
        model_manager=manager,
        on_prediction=lambda p, f: pytest.fail("no frame can come from a missing file"),
        status_update_handlers=[updates.append],
    )
    pipeline.start()
    pipeline.join()
    assert isinstance(pipeline.error, SourceConnectionError)
    assert "missing.mp4" in str(pipeline.error)
    errors = [update for update in updates if update.event_type == INFERENCE_ERROR_EVENT]
    assert errors and errors[0].payload["error_type"] == "SourceConnectionError"
    assert pipeline_threads() == []


def test_a_failing_sink_is_reported_and_the_pipeline_goes_on(clip_file, manager):
    calls, updates = [], []

    def sink(predictions, frame):
        calls.append(frame.frame_id)
        raise RuntimeError("sink broke")

    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(clip_file),
        on_prediction=sink,
        model_manager=manager,
        status_update_handlers=[updates.append],
    )
    pipeline.start()
    pipeline.join()
    assert calls == list(range(1, CLIP_FRAMES + 1))
    assert (
        sum(update.event_type == "INFERENCE_RESULTS_DISPATCHING_ERROR" for update in updates) == CLIP_FRAMES
    )
