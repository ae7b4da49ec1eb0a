"""Live sources decoded for real: a loopback MJPEG camera, a loopback RTSP server, a dead address.

Waits on events are bounded so a regression fails instead of hanging; no test asserts a duration.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from datetime import datetime

import pytest
from inference_core.settings import UrlPolicy
from inference_stream import InferencePipeline, StreamState
from inference_stream.sources import VideoSourceNotAllowedError, check_stream_address
from mjpeg_server import MjpegServer
from moving_shapes import write_hls
from rtsp_loopback import RtspServer, free_port, rtsp_unavailable_reason, write_jpeg_frames
from stream_checks import MODEL_ID, comparable, pipeline_threads

WAIT = 60  # seconds before a wait is declared a hang


class Recorder:
    """A sink and status handler that lets the test wait for frames and events."""

    def __init__(self, model) -> None:
        self.model = model
        self.frames = []
        self.mismatches = []
        self.events: list[str] = []
        self._changed = threading.Condition()

    def on_prediction(self, predictions, frame) -> None:
        still = self.model.infer(frame.image, confidence=0.5)[0].to_dict()
        if comparable(predictions["predictions"]) != comparable(still["predictions"]):
            self.mismatches.append(frame.frame_id)
        with self._changed:
            self.frames.append(frame)
            self._changed.notify_all()

    def on_status(self, update) -> None:
        with self._changed:
            self.events.append(update.event_type)
            self._changed.notify_all()

    def count_since(self, moment: datetime) -> int:
        """Frames grabbed after `moment` (live frames are stamped when grabbed)."""
        return sum(frame.frame_timestamp > moment for frame in self.frames)

    def wait_for(self, condition, what: str) -> None:
        deadline = time.monotonic() + WAIT
        with self._changed:
            while not condition():
                if time.monotonic() > deadline:
                    pytest.fail(f"timed out waiting for {what}; events: {self.events[-10:]}")
                self._changed.wait(0.05)


@pytest.fixture()
def fast_reconnect(monkeypatch):
    monkeypatch.setenv("INFERENCE_PIPELINE_RESTART_ATTEMPT_DELAY", "0.2")
    monkeypatch.setenv("INFERENCE_PIPELINE_RESTART_MAX_DELAY", "0.5")
    monkeypatch.setenv("VIDEO_SOURCE_READ_TIMEOUT", "3")
    monkeypatch.setenv("VIDEO_SOURCE_OPEN_TIMEOUT", "5")


def live_pipeline(url, recorder, manager, **kwargs) -> InferencePipeline:
    return InferencePipeline.init(
        model_id=MODEL_ID,
        video_reference=url,
        on_prediction=recorder.on_prediction,
        confidence=0.5,
        status_update_handlers=[recorder.on_status],
        model_manager=manager,
        **kwargs,
    )


def test_mjpeg_camera_frames_carry_live_metadata_and_still_image_answers(clip, manager, model):
    server = MjpegServer(clip.frames, fps=20).start()
    recorder = Recorder(model)
    pipeline = live_pipeline(server.url, recorder, manager)
    try:
        pipeline.start(use_main_thread=False)
        recorder.wait_for(lambda: len(recorder.frames) >= 15, "15 frames from the MJPEG camera")
    finally:
        pipeline.terminate()
        pipeline.join()
        server.stop()
    frames = recorder.frames
    assert recorder.mismatches == []
    assert all(frame.comes_from_video_file is False and frame.source_id == 0 for frame in frames)
    assert all(frame.image.shape == (480, 640, 3) for frame in frames)
    ids = [frame.frame_id for frame in frames]
    assert ids == sorted(set(ids))
    assert frames[-1].measured_fps is not None and frames[-1].measured_fps > 0
    assert pipeline.error is None and pipeline_threads() == []


def test_mjpeg_camera_that_dies_is_reconnected_and_the_pipeline_goes_on(clip, manager, model, fast_reconnect):
    server = MjpegServer(clip.frames, fps=20).start()
    recorder = Recorder(model)
    pipeline = live_pipeline(server.url, recorder, manager)
    try:
        pipeline.start(use_main_thread=False)
        recorder.wait_for(lambda: len(recorder.frames) >= 5, "frames before the camera dies")
        server.stop()
        recorder.wait_for(lambda: "SOURCE_CONNECTION_LOST" in recorder.events, "the lost connection")
        recorder.wait_for(
            lambda: "SOURCE_CONNECTION_ATTEMPT_FAILED" in recorder.events, "a failed reconnection"
        )
        restarted = datetime.now()
        server.start()  # same port
        recorder.wait_for(lambda: "SOURCE_RECONNECTED" in recorder.events, "the reconnection")
        recorder.wait_for(lambda: recorder.count_since(restarted) >= 5, "frames after the reconnection")
    finally:
        pipeline.terminate()
        pipeline.join()
        server.stop()
    assert server.clients_served >= 2
    assert recorder.mismatches == [] and pipeline.error is None
    assert pipeline_threads() == []


def test_an_hls_stream_over_http_every_segment_in_order(clip, manager, model, tmp_path):
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    write_hls(tmp_path / "hls", clip.frames, clip.fps)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    web = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path / "hls")))
    threading.Thread(target=web.serve_forever, daemon=True).start()
    recorder = Recorder(model)
    # a URL is a live source (as in Roboflow's pipeline): ask for every frame explicitly
    pipeline = live_pipeline(
        f"http://127.0.0.1:{web.server_address[1]}/clip.m3u8", recorder, manager,
        source_buffer_filling_strategy="WAIT", source_buffer_consumption_strategy="LAZY",
    )
    try:
        pipeline.start(use_main_thread=False)
        recorder.wait_for(lambda: len(recorder.frames) >= len(clip.frames), "every frame of the HLS stream")
    finally:
        pipeline.terminate()
        pipeline.join()
        web.shutdown()
        web.server_close()
    first = recorder.frames[: len(clip.frames)]
    assert [frame.frame_id for frame in first] == list(range(1, len(clip.frames) + 1))
    assert all(frame.comes_from_video_file is False for frame in first)
    assert recorder.mismatches == [] and pipeline_threads() == []


@pytest.mark.parametrize("batch_collection_timeout", [None, 0.5])
def test_one_dead_camera_does_not_stall_the_others(clip, manager, model, fast_reconnect, batch_collection_timeout):
    cameras = [MjpegServer(clip.frames, fps=20).start() for _ in range(2)]
    batches: list[list] = []
    arrived = threading.Condition()

    def sink(predictions, frames) -> None:
        with arrived:
            batches.append([None if frame is None else frame.source_id for frame in frames])
            arrived.notify_all()

    def wait_for(condition, what: str) -> None:
        with arrived:
            assert arrived.wait_for(condition, timeout=WAIT), what

    pipeline = InferencePipeline.init(
        model_id=MODEL_ID, video_reference=[camera.url for camera in cameras], on_prediction=sink,
        model_manager=manager, batch_collection_timeout=batch_collection_timeout,
    )
    try:
        pipeline.start(use_main_thread=False)
        wait_for(lambda: any(batch == [0, 1] for batch in batches), "a batch from both cameras")
        cameras[1].stop()
        stopped = len(batches)
        wait_for(lambda: sum(batch == [0, None] for batch in batches[stopped:]) >= 5,
                 "batches from the live camera while the other is down")
    finally:
        pipeline.terminate()
        pipeline.join()
        for camera in cameras:
            camera.stop()
    assert all(len(batch) == 2 for batch in batches)  # aligned to the sources, None for a missing one
    assert pipeline.error is None and pipeline_threads() == []


def test_pause_mute_and_resume_a_live_source(clip, manager, model):
    server = MjpegServer(clip.frames, fps=20).start()
    recorder = Recorder(model)
    pipeline = live_pipeline(server.url, recorder, manager)
    source = pipeline.video_sources[0]
    try:
        pipeline.start(use_main_thread=False)
        recorder.wait_for(lambda: len(recorder.frames) >= 3, "first frames")
        pipeline.mute_stream()
        assert source.get_state() is StreamState.MUTED
        muted_at = source._frame_counter
        recorder.wait_for(lambda: source._frame_counter >= muted_at + 10, "frames grabbed while muted")
        count_while_muted = len(recorder.frames)
        pipeline.resume_stream()
        recorder.wait_for(lambda: len(recorder.frames) >= count_while_muted + 3, "frames after unmuting")
        ids = [frame.frame_id for frame in recorder.frames]
        assert any(later - earlier >= 10 for earlier, later in zip(ids, ids[1:]))  # muted frames were skipped
        pipeline.pause_stream(source_id=0)
        assert source.get_state() is StreamState.PAUSED
        pipeline.resume_stream(source_id=0)
        assert source.get_state() is StreamState.RUNNING
        resumed = len(recorder.frames)
        recorder.wait_for(lambda: len(recorder.frames) >= resumed + 3, "frames after the pause")
    finally:
        pipeline.terminate()
        pipeline.join()
        server.stop()
    assert pipeline_threads() == []


def test_terminate_returns_while_a_connection_attempt_still_hangs(manager, model):
    """A source that accepts the TCP connection and never answers: terminate() does not wait for it."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    connected = threading.Event()

    def accept() -> None:
        connection, _ = listener.accept()
        accepted.append(connection)
        connected.set()

    threading.Thread(target=accept, daemon=True).start()
    recorder = Recorder(model)
    pipeline = live_pipeline(f"rtsp://127.0.0.1:{port}/camera", recorder, manager)
    pipeline.start(use_main_thread=False)
    assert connected.wait(WAIT), "the pipeline never tried to connect"
    pipeline.terminate()
    # terminate() came back while the connection attempt still waits for an answer
    assert client_still_waiting(accepted[0])
    assert pipeline._inference_thread.is_alive()
    accepted[0].close()
    listener.close()
    pipeline.join()
    assert recorder.frames == [] and pipeline_threads() == []


