"""Run the same workflow specifications on our server and on Roboflow's open-source server
(`inference-cpu==1.8.3`, run offline from its own venv as bench/ does), on the same fixture
models and images, and write where the answers agree and where they differ.

    .venv/bin/python tools/workflows_compare/compare.py --roboflow-venv PATH [--out DIR]

Both servers read one model cache in Roboflow's layout. Random parts of an answer (detection
and inference ids, crop ids, timestamps) are left out; boxes are compared within a pixel,
confidences within 0.02, images by their decoded pixels (mean absolute difference).
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import cv2
import httpx
import numpy as np

TOOL_DIR = Path(__file__).resolve().parent
REPO = TOOL_DIR.parents[1]
sys.path[:0] = [str(REPO / "tools"), str(REPO / "tests" / "support"), str(REPO / "bench"), str(TOOL_DIR)]

import servers  # noqa: E402  (bench/servers.py)
import specs  # noqa: E402
from model_dirs import held_out_scenes, roboflow_model_dir  # noqa: E402

ASSETS = REPO / "assets" / "models"
API_KEY = "compare-key"
IGNORED_KEYS = {
    "detection_id",
    "inference_id",
    "time",
    "frame_timestamp",
    "video_identifier",
    "measured_fps",
    "total_frames",
    "comes_from_video_file",
}
UUID_LIKE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
BOX_TOLERANCE = 1.0
CONFIDENCE_TOLERANCE = 0.02
IMAGE_TOLERANCE = 6.0  # mean absolute difference, 0-255, of decoded JPEGs


def build_cache(cache: Path) -> None:
    roboflow_model_dir(cache, specs.DETECTOR, ASSETS / "shapes-det-yolov8.onnx")
    roboflow_model_dir(
        cache,
        specs.SEGMENTER,
        ASSETS / "shapes-seg-yolov8.onnx",
        model_type="yolov8n-seg",
        task="instance-segmentation",
    )
    pose = roboflow_model_dir(
        cache,
        specs.POSE,
        ASSETS / "shapes-pose-yolov8.onnx",
        model_type="yolov8n-pose",
        task="keypoint-detection",
        class_names=["square"],
    )
    keypoints = {str(index): f"keypoint_{index}" for index in range(4)}
    (pose / "keypoints_metadata.json").write_text(
        json.dumps([{"object_class_id": 0, "keypoints": keypoints}])
    )
    classifier = roboflow_model_dir(
        cache,
        specs.CLASSIFIER,
        ASSETS / "shapes-cls.onnx",
        model_type="yolov8n",
        task="classification",
        resize_format="Stretch to",
        size=64,
    )
    environment = json.loads((classifier / "environment.json").read_text())
    environment["CLASS_MAP"] = {
        str(index): name for index, name in enumerate(["circle", "square", "triangle", "star"])
    }
    (classifier / "environment.json").write_text(json.dumps(environment))


CANDIDATE_SCENES = 10
SCENE_SEED = 960_000
MODEL_ROUTES = {
    specs.DETECTOR: "object_detection",
    specs.SEGMENTER: "instance_segmentation",
    specs.POSE: "keypoints_detection",
}


def choose_scenes(ours_url: str, roboflow_url: str, wanted: int = 2) -> tuple[list[np.ndarray], list[dict]]:
    """Scenes on which the two servers' own model routes agree, so that what the workflows answer
    differently is the engine's doing; the scenes left out are reported with the models' difference."""
    chosen, left_out = [], []
    for index, scene in enumerate(held_out_scenes(CANDIDATE_SCENES, seed=SCENE_SEED)):
        found = []
        for model_id, route in MODEL_ROUTES.items():
            answers = [
                httpx.post(
                    f"{url}/infer/{route}",
                    json={
                        "api_key": API_KEY,
                        "model_id": model_id,
                        "image": _encoded(scene.image),
                        "confidence": 0.5,
                    },
                    timeout=600,
                ).json()["predictions"]
                for url in (ours_url, roboflow_url)
            ]
            # polygon detail (a few contour points) differs between the two mask decoders; boxes,
            # classes and confidences must agree
            found += [
                f"{model_id}: {item}"
                for item in differences(answers[0], answers[1], "predictions")
                if ".points" not in item
            ]
        if found:
            left_out.append({"scene": f"seed {SCENE_SEED + index}", "model_differences": found[:5]})
        elif len(chosen) < wanted:
            chosen.append(scene.image)
    return chosen, left_out


#: Roboflow's server (old model loader) fails classifying more than one image in a step ("not aligned
#: indices"), so its classification is compared on one image
SINGLE_IMAGE_CASES = ("classify_images_v1_and_v2",)


def images_for(case: str, scenes: list[np.ndarray]) -> dict:
    if case == "slicer_and_stitch":
        return {"image": _encoded(cv2.resize(scenes[0], None, fx=2, fy=2))}
    if case == "codes":
        return {"image": _encoded(_code_page())}
    if case == "tracking_in_one_batch":  # one scene moving right 40 px per frame, three frames
        frames = []
        for shift in (0, 40, 80):
            frame = np.full_like(scenes[0], 114)
            frame[:, shift:] = scenes[0][:, : scenes[0].shape[1] - shift]
            frames.append(_encoded(frame))
        return {"image": frames}
    if case in SINGLE_IMAGE_CASES:
        return {"image": _encoded(scenes[0])}
    return {"image": [_encoded(image) for image in scenes]}


def _code_page() -> np.ndarray:
    import zxingcpp

    page = np.full((400, 700, 3), 255, np.uint8)
    qr = cv2.resize(
        cv2.QRCodeEncoder.create().encode("visionhost"), (150, 150), interpolation=cv2.INTER_NEAREST
    )
    page[40:190, 40:190] = qr[..., None]
    bar = np.array(zxingcpp.create_barcode("123456789012", zxingcpp.BarcodeFormat.EAN13).to_image(scale=3))
    page[220 : 220 + bar.shape[0], 300 : 300 + bar.shape[1]] = bar[..., None]
    return page


def _encoded(image: np.ndarray) -> dict:
    return {"type": "base64", "value": base64.b64encode(cv2.imencode(".png", image)[1].tobytes()).decode()}


def run_case(url: str, specification: dict, inputs: dict) -> tuple[int, object, float]:
    started = time.perf_counter()
    answer = httpx.post(
        f"{url}/workflows/run",
        json={"api_key": API_KEY, "specification": specification, "inputs": inputs},
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    try:
        body = answer.json()
    except ValueError:
        body = answer.text[:500]
    return answer.status_code, body, elapsed


def differences(ours: object, theirs: object, path: str = "") -> list[str]:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        if ours.get("type") == "base64" and theirs.get("type") == "base64":
            return _image_difference(ours, theirs, path)
        found = []
        for key in sorted(set(ours) | set(theirs)):
            if key in IGNORED_KEYS or key == "value" and "type" in ours:
                continue
            if key not in ours or key not in theirs:
                found.append(f"{path}.{key}: only in {'ours' if key in ours else 'roboflow'}")
                continue
            found.extend(differences(ours[key], theirs[key], f"{path}.{key}"))
        return found
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return [f"{path}: {len(ours)} items in ours, {len(theirs)} in roboflow"]
        return [
            found
            for index, (a, b) in enumerate(zip(ours, theirs))
            for found in differences(a, b, f"{path}[{index}]")
        ]
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and not isinstance(ours, bool):
        return [] if abs(ours - theirs) <= _tolerance(path, ours, theirs) else [f"{path}: {ours} vs {theirs}"]
    if isinstance(ours, str) and isinstance(theirs, str):
        if UUID_LIKE.search(ours) and UUID_LIKE.search(theirs):
            return []
        if "timestamp" in ours and "timestamp" in theirs:  # CSV with a timestamp column
            return [] if _csv_without_time(ours) == _csv_without_time(theirs) else [f"{path}: CSV differs"]
    return [] if ours == theirs else [f"{path}: {_short(ours)} vs {_short(theirs)}"]


GEOMETRY_KEYS = ("x", "y", "width", "height", "offset_x", "offset_y", "angle")
GEOMETRY_PARTS = (".rect[", ".points[", ".keypoints[", ".center", ".left_most", "velocity", "speed")


def _tolerance(path: str, ours: float, theirs: float) -> float:
    """Pixels for geometry, 0.02 for confidences, exact for counts and other whole numbers."""
    last = path.rsplit(".", 1)[-1]
    if last in GEOMETRY_KEYS or any(part in path for part in GEOMETRY_PARTS):
        return BOX_TOLERANCE
    if "confidence" in last or last == "time_in_zone":
        return CONFIDENCE_TOLERANCE
    if isinstance(ours, int) and isinstance(theirs, int):
        return 0
    return 1e-6 + 1e-6 * max(abs(ours), abs(theirs))


def _csv_without_time(text: str) -> list[list[str]]:
    rows = [line.split(",") for line in text.strip().splitlines()]
    column = rows[0].index("timestamp")
    return [[cell for index, cell in enumerate(row) if index != column] for row in rows]


def _image_difference(ours: dict, theirs: dict, path: str) -> list[str]:
    a, b = (
        cv2.imdecode(np.frombuffer(base64.b64decode(item["value"]), np.uint8), cv2.IMREAD_COLOR)
        for item in (ours, theirs)
    )
    if a is None or b is None or a.shape != b.shape:
        return [f"{path}: image shapes {None if a is None else a.shape} vs {None if b is None else b.shape}"]
    mean = float(np.abs(a.astype(int) - b.astype(int)).mean())
    found = [] if mean <= IMAGE_TOLERANCE else [f"{path}: images differ (mean abs {mean:.1f})"]
    for key in ("parent_origin", "root_parent_origin"):
        if (key in ours) != (key in theirs) or ours.get(key) != theirs.get(key):
            found.append(f"{path}.{key}: {ours.get(key)} vs {theirs.get(key)}")
    return found


def _short(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else value
    return text if len(text) < 120 else text[:117] + "..."


def compare_all(ours_url: str, roboflow_url: str) -> dict:
    scenes, left_out = choose_scenes(ours_url, roboflow_url)
    results: dict = {"cases": {}, "bad_specifications": {}, "scenes_left_out": left_out}
    for name, specification in specs.CASES.items():
        inputs = images_for(name, scenes)
        ours_status, ours_body, ours_s = run_case(ours_url, specification, inputs)
        theirs_status, theirs_body, theirs_s = run_case(roboflow_url, specification, inputs)
        entry = {
            "ours_status": ours_status,
            "roboflow_status": theirs_status,
            "ours_seconds": round(ours_s, 3),
            "roboflow_seconds": round(theirs_s, 3),
        }
        if ours_status == theirs_status == 200:
            found = differences(ours_body["outputs"], theirs_body["outputs"], "outputs")
            entry.update(
                result="match" if not found else "differs",
                differences=found[:25],
                difference_count=len(found),
            )
        else:
            entry.update(
                result="error", ours_message=_message(ours_body), roboflow_message=_message(theirs_body)
            )
        results["cases"][name] = entry
        print(f"{name}: {entry['result']} ({entry.get('difference_count', '')})", file=sys.stderr)
    for name, specification in specs.BAD_CASES.items():
        inputs = images_for(name, scenes)
        ours_status, ours_body, _ = run_case(ours_url, specification, inputs)
        theirs_status, theirs_body, _ = run_case(roboflow_url, specification, inputs)
        results["bad_specifications"][name] = {
            "ours_status": ours_status,
            "roboflow_status": theirs_status,
            "ours_message": _message(ours_body),
            "roboflow_message": _message(theirs_body),
        }
    return results


def _message(body: object) -> str:
    if isinstance(body, dict):
        return _short(body.get("message") or body)
    return _short(body)


def write_report(results: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        f"# Workflows: ours vs Roboflow inference {results['roboflow_version']}",
        "",
        f"{results['date']}, same fixture models and images, offline. `match`: every output agrees "
        "(boxes within 1 px, confidences within 0.02, images by decoded pixels).",
        "",
        "| case | result | differences (first) | ours s | roboflow s |",
        "|---|---|---|---|---|",
    ]
    for name, entry in results["cases"].items():
        if entry["result"] == "error":
            detail = (
                f"ours {entry['ours_status']}: {entry['ours_message']}; roboflow {entry['roboflow_status']}: "
                f"{entry['roboflow_message']}"
            )
        else:
            detail = "; ".join(entry["differences"][:2]) if entry["differences"] else ""
        lines.append(
            f"| `{name}` | {entry['result']} | {detail.replace('|', '/')} | {entry['ours_seconds']} | "
            f"{entry['roboflow_seconds']} |"
        )
    lines += [
        "",
        f"Scenes are chosen where both servers' own model routes agree; left out ({len(results['scenes_left_out'])} "
        f"of {CANDIDATE_SCENES}), with the models' difference:",
        "",
    ]
    lines += [
        f"- {entry['scene']}: {'; '.join(entry['model_differences'][:2])}"
        for entry in results["scenes_left_out"]
    ]
    lines += ["", "Bad specifications (status codes):", "", "| case | ours | roboflow |", "|---|---|---|"]
    for name, entry in results["bad_specifications"].items():
        lines.append(f"| `{name}` | {entry['ours_status']} | {entry['roboflow_status']} |")
    (out / "results.md").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roboflow-venv", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=TOOL_DIR / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="workflows-compare-") as scratch:
        scratch_path = Path(scratch)
        cache = scratch_path / "cache"
        build_cache(cache)
        ours = servers.ours(cache, servers.free_port(), scratch_path / "ours.log", 0)
        theirs = servers.roboflow(
            args.roboflow_venv,
            cache,
            servers.free_port(),
            scratch_path / "roboflow.log",
            {"DISABLE_WORKFLOW_ENDPOINTS": "False"},
        )
        ours.start()
        try:
            theirs.start(timeout=600)
            try:
                results = compare_all(f"http://127.0.0.1:{ours.port}", f"http://127.0.0.1:{theirs.port}")
            finally:
                theirs.stop()
                print((scratch_path / "roboflow.log").read_text()[-3000:], file=sys.stderr)
        finally:
            ours.stop()
    results["date"] = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results["roboflow_version"] = "1.8.3"
    write_report(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
