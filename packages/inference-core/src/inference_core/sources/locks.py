"""One writer per model across threads and processes: an flock on `{cache}/.locks/{project}@{version}.lock`.

flock locks belong to an open file description, so two threads that each open the lock file
exclude each other just as two processes do. Where fcntl is missing (Windows) a per-process
thread lock is the fallback, which still covers the threads of one server process.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from inference_core.model_ids import ModelId

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None

LOCKS_DIR = ".locks"
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()


def lock_name(model_id: ModelId) -> str:
    """`@` cannot occur in a model id segment, so the name is unambiguous."""
    return f"{model_id.project}@{model_id.version}"


@contextlib.contextmanager
def model_lock(cache_dir: Path, model_id: ModelId, blocking: bool = True) -> Iterator[bool]:
    """Hold the model's lock; yields False (without waiting) when `blocking` is off and it is taken."""
    directory = Path(cache_dir) / LOCKS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{lock_name(model_id)}.lock"
    if fcntl is None:
        with _thread_lock(str(path), blocking) as held:
            yield held
        return
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def forget_lock(cache_dir: Path, model_id: ModelId) -> None:
    """Remove a model's lock file (called while holding it, for a model that does not exist)."""
    (Path(cache_dir) / LOCKS_DIR / f"{lock_name(model_id)}.lock").unlink(missing_ok=True)


@contextlib.contextmanager
def _thread_lock(key: str, blocking: bool) -> Iterator[bool]:
    with _thread_locks_guard:
        lock = _thread_locks.setdefault(key, threading.Lock())
    held = lock.acquire(blocking)
    try:
        yield held
    finally:
        if held:
            lock.release()
