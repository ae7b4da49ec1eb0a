"""Functions run in child processes by the registry tests (importable, so `spawn` can find them)."""

from __future__ import annotations


def pull_after_barrier(barrier, settings, model_id: str, api_key: str, results) -> None:
    from inference_core.api import pull_model

    barrier.wait(timeout=60)
    try:
        _, fetched = pull_model(model_id, api_key, settings=settings)
        results.put(("ok", fetched))
    except Exception as error:  # reported to the parent, which asserts on it
        results.put(("error", f"{type(error).__name__}: {error}"))
