"""`inference infer IMAGE --model-id ID`: one prediction, in-process or from a running server.

Without `--api-url` the model runs in this process (from MODEL_CACHE_DIR); with it, the image
is sent to that server's legacy route, which works for every task.
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.parse
from pathlib import Path

from inference_server.cli.http import post


def infer(args) -> int:
    if args.api_url:
        return _infer_remote(args)
    return _infer_local(args)


def _infer_local(args) -> int:
    from inference_core.api import build_manager
    from inference_core.settings import CoreSettings

    settings = CoreSettings.from_env()
    print(f"Loading {args.model_id} from {settings.model_cache_dir}...", file=sys.stderr, flush=True)
    model = build_manager(settings).get(args.model_id)
    (response,) = model.infer(
        _local_source(args.image), confidence=args.confidence, iou_threshold=args.overlap
    )
    print(json.dumps(response.to_dict(), indent=2))
    return 0


def _infer_remote(args) -> int:
    query = {"confidence": args.confidence, "overlap": args.overlap}
    if args.api_key:
        query["api_key"] = args.api_key
    body = b""
    if _is_url(args.image):
        query["image"] = args.image
    else:
        body = base64.b64encode(Path(args.image).read_bytes())
    url = f"{args.api_url.rstrip('/')}/{args.model_id}?{urllib.parse.urlencode(query)}"
    status, payload = post(url, body, "application/x-www-form-urlencoded")
    if status != 200:
        print(f"The server answered {status}: {payload.decode(errors='replace')}", file=sys.stderr)
        return 1
    print(json.dumps(json.loads(payload), indent=2))
    return 0


def _local_source(image: str):
    return image if _is_url(image) else Path(image)


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))
