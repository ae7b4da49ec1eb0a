"""`inference models list|import|remove`: the local model store (MODEL_CACHE_DIR)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from inference_core.api import pull_model as pull_into_store
from inference_core.errors import InferenceError
from inference_core.settings import CoreSettings
from inference_core.store import ModelStore


def _store(args) -> ModelStore:
    cache = Path(args.cache_dir) if args.cache_dir else CoreSettings.from_env().model_cache_dir
    return ModelStore(cache)


def list_models(args) -> int:
    store = _store(args)
    model_ids = store.list_models()
    if not model_ids:
        print(f"No models in {store.cache_dir}.")
        return 0
    rows = [("MODEL ID", "TASK", "MODEL TYPE", "CLASSES")]
    for model_id in model_ids:
        try:
            artifact = store.read(model_id)
            rows.append((model_id, artifact.task, artifact.model_type, str(len(artifact.class_names))))
        except InferenceError as error:
            rows.append((model_id, "?", f"unreadable: {error.message}", "?"))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        print(
            "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=False)) + "  " + row[3]
        )
    print(f"({len(model_ids)} in {store.cache_dir})")
    return 0


def import_model(args) -> int:
    store = _store(args)
    path = Path(args.path)
    if not path.is_file():
        print(f"{path} does not exist.", file=sys.stderr)
        return 2
    print(f"Importing {path.name} ({path.stat().st_size / 1e6:.1f} MB) as {args.model_id}...", flush=True)
    artifact = store.import_onnx(
        path, args.model_id, overwrite=args.overwrite, class_names=_class_names(getattr(args, "class_names", None))
    )
    print(
        f"Imported {artifact.model_id}: {artifact.task}, {len(artifact.class_names)} classes, "
        f"in {artifact.directory}."
    )
    return 0


def _class_names(value: str | None) -> list[str] | None:
    """`a,b,c`, or the path of a file with one name per line."""
    if not value:
        return None
    path = Path(value)
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        lines = value.split(",")
    return [line.strip() for line in lines if line.strip()]


def remove_model(args) -> int:
    store = _store(args)
    store.remove(args.model_id)
    print(f"Removed {args.model_id} from {store.cache_dir}.")
    return 0


def pull_model(args) -> int:
    settings = CoreSettings.from_env()
    if args.cache_dir:
        settings = dataclasses.replace(settings, model_cache_dir=Path(args.cache_dir))
    artifact, fetched = pull_into_store(args.model_id, args.api_key, _progress_bar, settings)
    if fetched:
        print(file=sys.stderr)
    state = "Downloaded" if fetched else "Already in the store:"
    print(
        f"{state} {artifact.model_id}: {artifact.task}, {len(artifact.class_names)} classes, "
        f"in {artifact.directory}."
    )
    return 0


def _progress_bar(name: str, received: int, total: int | None, width: int = 30) -> None:
    bar = ""
    if total:
        done = int(width * received / total)
        bar = f"[{'#' * done}{' ' * (width - done)}] {100 * received / total:3.0f}% "
    print(f"\r{name:<24} {bar}{received / 1e6:.1f} MB", end="", file=sys.stderr, flush=True)
