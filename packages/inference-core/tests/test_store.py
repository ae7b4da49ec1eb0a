import json

import pytest
from inference_core import tasks
from inference_core.errors import InvalidInputError, ModelArtifactError, ModelNotFoundError
from inference_core.onnx_metadata import read_onnx_metadata
from inference_core.store import ModelStore

DETECTOR = "shapes-det-yolov8.onnx"


def write_model(directory, weights, environment=None, class_names=None, model_type=None):
    directory.mkdir(parents=True)
    (directory / "weights.onnx").write_bytes(weights.read_bytes())
    if environment is not None:
        (directory / "environment.json").write_text(json.dumps(environment))
    if class_names is not None:
        (directory / "class_names.txt").write_text("\n".join(class_names) + "\n")
    if model_type is not None:
        (directory / "model_type.json").write_text(json.dumps(model_type))


def test_reads_roboflow_layout_with_preprocessing_as_a_json_string(tmp_path, fixture_model_path):
    preprocessing = {
        "auto-orient": {"enabled": False},
        "resize": {"enabled": True, "width": 320, "height": 320, "format": "Fit (black edges) in"},
        "static-crop": {"enabled": True, "x_min": 10, "y_min": 20, "x_max": 90, "y_max": 80},
        "grayscale": {"enabled": True},
        "contrast": {"enabled": True, "type": "Adaptive Equalization"},
    }
    environment = {"PREPROCESSING": json.dumps(preprocessing), "CLASS_MAP": {"0": "x"}, "COLORS": {"a": "#FF0000"}}
    write_model(tmp_path / "proj" / "3", fixture_model_path(DETECTOR), environment, ["a", "b", "c", "d"],
                {"project_task_type": "object-detection", "model_type": "yolov8n"})
    artifact = ModelStore(tmp_path).read("proj/3")
    config = artifact.environment.preprocessing
    assert artifact.class_names == ["a", "b", "c", "d"]  # class_names.txt wins over CLASS_MAP
    assert (artifact.task, artifact.model_type) == (tasks.OBJECT_DETECTION, "yolov8n")
    assert config.resize_mode == "Fit (black edges) in" and config.letterbox_colour == (0, 0, 0)
    assert not config.auto_orient and config.grayscale and config.contrast == "Adaptive Equalization"
    assert (config.static_crop.x_min, config.static_crop.y_max) == (10, 80)
    assert artifact.environment.colors == {"a": "#FF0000"}
    assert ModelStore(tmp_path).list_models() == ["proj/3"]


def test_missing_and_broken_models(tmp_path, fixture_model_path):
    store = ModelStore(tmp_path)
    with pytest.raises(ModelNotFoundError):
        store.read("nothing/1")
    write_model(tmp_path / "bad" / "1", fixture_model_path(DETECTOR))
    (tmp_path / "bad" / "1" / "environment.json").write_text("{not json")
    with pytest.raises(ModelArtifactError):
        store.read("bad/1")


def test_import_ultralytics_export_writes_the_roboflow_layout(tmp_path, fixture_model_path):
    source = fixture_model_path(DETECTOR)
    metadata = read_onnx_metadata(source)
    assert metadata["task"] == "detect"
    store = ModelStore(tmp_path)
    artifact = store.import_ultralytics_onnx(source, "my-shapes/1")
    directory = tmp_path / "my-shapes" / "1"
    assert sorted(path.name for path in directory.iterdir()) == [
        "class_names.txt", "environment.json", "model_type.json", "weights.onnx",
    ]
    assert artifact.class_names == ["circle", "square", "triangle", "star"]
    assert artifact.environment.preprocessing.resize_mode == "Fit (grey edges) in"
    assert artifact.environment.is_ultralytics_import
    assert json.loads((directory / "model_type.json").read_text())["project_task_type"] == "object-detection"
    with pytest.raises(InvalidInputError, match="already exists"):
        store.import_ultralytics_onnx(source, "my-shapes/1")
    assert not [path for path in (tmp_path / "my-shapes").iterdir() if path.name.startswith(".")]


def test_import_refuses_files_without_ultralytics_metadata(tmp_path):
    not_onnx = tmp_path / "weights.onnx"
    not_onnx.write_bytes(b"\x08\x07")  # a valid protobuf with no metadata
    with pytest.raises(InvalidInputError, match="no Ultralytics metadata"):
        ModelStore(tmp_path / "cache").import_ultralytics_onnx(not_onnx, "x/1")
    assert not (tmp_path / "cache" / "x" / "1").exists()
