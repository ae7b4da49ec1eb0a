"""Client-wide constants."""

from __future__ import annotations

# Roboflow's hosted APIs: a client pointed at one of these starts in API mode v0 (legacy route).
ALL_ROBOFLOW_API_URLS = frozenset({
    "https://detect.roboflow.com",
    "https://outline.roboflow.com",
    "https://classify.roboflow.com",
    "https://infer.roboflow.com",
    "https://serverless.roboflow.com",
    "https://serverless.roboflow.one",
    "https://serverless.roboflow.eu",
    "https://serverless.roboflow-eu.one",
    "https://asyncinfer.roboflow.com",
    "https://asyncinfer.roboflow.one",
})


class InferenceSDKDeprecationWarning(DeprecationWarning):
    """Kept for code that filters Roboflow's client warnings by class."""


class InferenceSDKGuidanceWarning(UserWarning):
    """Kept for code that filters Roboflow's client warnings by class."""


def is_roboflow_hosted(api_url: str) -> bool:
    return any(api_url.startswith(hosted) for hosted in ALL_ROBOFLOW_API_URLS)
