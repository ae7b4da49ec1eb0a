"""Import paths and names that user code written for Roboflow's client relies on."""

from __future__ import annotations

import inspect
import subprocess
import sys

import inference_sdk
from inference_sdk.http import errors

ROBOFLOW_ERRORS = [
    "HTTPClientError", "HTTPCallErrorError", "HTTPServerConnectionError", "InvalidInputFormatError",
    "InvalidModelIdentifier", "ModelNotInitializedError", "ModelTaskTypeNotSupportedError",
    "ModelNotSelectedError", "APIKeyNotProvided", "EncodingError", "WrongClientModeError",
    "InvalidParameterError", "RetryError",
]
CLIENT_METHODS = {
    "infer": ["inference_input", "model_id"],
    "infer_async": ["inference_input", "model_id"],
    "configure": ["inference_configuration"],
    "use_configuration": ["inference_configuration"],
    "select_model": ["model_id"],
    "use_model": ["model_id"],
    "select_api_v0": [], "select_api_v1": [], "use_api_v0": [], "use_api_v1": [],
    "get_server_info": [], "list_loaded_models": [],
    "load_model": ["model_id", "set_as_default"],
    "unload_model": ["model_id"], "unload_all_models": [],
    "get_model_description": ["model_id", "allow_loading"],
    "infer_on_stream": ["input_uri", "model_id"],
    "run_workflow": ["workspace_name", "workflow_id", "specification", "images", "parameters", "excluded_fields",
                     "use_cache", "enable_profiling", "workflow_version_id", "disable_sinks"],
    "infer_from_workflow": ["workspace_name", "workflow_name", "specification", "images", "parameters",
                            "excluded_fields", "use_cache", "enable_profiling", "workflow_version_id",
                            "disable_sinks"],
}


def test_top_level_and_module_paths():
    from inference_sdk import InferenceConfiguration, InferenceHTTPClient
    from inference_sdk.http.client import InferenceHTTPClient as FromClientModule
    from inference_sdk.http.entities import InferenceConfiguration as FromEntities

    assert InferenceHTTPClient is FromClientModule and InferenceConfiguration is FromEntities
    assert inference_sdk.__version__


def test_error_names_exist_and_share_a_root():
    for name in ROBOFLOW_ERRORS:
        error_class = getattr(errors, name)
        assert issubclass(error_class, Exception)
        if name != "RetryError":
            assert issubclass(error_class, errors.HTTPClientError)


def test_client_methods_and_parameter_names():
    from inference_sdk import InferenceHTTPClient

    for name, parameters in CLIENT_METHODS.items():
        signature = inspect.signature(getattr(InferenceHTTPClient, name))
        assert list(signature.parameters)[1:1 + len(parameters)] == parameters, name
    constructor = list(inspect.signature(InferenceHTTPClient).parameters)
    assert constructor[:2] == ["api_url", "api_key"]


def test_import_is_light_no_server_core_opencv_numpy_or_httpx_yet():
    code = (
        "import sys, inference_sdk; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('inference_core', 'inference_server', 'cv2', 'numpy', 'httpx', 'onnxruntime', 'requests',"
        " 'aiohttp')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stdout + finished.stderr


WITHOUT_NUMPY = """
import base64, io, sys
sys.modules["numpy"] = None  # as if numpy were not installed
import httpx
from PIL import Image
from inference_sdk import InferenceConfiguration, InferenceHTTPClient

def answer(request):
    if request.url.path == "/model/registry":
        return httpx.Response(200, json={"models": [{"model_id": "m/1", "task_type": "object-detection"}]})
    return httpx.Response(200, json={"image": {"width": 4, "height": 3}, "predictions": [],
                                     "visualization": base64.b64encode(buffer.getvalue()).decode()})

buffer = io.BytesIO()
Image.new("RGB", (4, 3)).save(buffer, format="JPEG")
client = InferenceHTTPClient("http://x.test", transport=httpx.MockTransport(answer))
assert client.infer(Image.new("RGB", (4, 3)), model_id="m/1")["image"]["width"] == 4
assert client.infer(base64.b64encode(buffer.getvalue()).decode(), model_id="m/1")
client.configure(InferenceConfiguration(output_visualisation_format="numpy"))
try:
    client.infer(Image.new("RGB", (4, 3)), model_id="m/1")
except ImportError as error:
    assert "visionhost-sdk[numpy]" in str(error)
else:
    raise AssertionError("numpy visualisation without numpy should explain what to install")
"""


def test_works_without_numpy_installed():
    finished = subprocess.run([sys.executable, "-c", WITHOUT_NUMPY], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stdout + finished.stderr