def client_still_waiting(connection: socket.socket) -> bool:
    """True while the peer keeps the connection open (whatever it sent is read and dropped)."""
    while True:
        try:
            if connection.recv(65536, socket.MSG_DONTWAIT) == b"":
                return False
        except BlockingIOError:
            return True


def test_stream_urls_pass_the_image_url_address_policy(clip, manager, model):
    policy = UrlPolicy()
    with pytest.raises(VideoSourceNotAllowedError, match="non-public"):
        check_stream_address("rtsp://127.0.0.1:8554/cam", policy)
    with pytest.raises(VideoSourceNotAllowedError) as refused:
        check_stream_address("rtsp://admin:hunter2@10.0.0.7/cam", policy)
    assert "hunter2" not in str(refused.value)
    with pytest.raises(VideoSourceNotAllowedError, match="blocked"):
        check_stream_address("rtmp://cams.example.com/live", UrlPolicy(blacklist=("cams.example.com",)))
    check_stream_address("rtsp://127.0.0.1:8554/cam", UrlPolicy(allow_non_global_addresses=True))

    server = MjpegServer(clip.frames, fps=20).start()
    recorder = Recorder(model)
    pipeline = live_pipeline(server.url, recorder, manager, url_policy=policy)
    try:
        pipeline.start()
        pipeline.join()
    finally:
        server.stop()
    assert isinstance(pipeline.error, VideoSourceNotAllowedError)
    assert server.clients_served == 0 and recorder.frames == []


