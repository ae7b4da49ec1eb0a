"""The `inference` command line, in-process: env files, the model store commands, infer."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from inference_server.cli.envfile import read_env_file
from inference_server.cli.main import build_parser, main


def test_env_file(tmp_path):
    path = tmp_path / "server.env"
    path.write_text('# comment\n\nPORT=9100\nexport API_KEY="quoted value"\nEMPTY=\nURL=a=b\n')
    assert read_env_file(path) == {"PORT": "9100", "API_KEY": "quoted value", "EMPTY": "", "URL": "a=b"}
    path.write_text("not a setting\n")
    with pytest.raises(ValueError, match="server.env:1"):
        read_env_file(path)


def test_parser_knows_every_command():
    parser = build_parser()
    start = parser.parse_args(["server", "start", "--port", "9100", "--local", "-v", "/a:/b", "-v", "/c:/d"])
    assert (start.port, start.local, start.volume) == (9100, True, ["/a:/b", "/c:/d"])
    infer = parser.parse_args(["infer", "x.jpg", "--model-id", "a/1", "--confidence", "0.5"])
    assert (infer.image, infer.model_id, infer.confidence, infer.api_url) == ("x.jpg", "a/1", "0.5", None)
    overlap = parser.parse_args(["infer", "x.jpg", "--model-id", "a/1", "--overlap", "0.6"])
    assert overlap.iou_threshold == "0.6" and overlap.max_detections is None
    assert parser.parse_args(["models", "remove", "a/1"]).model_id == "a/1"
    for command in (["server", "status"], ["server", "stop"], ["models", "list"]):
        assert callable(parser.parse_args(command).handler)


def test_plugins_lists_every_installed_plugin_and_what_it_registers(capsys):
    assert main(["plugins"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["PLUGIN", "DISTRIBUTION", "VERSION", "REGISTERS"]
    rows = {line.split()[0]: line for line in table[1:]}
    assert "visionhost-backend-onnx" in rows["onnx"] and "backends: onnx" in rows["onnx"]
    assert "model_sources: roboflow, http-folder, local-folder" in rows["core-sources"]
    assert "model_architectures: yolov8, yolov5, yolo-end2end" in rows["core-architectures"]
    assert main(["plugins", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"name", "distribution", "version", "registers", "error"} == set(listed[0])


def test_models_import_list_infer_remove(tmp_path, capsys, monkeypatch, fixture_model_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("MODEL_CACHE_DIR", str(cache))
    weights = fixture_model_path("shapes-det-yolov8.onnx")
    assert main(["models", "import", str(weights), "--model-id", "mine/3"]) == 0
    assert "Imported mine/3: object-detection, 4 classes" in capsys.readouterr().out
    assert main(["models", "import", str(weights), "--model-id", "mine/3"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["models", "list"]) == 0
    listing = capsys.readouterr().out
    assert "mine/3" in listing and "object-detection" in listing

    image = tmp_path / "blank.png"
    cv2.imwrite(str(image), np.full((64, 64, 3), 200, np.uint8))
    assert main(["infer", str(image), "--model-id", "mine/3"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["image"] == {"width": 64, "height": 64} and "predictions" in answer

    # options come from core's parameter definitions and get the server's verdicts
    assert main(["infer", str(image), "--model-id", "mine/3", "--confidence", "0.9", "--overlap", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["image"] == {"width": 64, "height": 64}
    assert main(["infer", str(image), "--model-id", "mine/3", "--max-detections", "many"]) == 1
    message = "Error: max_detections must be a whole number from 1 to 100000; got 'many'."
    assert message in capsys.readouterr().err
    assert main(["infer", str(image), "--model-id", "mine/3", "--confidence", "-1"]) == 1
    assert "confidence must be a number from 0 to 1" in capsys.readouterr().err

    assert main(["models", "remove", "mine/3"]) == 0
    assert main(["models", "remove", "mine/3"]) == 1
    assert "not in the model store" in capsys.readouterr().err
    assert main(["models", "import", str(tmp_path / "nope.onnx"), "--model-id", "x/1"]) == 2
    assert main(["models", "import", str(weights), "--model-id", "../../etc"]) == 1


def test_the_command_a_missing_model_message_gives_files_the_model_where_it_was_looked_for(
    tmp_path, capsys, monkeypatch, fixture_model_path
):
    import shlex

    from inference_core.api import get_model
    from inference_core.errors import ModelNotFoundError

    cache = tmp_path / "a cache"
    monkeypatch.setenv("MODEL_CACHE_DIR", str(cache))
    monkeypatch.setenv("OFFLINE_MODE", "true")
    with pytest.raises(ModelNotFoundError) as missing:
        get_model("shapes-detect/1")
    message = missing.value.message
    assert str(cache) in message
    command = shlex.split(message.split("`inference models import ", 1)[1].split("`", 1)[0])
    command[0] = str(fixture_model_path("shapes-det-yolov8.onnx"))  # MODEL.onnx: the user's export
    monkeypatch.delenv("MODEL_CACHE_DIR")  # the command alone says where
    assert main(["models", "import", *command]) == 0
    assert str(cache) in capsys.readouterr().out
    monkeypatch.setenv("MODEL_CACHE_DIR", str(cache))
    assert get_model("shapes-detect/1").task == "object-detection"


def test_cache_dir_is_accepted_before_and_after_the_action(tmp_path):
    parser = build_parser()
    before = parser.parse_args(["models", "--cache-dir", "/a", "list"])
    after = parser.parse_args(["models", "list", "--cache-dir", "/b"])
    neither = parser.parse_args(["models", "remove", "x/1"])
    assert (before.cache_dir, after.cache_dir, neither.cache_dir) == ("/a", "/b", None)
