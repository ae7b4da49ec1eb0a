"""`inference video` on a real file: JSON Lines, a drawn video, --max-fps, and the install hint."""

from __future__ import annotations

import json
import sys

import cv2
from inference_server.cli.main import main
from stream_checks import CLIP_FRAMES, MODEL_ID


def test_inference_video_writes_every_frames_predictions_and_a_drawn_video(clip_file, model_cache, tmp_path,
                                                                           monkeypatch, capsys):
    monkeypatch.setenv("MODEL_CACHE_DIR", str(model_cache))
    monkeypatch.setenv("OFFLINE_MODE", "true")
    results, drawn = tmp_path / "out.jsonl", tmp_path / "drawn.mp4"
    code = main(["video", str(clip_file), "--model-id", MODEL_ID, "--json", str(results), "--output", str(drawn),
                 "--confidence", "0.5"])
    assert code == 0
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [record["frame_id"] for record in records] == list(range(1, CLIP_FRAMES + 1))
    assert all(len(record["predictions"]) == 2 for record in records)  # the two scripted shapes
    assert {p["class"] for record in records for p in record["predictions"]} == {"square", "circle"}
    capture = cv2.VideoCapture(str(drawn))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == CLIP_FRAMES
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    error = capsys.readouterr().err
    assert f"{CLIP_FRAMES}/{CLIP_FRAMES} frames" in error and f"{CLIP_FRAMES} frames processed" in error


def test_max_fps_on_a_file_keeps_every_nth_frame(clip_file, model_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("MODEL_CACHE_DIR", str(model_cache))
    monkeypatch.delenv("ENABLE_FRAME_DROP_ON_VIDEO_FILE_RATE_LIMITING", raising=False)
    results = tmp_path / "out.jsonl"
    assert main(["video", str(clip_file), "--model-id", MODEL_ID, "--json", str(results), "--max-fps", "5",
                 "--quiet"]) == 0
    monkeypatch.delenv("ENABLE_FRAME_DROP_ON_VIDEO_FILE_RATE_LIMITING", raising=False)
    frame_ids = [json.loads(line)["frame_id"] for line in results.read_text().splitlines()]
    assert frame_ids == list(range(1, CLIP_FRAMES + 1, 2))  # a 10 fps file at 5 fps


def test_a_missing_source_fails_with_a_message(model_cache, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODEL_CACHE_DIR", str(model_cache))
    assert main(["video", str(tmp_path / "nothing.mp4"), "--model-id", MODEL_ID, "--quiet"]) == 1
    assert "nothing.mp4" in capsys.readouterr().err


def test_without_the_stream_package_the_command_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "inference_stream", None)  # import fails as if not installed
    assert main(["video", "clip.mp4", "--model-id", MODEL_ID]) == 1
    error = capsys.readouterr().err
    assert "visionhost-stream" in error and "pip install" in error
