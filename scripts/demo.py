"""In-process demo: detect shapes in the bundled sample image (or a given one) and print the JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from inference_core import CoreSettings, build_manager
from inference_core.store import ModelStore

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_MODEL = REPO_ROOT / "assets" / "models" / "shapes-det-yolov8.onnx"
SAMPLE_IMAGE = REPO_ROOT / "assets" / "images" / "shapes-sample.jpg"
MODEL_ID = "shapes-detect/1"


def main() -> None:
    image = sys.argv[1] if len(sys.argv) > 1 else str(SAMPLE_IMAGE)
    # Filed again each run, so a pulled update of the bundled model is never shadowed by an old copy.
    # The same model cache as the server, the CLI and get_model (MODEL_CACHE_DIR or its default).
    settings = CoreSettings.from_env()
    ModelStore(settings.model_cache_dir).import_ultralytics_onnx(BUNDLED_MODEL, MODEL_ID, overwrite=True)
    manager = build_manager(settings)
    response = manager.get(MODEL_ID).infer(image, confidence=0.5)[0]
    print(json.dumps(response.to_dict(), indent=2))


if __name__ == "__main__":
    main()
