"""Roboflow's platform protocol: `GET {API_BASE_URL}/ort/{project}/{version}` names the artifacts."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from inference_core.errors import ModelNotFoundError, RegistryError
from inference_core.model_ids import ModelId
from inference_core.sources.base import JSON_OBJECT, ONNX, Artifact, ModelPackage, ModelSource
from inference_core.sources.trust import check_class_names


class RoboflowSource(ModelSource):
    name = "roboflow"

    def describe(self, model_id: ModelId, api_key: str | None) -> ModelPackage:
        api_key = api_key or self.settings.api_key
        if not api_key:
            raise ModelNotFoundError(
                f"Model '{model_id}' is not in the model cache, and no API key was given to download it "
                f"from {self.settings.api_base_url}: pass api_key (or set ROBOFLOW_API_KEY), "
                "or import the model."
            )
        answer = self.client.get_json(self._ort_url(model_id, api_key), f"model '{model_id}'")
        ort = answer.get("ort") if isinstance(answer, dict) else None
        if not isinstance(ort, dict) or not isinstance(ort.get("model"), str):
            raise RegistryError(
                f"The model registry's answer for model '{model_id}' has no `ort.model` address; "
                f"is API_BASE_URL ({self.settings.api_base_url}) a Roboflow-compatible API?"
            )
        return _package(model_id, ort)

    def _ort_url(self, model_id: ModelId, api_key: str) -> str:
        query = urllib.parse.urlencode(
            {"api_key": api_key, "nocache": "true", "device": self.settings.device_id, "dynamic": "true"}
        )
        project = urllib.parse.quote(model_id.project, safe="")
        version = urllib.parse.quote(model_id.version, safe="")
        return f"{self.settings.api_base_url}/ort/{project}/{version}?{query}"


def _package(model_id: ModelId, ort: dict[str, Any]) -> ModelPackage:
    artifacts = [Artifact("weights.onnx", ort["model"], ONNX)]
    if isinstance(ort.get("environment"), str):
        artifacts.append(Artifact("environment.json", ort["environment"], JSON_OBJECT))
    files = {
        "model_type.json": json.dumps({
            "project_task_type": ort.get("type") or "object-detection",
            "model_type": ort.get("modelType") or "",
            "model_id": str(model_id),
        }),
    }
    classes = ort.get("classes")
    if isinstance(classes, list) and classes:
        names = check_class_names(classes, f"The model registry's classes of model '{model_id}'")
        files["class_names.txt"] = "\n".join(names) + "\n"
    if isinstance(ort.get("keypoints_metadata"), list):
        files["keypoints_metadata.json"] = json.dumps(ort["keypoints_metadata"])
    defaults = {"COLORS": ort["colors"]} if isinstance(ort.get("colors"), dict) else {}
    return ModelPackage(artifacts=artifacts, files=files, environment_defaults=defaults)
