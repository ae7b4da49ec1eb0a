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

from inference_core.params import FLAG, PARAMETERS, InferenceParams, Parameter

from inference_server.cli.http import post


def cli_parameters() -> tuple[Parameter, ...]:
    """The inference parameters `inference infer` offers: those the legacy route also takes."""
    return tuple(parameter for parameter in PARAMETERS if parameter.cli and parameter.legacy_name)


def add_parameter_options(parser) -> None:
    """One option per parameter, from core's definition (name, default, help); `--overlap` too."""
    for parameter in cli_parameters():
        flags = [f"--{parameter.name.replace('_', '-')}"]
        if parameter.legacy_name != parameter.name:
            flags.append(f"--{parameter.legacy_name.replace('_', '-')}")
        help_text = f"{parameter.description} Default: {parameter.default}."
        if parameter.kind == FLAG:
            parser.add_argument(
                *flags, dest=parameter.name, action="store_true", default=None, help=help_text
            )
        else:
            parser.add_argument(*flags, dest=parameter.name, default=None, metavar="VALUE", help=help_text)


def given_parameters(args) -> dict[str, object]:
    """The parameters set on the command line, as typed (core parses them)."""
    return {
        parameter.name: getattr(args, parameter.name)
        for parameter in cli_parameters()
        if getattr(args, parameter.name, None) is not None
    }


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
    (response,) = model.infer(_local_source(args.image), **given_parameters(args))
    print(json.dumps(response.to_dict(), indent=2))
    return 0


def _infer_remote(args) -> int:
    given = given_parameters(args)
    parsed = InferenceParams.from_kwargs(**given)  # a bad value is refused here, as the server would
    query = {}
    for parameter in cli_parameters():
        if parameter.name in given:
            value = getattr(parsed, parameter.name, given[parameter.name])
            query[parameter.legacy_name] = _query_text(parameter, value)
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


def _query_text(parameter: Parameter, value: object) -> str:
    """The value as the legacy route reads it: on that route 1 would mean 1 %, so 1.0 goes as 100."""
    if value is True or value is False:
        return str(value).lower()
    if parameter.legacy_percent and value == 1.0:
        return "100"
    return str(value)


def _local_source(image: str):
    return image if _is_url(image) else Path(image)


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))
