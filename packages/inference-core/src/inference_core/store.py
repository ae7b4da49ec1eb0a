"""The on-disk model store, in the layout Roboflow Inference writes under MODEL_CACHE_DIR.

`{cache}/{project}/{version}/` holds `weights.onnx` (or `weights.xml` + `weights.bin`),
`environment.json`, `class_names.txt`, `model_type.json` and, for pose, `keypoints_metadata.json`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference_core import tasks
from inference_core.environment import (
    RFDETR_SOURCE,
    SOURCE_KEY,
    ULTRALYTICS_SOURCE,
    ModelEnvironment,
    parse_environment,
)
from inference_core.errors import InvalidInputError, ModelArtifactError, ModelNotFoundError
from inference_core.model_ids import parse_model_id
from inference_core.onnx_metadata import TensorInfo, parse_literal, read_onnx_io, read_onnx_metadata

WEIGHTS_FILES = ("weights.onnx", "weights.xml")


@dataclass
class ModelArtifact:
    """Everything on disk about one model, parsed."""

    model_id: str
    directory: Path
    weights_path: Path
    task: str
    model_type: str
    class_names: list[str]
    environment: ModelEnvironment
    keypoints_metadata: list[dict[str, Any]] | None = None
    file_metadata: dict[str, str] = field(default_factory=dict)

    def keypoint_names(self, class_id: int) -> dict[int, str]:
        for entry in self.keypoints_metadata or []:
            if int(entry.get("object_class_id", -1)) == class_id:
                return {int(key): str(name) for key, name in entry.get("keypoints", {}).items()}
        return {}


class ModelStore:
    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = Path(cache_dir)

    def model_dir(self, model_id: str) -> Path:
        parsed = parse_model_id(model_id)
        return self.cache_dir / parsed.project / parsed.version

    def import_hint(self, model_id: str) -> str:
        """Where this store is and the exact command that files a local ONNX export there."""
        return (
            f"The model cache looked in is {self.cache_dir}; to put a local ONNX export there: "
            f"`inference models import MODEL.onnx --model-id {parse_model_id(model_id)} "
            f"--cache-dir {shlex.quote(str(self.cache_dir))}`."
        )

    def has(self, model_id: str) -> bool:
        directory = self.model_dir(model_id)
        return any((directory / name).is_file() for name in WEIGHTS_FILES)

    def list_models(self) -> list[str]:
        if not self.cache_dir.is_dir():
            return []
        found = []
        for weights in sorted(self.cache_dir.glob("*/*/weights.*")):
            # dot-named directories are staging or bookkeeping (.staging, .locks), never models
            hidden = weights.parent.name.startswith(".") or weights.parent.parent.name.startswith(".")
            if weights.name in WEIGHTS_FILES and not hidden:
                found.append(f"{weights.parent.parent.name}/{weights.parent.name}")
        return found

    def task_of(self, model_id: str) -> str:
        """The model's task, from `model_type.json` when it says (no need to read the weights)."""
        filed = _read_json(self.model_dir(model_id) / "model_type.json", default={})
        named = filed.get("project_task_type") if isinstance(filed, dict) else None
        return tasks.normalise_task(str(named or "")) or self.read(model_id).task

    def remove(self, model_id: str) -> None:
        directory = self.model_dir(model_id)
        if not directory.is_dir():
            raise ModelNotFoundError(f"Model {model_id!r} is not in the model store ({self.cache_dir}).")
        shutil.rmtree(directory)

    def read(self, model_id: str) -> ModelArtifact:
        directory = self.model_dir(model_id)
        weights = next((directory / name for name in WEIGHTS_FILES if (directory / name).is_file()), None)
        if weights is None:
            raise ModelNotFoundError(
                f"Model {model_id!r} is not in the model cache. {self.import_hint(model_id)}"
            )
        environment_raw = _read_json(directory / "environment.json", default={})
        environment = parse_environment(environment_raw)
        file_metadata = read_onnx_metadata(weights) if weights.suffix == ".onnx" else {}
        model_type_info = _read_json(directory / "model_type.json", default={})
        return ModelArtifact(
            model_id=str(parse_model_id(model_id)),
            directory=directory,
            weights_path=weights,
            task=_task(model_type_info, file_metadata),
            model_type=str(model_type_info.get("model_type") or _model_type_from(file_metadata)),
            class_names=_class_names(directory, environment, file_metadata),
            environment=environment,
            keypoints_metadata=_read_json(directory / "keypoints_metadata.json", default=None),
            file_metadata=file_metadata,
        )

    def import_onnx(
        self, onnx_path: Path, model_id: str, overwrite: bool = False, class_names: list[str] | None = None
    ) -> ModelArtifact:
        """Bring your own model: tell an Ultralytics export (its metadata) from an RF-DETR export (its
        `dets` / `labels` / `masks` outputs) and file it under `model_id`."""
        onnx_path = Path(onnx_path)
        metadata = read_onnx_metadata(onnx_path)
        if "task" in metadata and "names" in metadata:
            return self.import_ultralytics_onnx(onnx_path, model_id, overwrite)
        inputs, outputs = read_onnx_io(onnx_path)
        if _looks_like_rfdetr(outputs):
            return self.import_rfdetr_onnx(onnx_path, model_id, overwrite, class_names, (inputs, outputs))
        raise InvalidInputError(
            f"Cannot tell what kind of export {onnx_path.name} is: it has no Ultralytics metadata (task, names) "
            f"and its outputs {[output.name for output in outputs]} are not RF-DETR's (dets, labels[, masks]). "
            "Export it with Ultralytics' `model.export(format='onnx')` or the rfdetr package's `model.export()`."
        )

    def import_rfdetr_onnx(
        self,
        onnx_path: Path,
        model_id: str,
        overwrite: bool = False,
        class_names: list[str] | None = None,
        io: tuple[list[TensorInfo], list[TensorInfo]] | None = None,
    ) -> ModelArtifact:
        """File an export of the `rfdetr` package (`model.export()`): stretch resize, ImageNet normalisation."""
        onnx_path = Path(onnx_path)
        inputs, outputs = io or read_onnx_io(onnx_path)
        if not _looks_like_rfdetr(outputs) or len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise InvalidInputError(f"{onnx_path.name} is not an RF-DETR export (one NCHW input; dets, labels).")
        labels = next(output for output in outputs if "labels" in output.name)
        columns = labels.shape[-1]
        if not class_names:
            raise InvalidInputError(
                f"{onnx_path.name} is an RF-DETR export, which carries no class names; pass them "
                f"(--class-names a,b,c or a file with one per line; it scores {columns} columns, "
                "usually the classes plus one for 'no object')."
            )
        if isinstance(columns, int) and len(class_names) > columns:
            raise InvalidInputError(
                f"{len(class_names)} class names given but {onnx_path.name} scores only {columns} classes."
            )
        height, width = inputs[0].shape[2], inputs[0].shape[3]
        if not isinstance(height, int) or not isinstance(width, int):
            raise InvalidInputError(f"{onnx_path.name} has no fixed input size ({inputs[0].shape}).")
        task = tasks.INSTANCE_SEGMENTATION if any("masks" in output.name for output in outputs) else tasks.OBJECT_DETECTION
        directory = self.model_dir(model_id)
        if directory.exists() and not overwrite:
            raise InvalidInputError(f"Model {model_id!r} already exists; pass overwrite to replace it.")
        environment = {
            "PREPROCESSING": {"resize": {"enabled": True, "width": width, "height": height, "format": "Stretch to"}},
            "CLASS_MAP": {str(index): name for index, name in enumerate(class_names)},
            SOURCE_KEY: RFDETR_SOURCE,
        }
        files = {
            "environment.json": json.dumps(environment, indent=2),
            "class_names.txt": "\n".join(class_names) + "\n",
            "model_type.json": json.dumps({"project_task_type": task, "model_type": "rfdetr", "model_id": model_id}),
        }
        _write_model_directory(directory, onnx_path, files)
        return self.read(model_id)

    def import_ultralytics_onnx(self, onnx_path: Path, model_id: str, overwrite: bool = False) -> ModelArtifact:
        """Bring your own model: file a plain Ultralytics ONNX export under `model_id`."""
        onnx_path = Path(onnx_path)
        metadata = read_onnx_metadata(onnx_path)
        task = tasks.normalise_task(metadata.get("task", ""))
        names = parse_literal(metadata.get("names"), default=None)
        if task is None or not isinstance(names, dict):
            raise InvalidInputError(
                f"{onnx_path.name} has no Ultralytics metadata (task, names); export it with "
                "Ultralytics' `model.export(format='onnx')`."
            )
        directory = self.model_dir(model_id)
        if directory.exists() and not overwrite:
            raise InvalidInputError(
                f"Model {model_id!r} already exists; pass --overwrite (overwrite=True in Python) to replace it."
            )
        _write_model_directory(directory, onnx_path, _import_files(model_id, metadata, task, names))
        return self.read(model_id)


