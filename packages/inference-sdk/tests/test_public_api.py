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


def test_import_pulls_in_no_server_core_or_opencv():
    code = (
        "import sys, inference_sdk; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('inference_core', 'inference_server', 'cv2', 'onnxruntime', 'requests', 'aiohttp')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    finished = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stdout + finished.stderr
