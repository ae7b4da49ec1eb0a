"""Building model directories and held-out scenes for tests."""

from __future__ import annotations

import json
import shutil

import numpy as np
from synthetic_shapes import render_scene

HELD_OUT_SEED = 900_000  # training never used seeds this high
SCENE_SIZES = [(640, 480), (480, 640), (320, 320), (800, 450), (517, 333)]


def held_out_scenes(count: int, seed: int = HELD_OUT_SEED):
    scenes = []
    for index in range(count):
        width, height = SCENE_SIZES[index % len(SCENE_SIZES)]
        scenes.append(render_scene(np.random.default_rng(seed + index), width, height))
    return scenes


def roboflow_model_dir(cache, model_id, weights, resize_format="Fit (grey edges) in", size=320, extra_env=None,
                       model_type="yolov8n", task="object-detection", class_names=None):
    """A model directory as Roboflow's server writes it (not our import function)."""
    directory = cache / model_id
    directory.mkdir(parents=True)
    shutil.copyfile(weights, directory / "weights.onnx")
    environment = {"PREPROCESSING": json.dumps({
        "auto-orient": {"enabled": True},
        "resize": {"enabled": True, "width": size, "height": size, "format": resize_format},
        **(extra_env or {}),
    })}
    (directory / "environment.json").write_text(json.dumps(environment))
    names = class_names or ["circle", "square", "triangle", "star"]
    (directory / "class_names.txt").write_text("\n".join(names) + "\n")
    (directory / "model_type.json").write_text(json.dumps(
        {"project_task_type": task, "model_type": model_type, "model_id": model_id}))
    return directory


#: The YOLO-NAS, YOLO26 and semantic-segmentation fixtures as the server tests file them.
NAS_ID, SEMSEG_ID, UNSUPPORTED_ID = "shapes-nas/1", "shapes-semseg/1", "shapes-yolact/1"
#: YOLO26 exported both ways Ultralytics does (end-to-end; default, YOLOv8 layout), imported as a user would.
YOLO26_IDS = {"shapes-det-yolo26": "shapes-y26/1", "shapes-det-yolo26-nms": "shapes-y26-nms/1"}
SEMANTIC_CLASSES = ["background", "circle", "square", "triangle", "star"]


def file_models2_fixtures(cache, fixture_model_path):
    from inference_core.store import ModelStore

    roboflow_model_dir(cache, NAS_ID, fixture_model_path("shapes-det-yolonas.onnx"), model_type="yolo_nas_s")
    for name, model_id in YOLO26_IDS.items():
        ModelStore(cache).import_ultralytics_onnx(fixture_model_path(f"{name}.onnx"), model_id)
    roboflow_model_dir(cache, SEMSEG_ID, fixture_model_path("shapes-semseg-deeplab.onnx"), resize_format="Stretch to",
                       model_type="deeplabv3plus", task="semantic-segmentation", class_names=SEMANTIC_CLASSES)
    roboflow_model_dir(cache, UNSUPPORTED_ID, fixture_model_path("shapes-seg-yolov8.onnx"), model_type="yolact",
                       task="instance-segmentation")
