"""`infer_on_stream`: image folders with Pillow alone; video files with OpenCV when installed."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from inference_sdk import InferenceConfiguration
from PIL import Image


def write_folder(folder, sizes):
    for index, (width, height) in enumerate(sizes):
        Image.new("RGB", (width, height), (0, 0, 255)).save(folder / f"frame_{index:02d}.png")
    (folder / "notes.txt").write_text("not an image")


def test_image_folder_in_name_order(client, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # prove OpenCV is not needed for folders
    write_folder(tmp_path, [(30, 20), (40, 20), (50, 20)])
    seen = list(client.infer_on_stream(str(tmp_path), model_id="shapes/1"))
    assert [reference.rsplit("/", 1)[-1] for reference, _, _ in seen] == [
        "frame_00.png", "frame_01.png", "frame_02.png"]
    _, frame, prediction = seen[0]
    assert frame.shape == (20, 30, 3) and frame[0, 0].tolist() == [255, 0, 0]  # BGR
    assert [prediction["image"]["width"] for _, _, prediction in seen] == [30, 40, 50]


def test_folder_extensions_come_from_the_configuration(client, tmp_path):
    write_folder(tmp_path, [(10, 10)])
    Image.new("RGB", (12, 12)).save(tmp_path / "extra.bmp")
    client.configure(InferenceConfiguration(image_extensions_for_directory_scan=["bmp"]))
    assert [frame.shape[1] for _, frame, _ in client.infer_on_stream(tmp_path, model_id="shapes/1")] == [12]


def test_video_without_opencv_explains_how_to_get_it(client, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(ImportError, match=r"visionhost-sdk\[opencv\]"):
        next(client.infer_on_stream(str(tmp_path / "clip.avi"), model_id="shapes/1"))


def test_video_file_frames_with_indices(client, tmp_path):
    cv2 = pytest.importorskip("cv2", reason="OpenCV is the optional extra that reads video")
    path = str(tmp_path / "clip.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for value in (0, 80, 160, 240):
        writer.write(np.full((48, 64, 3), value, np.uint8))
    writer.release()
    seen = list(client.infer_on_stream(path, model_id="shapes/1"))
    assert [reference for reference, _, _ in seen] == [0, 1, 2, 3]
    assert all(frame.shape == (48, 64, 3) for _, frame, _ in seen)
    assert seen[-1][2]["image"] == {"width": 64, "height": 48}


def test_unopenable_video_raises(client, tmp_path):
    pytest.importorskip("cv2", reason="OpenCV is the optional extra that reads video")
    from inference_sdk.http.errors import InvalidInputFormatError

    with pytest.raises(InvalidInputFormatError):
        next(client.infer_on_stream(str(tmp_path / "missing.mp4"), model_id="shapes/1"))