def _looks_like_rfdetr(outputs: list[TensorInfo]) -> bool:
    """RF-DETR exports answer `dets` (B, Q, 4) and `labels` (B, Q, C), and `masks` (B, Q, h, w) for segmentation."""
    by_name = {key: next((o for o in outputs if key in o.name), None) for key in ("dets", "labels")}
    dets, labels = by_name["dets"], by_name["labels"]
    return (
        dets is not None and labels is not None and len(dets.shape) == 3 and len(labels.shape) == 3
        and dets.shape[-1] == 4
    )


def _import_files(model_id: str, metadata: dict[str, str], task: str, names: dict) -> dict[str, str]:
    size = parse_literal(metadata.get("imgsz"), default=[640, 640])
    height, width = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    resize_format = "Stretch to" if task == tasks.CLASSIFICATION else "Fit (grey edges) in"
    class_names = [str(names[key]) for key in sorted(names)]
    environment = {
        "PREPROCESSING": {"resize": {"enabled": True, "width": width, "height": height, "format": resize_format}},
        "CLASS_MAP": {str(index): name for index, name in enumerate(class_names)},
        SOURCE_KEY: ULTRALYTICS_SOURCE,
    }
    if parse_literal(metadata.get("multilabel"), default=False) is True:
        environment["MULTICLASS"] = True
    files = {
        "environment.json": json.dumps(environment, indent=2),
        "class_names.txt": "\n".join(class_names) + "\n",
        "model_type.json": json.dumps(
            {"project_task_type": task, "model_type": _model_type_from(metadata), "model_id": model_id}
        ),
    }
    keypoint_shape = parse_literal(metadata.get("kpt_shape"), default=None)
    if task == tasks.KEYPOINT_DETECTION and keypoint_shape:
        files["keypoints_metadata.json"] = json.dumps(
            _keypoints_metadata(int(keypoint_shape[0]), len(class_names), metadata.get("kpt_names"))
        )
    return files


