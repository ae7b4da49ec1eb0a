"""Roboflow's own client, `inference-sdk==1.8.3` from PyPI, unchanged, against our server.

It is installed in its own virtual environment under a cache directory (about 735 MB with its
dependencies), once; the test skips, saying why, when that environment cannot be created (no
network, no PyPI). Set VISIONHOST_ROBOFLOW_SDK_VENV to reuse an existing environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from server_harness import DETECTOR_ID, assert_detects, make_scene

SDK_REQUIREMENT = "inference-sdk==1.8.3"
INSTALL_TIMEOUT = 1500

pytestmark = pytest.mark.slow


def _venv_dir() -> Path:
    configured = os.environ.get("VISIONHOST_ROBOFLOW_SDK_VENV")
    if configured:
        return Path(configured)
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "visionhost-tests" / "roboflow-inference-sdk-1.8.3"


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


@pytest.fixture(scope="session")
def roboflow_sdk_python() -> Path:
    venv = _venv_dir()
    ready = venv / ".installed"
    if ready.is_file() and _python(venv).is_file():
        return _python(venv)
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True, timeout=300
        )
        install = subprocess.run(
            [str(_python(venv)), "-m", "pip", "install", "--quiet", SDK_REQUIREMENT],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
    except (OSError, subprocess.SubprocessError) as error:
        pytest.skip(f"cannot create a virtual environment for {SDK_REQUIREMENT}: {error}")
    if install.returncode != 0:
        pytest.skip(
            f"cannot install {SDK_REQUIREMENT} (no network or PyPI?): {install.stderr.strip()[-500:]}"
        )
    ready.write_text(SDK_REQUIREMENT + "\n")
    return _python(venv)


CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import cv2
    from inference_sdk import InferenceHTTPClient, InferenceConfiguration

    api_url, model_id, first, second = sys.argv[1:5]
    client = InferenceHTTPClient(api_url=api_url, api_key="any-key")
    out = {"info": client.get_server_info().to_dict() if hasattr(client.get_server_info(), "to_dict")
           else vars(client.get_server_info())}
    out["unload_all"] = str(client.unload_all_models())
    out["v1_path"] = client.infer(first, model_id=model_id)
    out["v1_numpy"] = client.infer(cv2.imread(first), model_id=model_id)
    out["loaded"] = [m.model_id for m in client.list_loaded_models().models]
    client.configure(InferenceConfiguration(confidence_threshold=0.4, max_batch_size=2))
    out["v1_batch"] = client.infer([first, second, first], model_id=model_id)
    description = client.get_model_description(model_id)
    out["description"] = {"task_type": description.task_type, "input_width": description.input_width}
    with client.use_api_v0():
        out["v0_path"] = client.infer(first, model_id=model_id)
    client.unload_model(model_id)
    out["after_unload"] = [m.model_id for m in client.list_loaded_models().models]
    client.load_model(model_id)
    out["after_load"] = [m.model_id for m in client.list_loaded_models().models]
    try:
        client.infer(first, model_id="no-such/1")
        out["unknown"] = "no error"
    except Exception as error:
        out["unknown"] = [type(error).__name__, getattr(error, "status_code", None)]
    print(json.dumps(out))
    """
)


def test_roboflow_client_works_unchanged(roboflow_sdk_python, server, tmp_path):
    scenes = [make_scene(900_600), make_scene(900_601, 480, 640)]
    paths = []
    for index, scene in enumerate(scenes):
        path = tmp_path / f"scene{index}.jpg"
        path.write_bytes(scene.jpeg)
        paths.append(str(path))
    script = tmp_path / "client.py"
    script.write_text(CLIENT_SCRIPT)
    run = subprocess.run(
        [str(roboflow_sdk_python), str(script), server.url, DETECTOR_ID, *paths],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])

    for key in ("v1_path", "v1_numpy", "v0_path"):
        _assert_correct(scenes[0], out[key])
    assert len(out["v1_batch"]) == 3
    for scene, answer in zip([scenes[0], scenes[1], scenes[0]], out["v1_batch"], strict=True):
        _assert_correct(scene, answer)
    assert out["loaded"] == [DETECTOR_ID]
    assert out["description"] == {"task_type": "object-detection", "input_width": 320}
    assert out["after_unload"] == [] and out["after_load"] == [DETECTOR_ID]
    assert out["unknown"][1] == 404


def _assert_correct(scene, answer):
    assert_detects(scene.objects, answer["predictions"])


WORKFLOW_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from inference_sdk import InferenceHTTPClient

    api_url, spec_path, image_path = sys.argv[1:4]
    specification = json.load(open(spec_path))
    client = InferenceHTTPClient(api_url=api_url, api_key="any-key")
    out = {}
    out["run"] = client.run_workflow(specification=specification, images={"image": [image_path, image_path]},
                                     parameters={"confidence": 0.5}, excluded_fields=["drawn"])
    out["legacy"] = client.infer_from_workflow(specification=specification, images={"image": image_path})
    try:
        client.run_workflow(specification={**specification, "steps": []}, images={"image": image_path})
        out["bad"] = "no error"
    except Exception as error:
        out["bad"] = [type(error).__name__, getattr(error, "status_code", None)]
    print(json.dumps(out))
    """
)


def test_roboflow_client_runs_workflows_unchanged(roboflow_sdk_python, server, tmp_path):
    pytest.importorskip("inference_workflows")
    scene = make_scene(900_602)
    image = tmp_path / "scene.jpg"
    image.write_bytes(scene.jpeg)
    specification = {
        "version": "1.0",
        "inputs": [{"type": "WorkflowImage", "name": "image"},
                   {"type": "WorkflowParameter", "name": "confidence", "default_value": 0.3}],
        "steps": [
            {"type": "roboflow_core/roboflow_object_detection_model@v2", "name": "detect",
             "images": "$inputs.image", "model_id": DETECTOR_ID, "confidence": "$inputs.confidence"},
            {"type": "roboflow_core/property_definition@v1", "name": "count", "data": "$steps.detect.predictions",
             "operations": [{"type": "SequenceLength"}]},
            {"type": "roboflow_core/bounding_box_visualization@v1", "name": "draw", "image": "$inputs.image",
             "predictions": "$steps.detect.predictions"},
        ],
        "outputs": [
            {"type": "JsonField", "name": "predictions", "selector": "$steps.detect.predictions"},
            {"type": "JsonField", "name": "count", "selector": "$steps.count.output"},
            {"type": "JsonField", "name": "drawn", "selector": "$steps.draw.image"},
        ],
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(specification))
    script = tmp_path / "workflow_client.py"
    script.write_text(WORKFLOW_SCRIPT)
    run = subprocess.run([str(roboflow_sdk_python), str(script), server.url, str(spec_path), str(image)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(out["run"]) == 2
    for answer in out["run"]:
        assert set(answer) == {"predictions", "count"}
        assert answer["count"] == len(answer["predictions"]["predictions"]) == len(scene.objects)
        assert_detects(scene.objects, answer["predictions"]["predictions"])
    (legacy,) = out["legacy"]
    assert isinstance(legacy["drawn"], str) and len(legacy["drawn"]) > 1000  # base64 JPEG, decoded by the client
    assert out["bad"][1] == 400
