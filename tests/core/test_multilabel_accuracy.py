"""The multi-label classifier fixture, filed the way Roboflow files one (MULTICLASS in environment.json)."""

from __future__ import annotations

import json

import pytest
from inference_core import CoreSettings, build_manager
from model_dirs import held_out_scenes, roboflow_model_dir

CLASSES = ["circle", "square", "triangle", "star"]
# Stated bar: the predicted set equals the set of shapes present (threshold 0.5).
MIN_EXACT_SET_ACCURACY = 0.85


@pytest.fixture(scope="module")
def model(tmp_path_factory, fixture_model_path):
    cache = tmp_path_factory.mktemp("multilabel")
    directory = roboflow_model_dir(cache, "shapes-ml/1", fixture_model_path("shapes-multilabel.onnx"),
                                   resize_format="Stretch to", size=224, model_type="vit", task="classification")
    environment = json.loads((directory / "environment.json").read_text())
    environment.update({"MULTICLASS": True, "CLASS_MAP": {str(i): name for i, name in enumerate(CLASSES)}})
    (directory / "environment.json").write_text(json.dumps(environment))
    (directory / "class_names.txt").unlink()  # classification takes its classes from CLASS_MAP
    return build_manager(CoreSettings(model_cache_dir=cache, intra_op_threads=1)).get("shapes-ml/1")


def test_predicted_sets_match_the_shapes_present(model):
    scenes = held_out_scenes(40, seed=970_000)
    responses = model.infer([scene.image for scene in scenes], confidence=0.5)
    exact = sum(
        set(response.predicted_classes) == {obj.class_name for obj in scene.objects}
        for scene, response in zip(scenes, responses)
    )
    print(f"exact-set accuracy {exact}/{len(scenes)}")
    assert exact >= MIN_EXACT_SET_ACCURACY * len(scenes)


def test_multilabel_response_lists_every_class(model):
    scene = held_out_scenes(1, seed=971_000)[0]
    body = model.infer(scene.image, confidence=0.5)[0].to_dict()
    assert set(body) == {"image", "predictions", "predicted_classes", "inference_id", "time"}
    assert set(body["predictions"]) == set(CLASSES)
    for name, entry in body["predictions"].items():
        assert entry["class_id"] == CLASSES.index(name) and 0.0 <= entry["confidence"] <= 1.0
    assert body["predicted_classes"] == [n for n in CLASSES if body["predictions"][n]["confidence"] >= 0.5]


def test_an_export_marked_multilabel_imports_as_multi_label(tmp_path, fixture_model_path):
    from inference_core.store import ModelStore

    artifact = ModelStore(tmp_path).import_ultralytics_onnx(fixture_model_path("shapes-multilabel.onnx"), "ml/1")
    assert artifact.environment.multiclass and artifact.task == "classification"