RTSP_SKIP = rtsp_unavailable_reason()


@pytest.mark.skipif(RTSP_SKIP is not None, reason=str(RTSP_SKIP))
def test_rtsp_stream_killed_and_restarted_is_reconnected(clip, manager, model, tmp_path, fast_reconnect):
    frames_dir = write_jpeg_frames(clip.frames, tmp_path / "frames")
    server = RtspServer(frames_dir, free_port()).start()
    recorder = Recorder(model)
    pipeline = live_pipeline(server.url, recorder, manager)
    try:
        pipeline.start(use_main_thread=False)
        recorder.wait_for(lambda: len(recorder.frames) >= 5, "frames from the RTSP server")
        server.kill()
        recorder.wait_for(lambda: "SOURCE_CONNECTION_LOST" in recorder.events, "the lost RTSP connection")
        restarted = datetime.now()
        server.start()
        recorder.wait_for(
            lambda: recorder.count_since(restarted) >= 5, "frames after the RTSP server came back"
        )
    finally:
        pipeline.terminate()
        pipeline.join()
        server.kill()
    assert "SOURCE_RECONNECTED" in recorder.events
    assert all(frame.comes_from_video_file is False for frame in recorder.frames)
    assert recorder.mismatches == [] and pipeline.error is None
    assert pipeline_threads() == []


def listening(port: int) -> bool:
    """Whether a TCP socket listens on `port` (read from /proc, without connecting to it)."""
    wanted = f":{port:04X}"
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(wanted) and fields[3] == "0A":
            return True
    return False


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="the ffmpeg command is missing: run scripts/setup-video.sh")
def test_rtmp_stream_from_an_ffmpeg_server(clip_file, manager, model):
    port = free_port()
    server = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", str(clip_file),
         "-c", "copy", "-f", "flv", "-listen", "1", f"rtmp://127.0.0.1:{port}/live/stream"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    recorder = Recorder(model)
    pipeline = live_pipeline(f"rtmp://127.0.0.1:{port}/live/stream", recorder, manager)
    try:
        deadline = time.monotonic() + WAIT  # ffmpeg listens a moment after it starts (one client only,
        while not listening(port):  # so the port is watched, not probed)
            assert time.monotonic() < deadline and server.poll() is None, "ffmpeg did not listen"
            time.sleep(0.1)
        pipeline.start(use_main_thread=False)
        recorder.wait_for(lambda: len(recorder.frames) >= 10, "frames from the RTMP stream")
    finally:
        pipeline.terminate()
        pipeline.join()
        server.kill()
        server.wait()
    assert all(frame.comes_from_video_file is False and frame.image.shape == (480, 640, 3) for frame in recorder.frames)
    assert recorder.mismatches == [] and pipeline.error is None and pipeline_threads() == []

