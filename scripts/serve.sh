#!/usr/bin/env sh
# The main job: set up (idempotent), file the bundled demo model in the model cache every entry
# point uses (MODEL_CACHE_DIR, default ~/.cache/visionhost/models), and serve on 0.0.0.0:9001.
#   base64 -w0 assets/images/shapes-sample.jpg | curl -s -X POST "http://localhost:9001/shapes-detect/1?confidence=0.5" \
#        -H "Content-Type: application/x-www-form-urlencoded" --data-binary @-
set -eu
cd "$(dirname "$0")/.."
./scripts/setup.sh
# Filed again on every start, so a pulled update of the bundled model is never shadowed by an old copy.
.venv/bin/inference models import assets/models/shapes-det-yolov8.onnx --model-id shapes-detect/1 --overwrite
export PRELOAD_MODELS="${PRELOAD_MODELS:-shapes-detect/1}"
exec .venv/bin/python -m inference_server
