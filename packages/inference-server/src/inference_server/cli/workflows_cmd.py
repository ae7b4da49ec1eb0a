"""`inference workflows run|process-images`: run a workflow specification in this process (models
from MODEL_CACHE_DIR) on one image or a folder. Needs the optional visionhost-workflows package;
without it the command says how to install it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

INSTALL_HINT = (
    "Workflows need the visionhost-workflows package: pip install visionhost-workflows "
    "(from a checkout: pip install -e packages/inference-workflows)."
)


def _workflows():
    try:
        import inference_workflows
    except ImportError:
        return None
    return inference_workflows


def _runner(args):
    workflows = _workflows()
    if workflows is None:
        print(INSTALL_HINT, file=sys.stderr)
        return None
    specification = json.loads(Path(args.spec).read_text())
    return workflows.WorkflowRunner(specification, api_key=args.api_key)


def _parameters(pairs: list[str] | None) -> dict:
    parameters = {}
    for pair in pairs or []:
        name, separator, value = pair.partition("=")
        if not separator:
            raise ValueError(f"--param takes NAME=VALUE, got {pair!r}")
        try:
            parameters[name] = json.loads(value)
        except ValueError:
            parameters[name] = value
    return parameters


def run(args) -> int:
    runner = _runner(args)
    if runner is None:
        return 2
    inputs = {args.image_input: [Path(image) if not _is_url(image) else image for image in args.image]}
    if len(args.image) == 1:
        inputs[args.image_input] = inputs[args.image_input][0]
    inputs.update(_parameters(args.param))
    print(json.dumps(runner.run(inputs), indent=2))
    return 0


def process_images(args) -> int:
    runner = _runner(args)
    if runner is None:
        return 2
    from inference_workflows.folder import process_folder
    from tqdm import tqdm

    parameters = _parameters(args.param)
    directory = Path(args.directory)
    if not directory.is_dir():
        raise ValueError(f"{directory} is not a folder")

    def run_one(image: Path) -> dict:
        return runner.run({args.image_input: image, **parameters})[0]

    def progress(images, total):
        return tqdm(images, total=total, unit="image", file=sys.stderr, disable=args.no_progress)

    processed, skipped, failures = process_folder(
        run_one, directory, Path(args.output), args.format, progress
    )
    print(
        f"{processed} processed, {skipped} already done, {len(failures)} failed; results in {args.output}",
        file=sys.stderr,
    )
    for name, message in failures:
        print(f"  {name}: {message}", file=sys.stderr)
    return 1 if failures else 0


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))
