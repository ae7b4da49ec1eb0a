"""`inference workflows run` and `process-images` (resumable, JSONL or CSV), as a user runs them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import cv2
import pytest
from wf_specs import DETECT, DETECT_CROP_CLASSIFY_COUNT, image_input, output, spec, step

DRAWING = spec(
    [image_input()],
    [
        DETECT,
        step(
            "roboflow_core/property_definition@v1",
            "count",
            data="$steps.detect.predictions",
            operations=[{"type": "SequenceLength"}],
        ),
        step(
            "roboflow_core/bounding_box_visualization@v1",
            "draw",
            image="$inputs.image",
            predictions="$steps.detect.predictions",
        ),
    ],
    [output("count", "$steps.count.output"), output("drawn", "$steps.draw.image")],
)


def _cli(model_cache, *arguments, check=True):
    env = {**os.environ, "MODEL_CACHE_DIR": str(model_cache), "INTRA_OP_THREADS": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "inference_server.cli.main", *map(str, arguments)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if check:
        assert run.returncode == 0, run.stderr
    return run


@pytest.fixture
def folder(tmp_path, scenes):
    images = tmp_path / "images"
    (images / "nested").mkdir(parents=True)
    for index, scene in enumerate(scenes[:3]):
        target = images / ("nested" if index == 2 else "") / f"scene{index}.jpg"
        cv2.imwrite(str(target), scene.image)
    return images


def test_run_prints_outputs_for_each_image(model_cache, tmp_path, scenes, folder):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(DETECT_CROP_CLASSIFY_COUNT))
    run = _cli(
        model_cache,
        "workflows",
        "run",
        spec_path,
        "--image",
        folder / "scene0.jpg",
        "--image",
        folder / "scene1.jpg",
    )
    outputs = json.loads(run.stdout)
    assert [item["count"] for item in outputs] == [len(scene.objects) for scene in scenes[:2]]


def test_process_images_is_resumable_and_writes_image_outputs(model_cache, tmp_path, scenes, folder):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(DRAWING))
    out = tmp_path / "out"
    first = _cli(model_cache, "workflows", "process-images", folder, "--spec", spec_path, "--output", out)
    assert "3 processed, 0 already done, 0 failed" in first.stderr
    records = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(record["image"] for record in records) == ["nested/scene2.jpg", "scene0.jpg", "scene1.jpg"]
    by_name = {record["image"]: record for record in records}
    assert by_name["scene0.jpg"]["count"] == len(scenes[0].objects)
    drawn = cv2.imread(str(out / by_name["nested/scene2.jpg"]["drawn"]))
    assert drawn.shape == scenes[2].image.shape
    again = _cli(model_cache, "workflows", "process-images", folder, "--spec", spec_path, "--output", out)
    assert "0 processed, 3 already done" in again.stderr
    cv2.imwrite(str(folder / "scene3.jpg"), scenes[3].image)
    (folder / "notes.txt").write_text("not an image")
    more = _cli(model_cache, "workflows", "process-images", folder, "--spec", spec_path, "--output", out)
    assert "1 processed, 3 already done" in more.stderr
    assert len((out / "results.jsonl").read_text().splitlines()) == 4


def test_process_images_to_csv_and_reports_bad_images(model_cache, tmp_path, scenes, folder):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(DRAWING))
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    out = tmp_path / "csv-out"
    run = _cli(
        model_cache,
        "workflows",
        "process-images",
        folder,
        "--spec",
        spec_path,
        "--output",
        out,
        "--format",
        "csv",
        "--no-progress",
        check=False,
    )
    assert run.returncode == 1 and "broken.jpg" in run.stderr and "3 processed" in run.stderr
    with (out / "results.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["image"] for row in rows] == ["nested/scene2.jpg", "scene0.jpg", "scene1.jpg"]
    assert rows[1]["count"] == str(len(scenes[0].objects)) and rows[1]["drawn"].endswith(".jpg")
    again = _cli(
        model_cache,
        "workflows",
        "process-images",
        folder,
        "--spec",
        spec_path,
        "--output",
        out,
        "--format",
        "csv",
        check=False,
    )
    assert "0 processed, 3 already done, 1 failed" in again.stderr


def test_without_the_package_the_command_says_how_to_install_it(tmp_path):
    code = (
        "import sys; sys.modules['inference_workflows'] = None; "
        "from inference_server.cli.main import main; "
        f"sys.exit(main(['workflows', 'run', {str(tmp_path / 's.json')!r}, '--image', 'x.jpg']))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "pip install visionhost-workflows" in run.stderr


def test_the_readme_example_runs_as_documented(tmp_path, fixture_model_path, assets_dir):
    """The README's commands, on the committed example and sample image, into a fresh model cache."""
    from inference_core.store import ModelStore

    cache = tmp_path / "cache"
    ModelStore(cache).import_ultralytics_onnx(fixture_model_path("shapes-det-yolov8.onnx"), "shapes-detect/1")
    _cli(cache, "models", "import", fixture_model_path("shapes-cls.onnx"), "--model-id", "shapes-classify/1")
    example = (
        assets_dir.parent
        / "packages"
        / "inference-workflows"
        / "examples"
        / "detect_crop_classify_count.json"
    )
    sample = assets_dir / "images" / "shapes-sample.jpg"
    (result,) = json.loads(_cli(cache, "workflows", "run", example, "--image", sample).stdout)
    assert result["count"] == len(result["shapes"]["predictions"]) == len(result["crop_classes"]) > 0
    assert [item["class"] for item in result["shapes"]["predictions"]] == [
        c["top"] for c in result["crop_classes"]
    ]
    out = tmp_path / "out"
    _cli(cache, "workflows", "process-images", sample.parent, "--spec", example, "--output", out)
    records = {
        json.loads(line)["image"]: json.loads(line)
        for line in (out / "results.jsonl").read_text().splitlines()
    }
    images = [path for path in sample.parent.rglob("*") if path.suffix.lower() in (".jpg", ".jpeg", ".png")]
    assert len(records) == len(images)  # every image of the folder, sub-folders included
    record = records["shapes-sample.jpg"]
    assert record["count"] == result["count"]
    assert cv2.imread(str(out / record["drawn"])).shape == cv2.imread(str(sample)).shape
