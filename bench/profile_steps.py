"""CPU time of each step of one request, in-process (process_time, so other load matters less).

.venv/bin/python bench/profile_steps.py [--model bench/1]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(label: str, function, repeat: int) -> object:
    result = function()
    started = time.process_time()
    for _ in range(repeat):
        result = function()
    print(f"{label:32} {(time.process_time() - started) / repeat * 1000:8.3f} ms cpu")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="bench/1")
    parser.add_argument("--cache", default=str(Path.home() / ".cache/visionhost-bench/models"))
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ["MODEL_CACHE_DIR"] = args.cache
    os.environ.setdefault("INTRA_OP_THREADS", "1")
    from inference_core.api import get_model
    from inference_core.params import InferenceParams

    model = get_model(args.model)
    jpeg = (REPO / "assets/images/shapes-sample.jpg").read_bytes()
    text = base64.b64encode(jpeg).decode()
    body = json.dumps(
        {"model_id": args.model, "image": {"type": "base64", "value": text}, "confidence": 0.25}
    )
    params = InferenceParams.from_kwargs(confidence=0.25)
    loader = model.image_loader
    repeat = args.repeat
    timed("json.loads body", lambda: json.loads(body), repeat)
    timed("base64 decode (loader)", lambda: loader._decode_base64(text), repeat)
    image = timed("decode jpeg bytes", lambda: loader.load(jpeg), repeat)
    prepared = timed("preprocess (letterbox+tensor)", lambda: model.preprocess(image, params), repeat)
    outputs = timed("forward", lambda: model.forward([prepared.tensor]), max(3, repeat // 4))
    response = timed("postprocess", lambda: model.finish(outputs[0], prepared, params), repeat)
    payload = timed("to_dict", response.to_dict, repeat)
    timed("json.dumps response", lambda: json.dumps(payload).encode(), repeat)
    try:
        import orjson

        timed("orjson.dumps response", lambda: orjson.dumps(payload), repeat)
    except ImportError:
        pass
    timed("whole infer(bytes)", lambda: model.infer(jpeg, confidence=0.25), max(3, repeat // 4))
    print("predictions", len(payload["predictions"]))


if __name__ == "__main__":
    main()
