"""VisionHost's Python client, importable as `inference_sdk` like Roboflow's.

    from inference_sdk import InferenceHTTPClient
    client = InferenceHTTPClient(api_url="http://localhost:9001", api_key="...")
    client.infer("image.jpg", model_id="project/1")
"""

from inference_sdk.config import InferenceSDKDeprecationWarning, InferenceSDKGuidanceWarning
from inference_sdk.http.client import InferenceHTTPClient
from inference_sdk.http.entities import ApiKeyTransport, InferenceConfiguration, VisualisationResponseFormat
from inference_sdk.version import __version__

__all__ = [
    "ApiKeyTransport",
    "InferenceConfiguration",
    "InferenceHTTPClient",
    "InferenceSDKDeprecationWarning",
    "InferenceSDKGuidanceWarning",
    "VisualisationResponseFormat",
    "__version__",
]
