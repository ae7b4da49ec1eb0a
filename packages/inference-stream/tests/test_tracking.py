"""Tracking and counting on a pipeline over a clip with scripted motion (two shapes crossing)."""

from __future__ import annotations

import pytest
from inference.core.interfaces.stream.sinks import multi_sink
from inference_stream import InferencePipeline
from inference_stream.analytics import StreamAnalytics
from stream_checks import CLIP_FRAMES, MODEL_ID
from synthetic_shapes import box_iou

pytest.importorskip("trackers", reason='tracking needs `pip install "visionhost-stream[tracking]"`')

WIDTH, HEIGHT = 640, 480
MIDDLE_LINE = ((WIDTH / 2, 0.0), (WIDTH / 2, float(HEIGHT)))
RIGHT_HALF = [(WIDTH // 2, 0), (WIDTH, 0), (WIDTH, HEIGHT), (WIDTH // 2, HEIGHT)]


@pytest.fixture(scope="module")
def analysed(clip_file, manager):
    analytics = StreamAnalytics(lines=[MIDDLE_LINE], zones=[RIGHT_HALF], keep_history=True)
    frames = []
    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(clip_file),
        confidence=0.5,
        model_manager=manager,
        on_prediction=lambda predictions, frame: multi_sink(
            predictions, frame, sinks=[analytics.on_prediction, lambda p, f: frames.append(f)]
        ),
    )
    pipeline.start()
    pipeline.join()
    assert pipeline.error is None and len(frames) == CLIP_FRAMES
    return analytics


def track_ids_per_shape(analytics, clip) -> list[list[int]]:
    """For each scripted shape, the tracker id given to it on every frame it was tracked."""
    ids: list[list[int]] = [[] for _ in clip.shapes]
    for result, truth in zip(analytics.history, clip.boxes, strict=True):
        for box, tracker_id in zip(result.detections.xyxy, result.detections.tracker_id, strict=True):
            overlaps = [box_iou(tuple(box), shape_box) for shape_box in truth]
            best = max(range(len(truth)), key=overlaps.__getitem__)
            if overlaps[best] > 0.5:
                ids[best].append(int(tracker_id))
    return ids


def test_each_shape_keeps_one_track_id_through_its_motion(analysed, clip):
    ids = track_ids_per_shape(analysed, clip)
    for shape_ids in ids:
        assert len(shape_ids) >= 0.9 * CLIP_FRAMES  # tracked on (nearly) every frame
        assert len(set(shape_ids)) == 1  # never re-identified
    assert ids[0][0] != ids[1][0]


def test_the_line_counter_counts_the_scripted_crossings(analysed, clip):
    square_id, circle_id = (shape_ids[0] for shape_ids in track_ids_per_shape(analysed, clip))
    final = analysed.history[-1]
    # one crossing each way: the square moves left to right, the circle right to left
    assert final.line_counts == [(1, 1)]
    crossed_in = [i for result in analysed.history for i in result.crossed_in]
    crossed_out = [i for result in analysed.history for i in result.crossed_out]
    assert sorted(crossed_in + crossed_out) == sorted([square_id, circle_id])
    assert crossed_in != crossed_out


def test_time_in_zone_follows_video_time(analysed, clip):
    square_id, circle_id = (shape_ids[0] for shape_ids in track_ids_per_shape(analysed, clip))
    square = clip.shapes[0]
    entered = next(i for i in range(CLIP_FRAMES) if square.centre(i)[0] >= WIDTH / 2)
    final = analysed.history[-1].time_in_zones[0]
    assert set(final) == {square_id}  # the circle has left the right half
    assert final[square_id] == pytest.approx((CLIP_FRAMES - 1 - entered) / clip.fps, abs=1.01 / clip.fps)
    # the circle started inside and was timed until it left
    circle_times = [result.time_in_zones[0].get(circle_id) for result in analysed.history]
    timed = [time for time in circle_times if time is not None]
    assert timed and timed == sorted(timed) and timed[0] == 0.0
