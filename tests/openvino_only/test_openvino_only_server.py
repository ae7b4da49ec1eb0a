"""A deployment with only the OpenVINO backend (no ONNX Runtime at all) serves every task,
with the same predictions as the ONNX backend."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from inference_core import CoreSettings, build_manager
from inference_core.store import ModelStore
from model_dirs import held_out_scenes
from scene_matching import iou, prediction_box
from server_harness import start_server, stop_server

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV = Path.home() / ".cache" / "visionhost-tests" / "openvino-only-venv"
PACKAGES = ["packages/inference-core", "packages/inference-server", "packages/backend-openvino"]
MODELS = {
    "object_detection": ("shapes-det-yolov8.onnx", "det/1"),
    "instance_segmentation": ("shapes-seg-yolov8.onnx", "seg/1"),
    "keypoints_detection": ("shapes-pose-yolov8.onnx", "pose/1"),
    "classification": ("shapes-cls.onnx", "cls/1"),
}
SCENES = held_out_scenes(3, seed=960_000)


@pytest.fixture(scope="module")
def openvino_only_python() -> str:
    python = VENV / "bin" / "python"
    if not python.exists():
        created = subprocess.run([sys.executable, "-m", "venv", str(VENV)], capture_output=True, text=True)
        if created.returncode != 0:
            pytest.skip(f"cannot create a virtual environment: {created.stderr[-500:]}")
    editable = [argument for package in PACKAGES for argument in ("-e", str(REPO_ROOT / package))]
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *editable], capture_output=True, text=True)
    if installed.returncode != 0:
        pytest.skip(f"cannot install the OpenVINO-only environment (no package index?): {installed.stderr[-800:]}")
    probe = subprocess.run([str(python), "-c", "import onnxruntime"], capture_output=True)
    assert probe.returncode != 0, "onnxruntime must not be installed in the OpenVINO-only environment"
    return str(python)


@pytest.fixture(scope="module")
def cache(tmp_path_factory, fixture_model_path) -> Path:
    directory = tmp_path_factory.mktemp("openvino-only-cache")
    for file_name, model_id in MODELS.values():
        ModelStore(directory).import_ultralytics_onnx(fixture_model_path(file_name), model_id)
    return directory


@pytest.fixture(scope="module")
def server(openvino_only_python, cache, tmp_path_factory):
    env = {"MODEL_CACHE_DIR": str(cache), "OFFLINE_MODE": "true",
           "OPENVINO_CACHE_DIR": str(tmp_path_factory.mktemp("ov-compiled"))}
    running = start_server(env, tmp_path_factory.mktemp("logs") / "server.log", python=openvino_only_python)
    yield running
    stop_server(running)


def test_only_openvino_is_loaded(server):
    info = server.client().get("/info").json()
    assert info["backends"] == ["openvino"] and info["backend_problems"] == {}


@pytest.mark.parametrize("task", list(MODELS))
def test_every_task_matches_the_onnx_backend(server, cache, task):
    model_id = MODELS[task][1]
    reference_model = build_manager(CoreSettings(model_cache_dir=cache, backend="onnx")).get(model_id)
    with server.client() as client:
        for scene in SCENES:
            jpeg = cv2.imencode(".jpg", scene.image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
            image = {"type": "base64", "value": base64.b64encode(jpeg).decode()}
            response = client.post(f"/infer/{task}", json={"model_id": model_id, "image": image, "confidence": 0.5})
            assert response.status_code == 200, response.text
            served = response.json()
            expected = reference_model.infer(jpeg, confidence=0.5)[0].to_dict()
            if task == "classification":
                assert served["top"] == expected["top"]
                assert served["confidence"] == pytest.approx(expected["confidence"], abs=0.01)
                continue
            assert [p["class"] for p in served["predictions"]] == [p["class"] for p in expected["predictions"]]
            for ours, reference in zip(served["predictions"], expected["predictions"]):
                assert iou(prediction_box(ours), prediction_box(reference)) >= 0.99
                assert ours["confidence"] == pytest.approx(reference["confidence"], abs=0.01)
