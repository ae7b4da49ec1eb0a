"""Keeping the model cache tidy: download markers, last use, staging leftovers, the size cap.

Only models this fetcher downloaded carry the marker file; models the user imported or copied in
(including an Ultralytics import, marked in environment.json) never do, so eviction never
touches them. The marker's modification time is the model's last use.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from inference_core.environment import SOURCE_KEY, ULTRALYTICS_SOURCE
from inference_core.model_ids import ModelId, parse_model_id
from inference_core.sources.locks import lock_name, model_lock
from inference_core.store import ModelStore

logger = logging.getLogger("inference_core.sources")

MARKER_FILE = ".visionhost-download.json"
STAGING_DIR = ".staging"


def write_marker(directory: Path, model_id: ModelId, source: str) -> None:
    record = {"model_id": str(model_id), "source": source, "downloaded_at": time.time()}
    (directory / MARKER_FILE).write_text(json.dumps(record), encoding="utf-8")


def touch(directory: Path) -> None:
    """Record a use of a downloaded model (no-op for models without a marker)."""
    try:
        os.utime(directory / MARKER_FILE)
    except OSError:
        pass


def staging_dir(cache_dir: Path, model_id: ModelId) -> Path:
    """A fresh directory to download into; its name says which model lock guards it."""
    parent = Path(cache_dir) / STAGING_DIR
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{lock_name(model_id)}-", dir=parent))


def clean_staging(cache_dir: Path) -> int:
    """Delete staging leftovers of killed downloads, skipping any whose model lock is held now."""
    parent = Path(cache_dir) / STAGING_DIR
    removed = 0
    for leftover in sorted(parent.iterdir()) if parent.is_dir() else []:
        model_id = _model_of_staging(leftover.name)
        if model_id is None:
            shutil.rmtree(leftover, ignore_errors=True)
            continue
        with model_lock(cache_dir, model_id, blocking=False) as held:
            if held and leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
                removed += 1
    return removed


def is_evictable(directory: Path) -> bool:
    if not (directory / MARKER_FILE).is_file():
        return False
    try:
        environment = json.loads((directory / "environment.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return True
    return not (isinstance(environment, dict) and environment.get(SOURCE_KEY) == ULTRALYTICS_SOURCE)


def enforce_cap(store: ModelStore, max_bytes: int, keep: Iterable[str]) -> list[str]:
    """Evict least recently used downloaded models until the cache fits `max_bytes`; the evicted ids."""
    if max_bytes <= 0:
        return []
    sizes = {model_id: _size(store.model_dir(model_id)) for model_id in store.list_models()}
    total = sum(sizes.values())
    keep = {str(parse_model_id(model_id)) for model_id in keep}
    candidates = sorted(
        (model_id for model_id in sizes if model_id not in keep and is_evictable(store.model_dir(model_id))),
        key=lambda model_id: (store.model_dir(model_id) / MARKER_FILE).stat().st_mtime,
    )
    evicted = []
    for model_id in candidates:
        if total <= max_bytes:
            break
        if _evict(store, parse_model_id(model_id)):
            total -= sizes[model_id]
            evicted.append(model_id)
    if total > max_bytes:
        logger.warning("Model cache holds %d bytes, over MODEL_CACHE_MAX_BYTES=%d; the rest is imported "
                       "or in use and is never evicted.", total, max_bytes)
    return evicted


def _evict(store: ModelStore, model_id: ModelId) -> bool:
    """Move the model aside (atomic, so no reader sees half a directory), then delete it."""
    with model_lock(store.cache_dir, model_id, blocking=False) as held:
        if not held:
            return False
        directory = store.model_dir(str(model_id))
        trash = staging_dir(store.cache_dir, model_id)
        os.replace(directory, trash / "evicted")
        shutil.rmtree(trash, ignore_errors=True)
        logger.info("Evicted model %s from the cache (least recently used).", model_id)
        return True


def _model_of_staging(name: str) -> ModelId | None:
    project, at, rest = name.partition("@")
    version = rest.rsplit("-", 1)[0] if "-" in rest else ""
    if not at or not version:
        return None
    try:
        return parse_model_id(f"{project}/{version}")
    except Exception:
        return None


def _size(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
