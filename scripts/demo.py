"""In-process demo: detect shapes in the bundled sample image (or a given one) and print the JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from inference_core import CoreSettings, build_manager
from inference_core.store import ModelStore

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = REPO_ROOT / ".work" / "model-cache"
BUNDLED_MODEL = REPO_ROOT / "assets" / "models" / "shapes-det-yolov8.onnx"
SAMPLE_IMAGE = REPO_ROOT / "assets" / "images" / "shapes-sample.jpg"
MODEL_ID = "shapes-detect/1"


def main() -> None:
    image = sys.argv[1] if len(sys.argv) > 1 else str(SAMPLE_IMAGE)
    # Filed again each run, so a pulled update of the bundled model is never shadowed by an old copy.
    ModelStore(MODEL_CACHE).import_ultralytics_onnx(BUNDLED_MODEL, MODEL_ID, overwrite=True)
    manager = build_manager(CoreSettings(model_cache_dir=MODEL_CACHE))
    response = manager.get(MODEL_ID).infer(image, confidence=0.5)[0]
    print(json.dumps(response.to_dict(), indent=2))


if __name__ == "__main__":
    main()