def _keypoints_metadata(count: int, num_classes: int, names_literal: str | None) -> list[dict[str, Any]]:
    """Roboflow's keypoints_metadata.json, naming points from the export's `kpt_names` if any."""
    names_by_class = parse_literal(names_literal, default={}) or {}
    entries = []
    for class_id in range(num_classes):
        names = names_by_class.get(class_id) or names_by_class.get(str(class_id)) or []
        keypoints = {str(index): str(names[index]) if index < len(names) else f"keypoint_{index}" for index in range(count)}
        entries.append({"object_class_id": class_id, "keypoints": keypoints})
    return entries


def _write_model_directory(directory: Path, weights: Path, files: dict[str, str]) -> None:
    """Write into a temporary sibling, then swap it in, so a failure leaves nothing half-written."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", dir=directory.parent))
    try:
        shutil.copyfile(weights, staging / "weights.onnx")
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _read_json(path: Path, default: Any) -> Any:
    if not path.is_file():
        return default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelArtifactError(f"{path.name} of model in {path.parent} is not valid JSON.") from error


def _task(model_type_info: dict[str, Any], metadata: dict[str, str]) -> str:
    for candidate in (model_type_info.get("project_task_type"), metadata.get("task")):
        if isinstance(candidate, str) and tasks.normalise_task(candidate):
            return tasks.normalise_task(candidate)
    return tasks.OBJECT_DETECTION


def _model_type_from(metadata: dict[str, str]) -> str:
    match = re.search(r"YOLO\s*(v?\d+[a-z]*)", metadata.get("description", ""), re.IGNORECASE)
    return f"yolo{match.group(1).lower()}" if match else "ultralytics"


def _class_names(directory: Path, environment: ModelEnvironment, metadata: dict[str, str]) -> list[str]:
    names_file = directory / "class_names.txt"
    if names_file.is_file():
        lines = names_file.read_text(encoding="utf-8").splitlines()
        return [line.strip() for line in lines if line.strip()]
    if environment.class_map:
        return [environment.class_map[key] for key in sorted(environment.class_map)]
    names = parse_literal(metadata.get("names"), default={})
    return [str(names[key]) for key in sorted(names)] if isinstance(names, dict) else []
