"""The main job until the server lands: detect shapes in the bundled sample image, print JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from inference_core import CoreSettings, build_manager

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_CACHE = REPO_ROOT / "assets" / "model-cache"
SAMPLE_IMAGE = REPO_ROOT / "assets" / "images" / "shapes-sample.jpg"
MODEL_ID = "shapes-detect/1"


def main() -> None:
    image = sys.argv[1] if len(sys.argv) > 1 else str(SAMPLE_IMAGE)
    manager = build_manager(CoreSettings(model_cache_dir=MODEL_CACHE))
    response = manager.get(MODEL_ID).infer(image, confidence=0.5)[0]
    print(json.dumps(response.to_dict(), indent=2))


if __name__ == "__main__":
    main()
