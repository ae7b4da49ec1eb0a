"""tools/workflows_compare: what counts as the same answer (the servers themselves run offline
only when Roboflow's venv exists; its results are committed)."""

from __future__ import annotations

import base64
import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np

TOOL = Path(__file__).resolve().parents[2] / "tools" / "workflows_compare" / "compare.py"


def _compare():
    spec = importlib.util.spec_from_file_location("workflows_compare", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["workflows_compare"] = module
    spec.loader.exec_module(module)
    return module


def _image(value: int, noise: int = 0) -> dict:
    pixels = np.full((40, 60, 3), value, np.uint8)
    if noise:
        pixels[:10, :10] = (value + noise) % 256
    return {"type": "base64", "value": base64.b64encode(cv2.imencode(".png", pixels)[1].tobytes()).decode()}


def test_random_ids_and_sub_pixel_boxes_are_the_same_answer():
    compare = _compare()
    ours = {
        "predictions": [
            {
                "x": 10.2,
                "y": 5.0,
                "confidence": 0.91,
                "class": "star",
                "detection_id": "a",
                "parent_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            }
        ]
    }
    theirs = {
        "predictions": [
            {
                "x": 10.9,
                "y": 5.0,
                "confidence": 0.9,
                "class": "star",
                "detection_id": "b",
                "parent_id": "6fa459ea-ee8a-3ca4-894e-db77e160355e",
            }
        ]
    }
    assert compare.differences(ours, theirs) == []


def test_real_differences_are_reported_with_their_path():
    compare = _compare()
    ours = {"out": [{"x": 10.0, "class": "star", "confidence": 0.9}], "count": 2, "extra": 1}
    theirs = {"out": [{"x": 12.5, "class": "circle", "confidence": 0.8}], "count": 3}
    found = compare.differences(ours, theirs, "o")
    assert "o.count: 2 vs 3" in found and "o.extra: only in ours" in found
    assert any(item.startswith("o.out[0].x") for item in found)
    assert any(item.startswith("o.out[0].class") for item in found)
    assert any(item.startswith("o.out[0].confidence") for item in found)
    assert compare.differences([1, 2], [1], "l") == ["l: 2 items in ours, 1 in roboflow"]


def test_images_compare_by_pixels_and_csv_without_its_timestamps():
    compare = _compare()
    assert compare.differences(_image(100), _image(100, noise=1)) == []
    assert compare.differences(_image(100), _image(200)) != []
    first = "count,timestamp\n3,2026-01-01T00:00:00\n"
    assert compare.differences(first, "count,timestamp\n3,2027-05-05T10:00:00\n") == []
    assert compare.differences(first, "count,timestamp\n4,2026-01-01T00:00:00\n") != []
