"""Source plugins, producers written for Roboflow's pipeline, and the sinks at Roboflow's paths."""

from __future__ import annotations

import json
import socket
import sys
import types

import cv2
import numpy as np
import pytest
from inference.core.interfaces.stream.sinks import InMemoryBufferSink, UDPSink, VideoFileSink, multi_sink
from inference_core.plugins import hookimpl
from inference_stream import InferencePipeline
from inference_stream.entities import SourceProperties
from inference_stream.sources import OpenCVSource, registered_source_classes, source_class_for
from stream_checks import CLIP_FRAMES, MODEL_ID, comparable


class ListProducer:
    """A producer as Roboflow's `VideoFrameProducer` defines it, over frames held in memory."""

    name = "frames-in-memory"

    def __init__(self, frames: list[np.ndarray]) -> None:
        self._frames, self._index, self.released = frames, -1, False

    @classmethod
    def accepts(cls, reference) -> bool:
        return isinstance(reference, str) and reference.startswith("memory://")

    def isOpened(self) -> bool:  # noqa: N802
        return not self.released

    def grab(self) -> bool:
        self._index += 1
        return self._index < len(self._frames)

    def retrieve(self):
        return True, self._frames[self._index]

    def release(self) -> None:
        self.released = True

    def discover_source_properties(self) -> SourceProperties:
        height, width = self._frames[0].shape[:2]
        return SourceProperties(width, height, len(self._frames), is_file=True, fps=10.0)

    def initialize_source_properties(self, properties) -> None:
        pass


def test_a_plugin_registered_through_the_hook_is_asked_before_the_builtin_source():
    plugin = types.ModuleType("memory_source_plugin")
    plugin.register_video_sources = hookimpl(lambda: [ListProducer])
    assert registered_source_classes([plugin]) == [ListProducer, OpenCVSource]
    assert source_class_for("memory://clip", [plugin]) is ListProducer
    assert source_class_for("clip.mp4", [plugin]) is OpenCVSource
    assert source_class_for(0, [plugin]) is OpenCVSource
    # installed: the package registers its built-in source through the same hook
    assert OpenCVSource in registered_source_classes()


def test_a_callable_reference_returning_a_producer_feeds_the_pipeline(clip, manager, model):
    producers: list[ListProducer] = []

    def make_producer() -> ListProducer:
        producers.append(ListProducer(clip.frames[:12]))
        return producers[-1]

    seen = []
    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=make_producer,
        model_manager=manager,
        confidence=0.5,
        on_prediction=lambda predictions, frame: seen.append((predictions, frame)),
    )
    pipeline.start()
    pipeline.join()
    assert [frame.frame_id for _, frame in seen] == list(range(1, 13))
    for (predictions, frame), original in zip(seen, clip.frames[:12], strict=True):
        assert frame.image is original or np.array_equal(frame.image, original)
        assert comparable(predictions["predictions"]) == comparable(
            model.infer(original, confidence=0.5)[0].to_dict()["predictions"]
        )
    assert len(producers) == 1 and producers[0].released


def test_udp_sink_sends_each_frames_predictions_with_metadata(clip_file, manager):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(30)
    udp_sink = UDPSink.init(ip_address="127.0.0.1", port=receiver.getsockname()[1])
    buffer_sink = InMemoryBufferSink.init(queue_size=5)

    def broken_sink(predictions, frame):
        raise RuntimeError("this sink fails; the others still run")

    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(clip_file),
        model_manager=manager,
        on_prediction=lambda p, f: multi_sink(
            p, f, sinks=[broken_sink, udp_sink.send_predictions, buffer_sink.on_prediction]
        ),
    )
    pipeline.start()
    pipeline.join()
    messages = [json.loads(receiver.recv(65536)) for _ in range(CLIP_FRAMES)]
    receiver.close()
    assert [message["inference_metadata"]["frame_id"] for message in messages] == list(
        range(1, CLIP_FRAMES + 1)
    )
    assert all(
        message["inference_metadata"]["source_id"] == 0 and "predictions" in message for message in messages
    )
    kept = []
    while not buffer_sink.empty():
        kept.append(buffer_sink.consume_prediction())
    assert [frames[0].frame_id for _, frames in kept] == list(range(CLIP_FRAMES - 4, CLIP_FRAMES + 1))


def test_video_file_sink_writes_every_rendered_frame(clip_file, manager, tmp_path):
    output = tmp_path / "drawn.avi"
    video_sink = VideoFileSink.init(
        video_file_name=str(output), quiet=True, video_frame_size=(640, 480), display_size=(640, 480)
    )
    pipeline = InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=str(clip_file),
        on_prediction=video_sink.on_prediction,
        model_manager=manager,
    )
    pipeline.start()
    pipeline.join()
    video_sink.release()
    capture = cv2.VideoCapture(str(output))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == CLIP_FRAMES
    ok, first = capture.read()
    assert ok and first.shape == (480, 640, 3)


def test_roboflows_documented_snippet_runs_unchanged(clip_file, model_cache, tmp_path):
    """Roboflow's quick-start, word for word but for the model id and the file, in a fresh process."""
    import subprocess

    snippet = f'''
from inference import InferencePipeline
from inference.core.interfaces.stream.sinks import VideoFileSink

video_sink = VideoFileSink.init(video_file_name="output.avi")

pipeline = InferencePipeline.init(
    model_id="{MODEL_ID}",
    video_reference="{clip_file}",
    on_prediction=video_sink.on_prediction,
)
pipeline.start()
pipeline.join()
video_sink.release()
'''
    env = {"MODEL_CACHE_DIR": str(model_cache), "OFFLINE_MODE": "true", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", snippet], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    capture = cv2.VideoCapture(str(tmp_path / "output.avi"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == CLIP_FRAMES
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (1280, 720)


def test_the_inference_name_offers_roboflows_entry_points():
    import inference
    from inference.core.interfaces.camera.entities import VideoFrame
    from inference.core.interfaces.camera.video_source import BufferFillingStrategy
    from inference.core.interfaces.stream.inference_pipeline import InferencePipeline as ByPath
    from inference.core.interfaces.stream.sinks import render_boxes  # noqa: F401
    from inference.models.utils import get_model
    from inference_core import get_model as core_get_model

    assert inference.InferencePipeline is ByPath is InferencePipeline
    assert inference.get_model is core_get_model and get_model is core_get_model
    assert {
        "image",
        "frame_id",
        "frame_timestamp",
        "fps",
        "measured_fps",
        "source_id",
        "comes_from_video_file",
    } <= set(VideoFrame.__dataclass_fields__)
    assert BufferFillingStrategy("DROP_OLDEST").value == "DROP_OLDEST"
    with pytest.raises(AttributeError):
        inference.NoSuchThing  # noqa: B018
