"""Entry point of the `inference` console script."""

from __future__ import annotations

import argparse
import os
import sys

from inference_core.errors import InferenceError, SettingsError

from inference_server.cli import config_cmd, infer_cmd, models_cmd, plugins_cmd, server_cmd, video_cmd, workflows_cmd
from inference_server.settings import DEFAULT_PORT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inference", description="VisionHost: a self-hosted inference server."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_server(commands)
    _add_infer(commands)
    _add_video(commands)
    _add_models(commands)
    _add_plugins(commands)
    _add_config(commands)
    _add_workflows(commands)
    return parser


def _add_server(commands) -> None:
    server = commands.add_parser("server", help="start, stop or check the server")
    actions = server.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="start the server (container if available, else local)")
    start.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default: {DEFAULT_PORT})"
    )
    start.add_argument("--host", default="0.0.0.0", help="address to bind (or to publish the container on)")
    start.add_argument("--env-file", help="KEY=VALUE settings file")
    start.add_argument("--image", help="container image (default: the CPU image, GPU if one is visible)")
    start.add_argument("--local", action="store_true", help="run as a local process, never a container")
    start.add_argument("-v", "--volume", action="append", help="host:container volume (containers)")
    start.add_argument("--name", help="container name (default: visionhost-server-PORT)")
    start.add_argument("--network", help="container network; `host` shares the machine's (no port mapping)")
    start.set_defaults(handler=server_cmd.start)
    actions.add_parser("status", help="is the server running?").set_defaults(handler=server_cmd.status)
    actions.add_parser("stop", help="stop the server").set_defaults(handler=server_cmd.stop)


def _add_infer(commands) -> None:
    infer = commands.add_parser("infer", help="predict on one image")
    infer.add_argument("image", help="image file or http(s) URL")
    infer.add_argument("--model-id", required=True)
    infer.add_argument("--api-url", help="send to this server instead of running in-process")
    infer.add_argument("--api-key")
    infer_cmd.add_parameter_options(infer)
    infer.set_defaults(handler=infer_cmd.infer)


def _add_video(commands) -> None:
    video = commands.add_parser(
        "video", help="run a model over a video file, stream or camera (needs visionhost-stream)"
    )
    video.add_argument("source", help="video file, rtsp/rtmp/http(s) URL, or a camera index such as 0")
    video.add_argument("--model-id", required=True)
    video.add_argument("--output", help="write the frames with predictions drawn to this video (.mp4, .avi)")
    video.add_argument("--json", help="write predictions as JSON Lines, one object per frame (- for stdout)")
    video.add_argument("--max-fps", type=float, help="at most this many frames a second (files: every n-th frame)")
    video.add_argument("--confidence", type=float, default=0.4)
    video.add_argument("--overlap", type=float, default=0.3, help="NMS IoU threshold")
    video.add_argument("--api-key", help="registry key to download the model (default: ROBOFLOW_API_KEY)")
    video.add_argument("--quiet", action="store_true", help="no progress on stderr")
    video.set_defaults(handler=video_cmd.video)


def _add_models(commands) -> None:
    models = commands.add_parser("models", help="manage the local model store")
    cache_help = "model store (default: MODEL_CACHE_DIR, else ~/.cache/visionhost/models)"
    models.add_argument("--cache-dir", help=cache_help)
    # Also accepted after the action (`inference models import X --model-id Y --cache-dir D`);
    # SUPPRESS keeps an action without it from resetting a value given before the action.
    cache_dir = argparse.ArgumentParser(add_help=False)
    cache_dir.add_argument("--cache-dir", default=argparse.SUPPRESS, help=cache_help)
    actions = models.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="models in the store", parents=[cache_dir]).set_defaults(
        handler=models_cmd.list_models
    )
    add = actions.add_parser(
        "import", help="bring your own ONNX export (Ultralytics or RF-DETR)", parents=[cache_dir]
    )
    add.add_argument("path")
    add.add_argument("--model-id", required=True, help="project/version to file it under")
    add.add_argument(
        "--class-names",
        help="class names for an export that carries none (RF-DETR): a,b,c or a file with one per line",
    )
    add.add_argument("--overwrite", action="store_true")
    add.set_defaults(handler=models_cmd.import_model)
    pull = actions.add_parser(
        "pull", help="download a model into the store (MODEL_SOURCE, API_BASE_URL)", parents=[cache_dir]
    )
    pull.add_argument("model_id")
    pull.add_argument("--api-key", help="registry key (default: ROBOFLOW_API_KEY)")
    pull.set_defaults(handler=models_cmd.pull_model)
    remove = actions.add_parser("remove", help="delete a model from the store", parents=[cache_dir])
    remove.add_argument("model_id")
    remove.set_defaults(handler=models_cmd.remove_model)


def _add_config(commands) -> None:
    config = commands.add_parser(
        "config", help="check the settings (environment variables) and show each value and its origin"
    )
    config.add_argument("--env-file", help="KEY=VALUE settings file, read over the environment")
    config.add_argument("--json", action="store_true", help="print the settings as JSON")
    config.set_defaults(handler=config_cmd.show_config)


def _add_plugins(commands) -> None:
    plugins = commands.add_parser("plugins", help="list installed plugins: what each registers, load errors")
    plugins.add_argument("--json", action="store_true", help="print the list as JSON (as /info does)")
    plugins.add_argument("--strict", action="store_true", help="exit 1 when a plugin failed to load")
    plugins.set_defaults(handler=plugins_cmd.list_plugins)


def _add_workflows(commands) -> None:
    workflows = commands.add_parser("workflows", help="run a workflow specification in this process")
    actions = workflows.add_subparsers(dest="action", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--image-input", default="image", help="name of the workflow's image input")
    common.add_argument("--param", action="append", metavar="NAME=VALUE", help="a workflow parameter (JSON value)")
    common.add_argument("--api-key", help="registry key for models not in the cache")
    run = actions.add_parser("run", help="run on one or more images; prints the outputs", parents=[common])
    run.add_argument("spec", help="workflow specification (JSON file)")
    run.add_argument("--image", action="append", required=True, help="image file or URL (repeat for a batch)")
    run.set_defaults(handler=workflows_cmd.run)
    folder = actions.add_parser(
        "process-images", help="run on every image of a folder (resumable)", parents=[common]
    )
    folder.add_argument("directory")
    folder.add_argument("--spec", required=True, help="workflow specification (JSON file)")
    folder.add_argument("--output", required=True, help="folder for results.jsonl/.csv and image outputs")
    folder.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    folder.add_argument("--no-progress", action="store_true", help="no progress bar")
    folder.set_defaults(handler=workflows_cmd.process_images)


#: Exit status when the output pipe closes early (`inference infer ... | head`): 128 + SIGPIPE.
BROKEN_PIPE_STATUS = 141


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handling below, not at exit
        return status
    except BrokenPipeError:
        # The reader went away: say nothing, and keep the interpreter's final flush quiet too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return BROKEN_PIPE_STATUS
    except SettingsError as error:
        print(f"Error: {error.message}", file=sys.stderr)
        return 2
    except InferenceError as error:
        print(f"Error: {error.message}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
