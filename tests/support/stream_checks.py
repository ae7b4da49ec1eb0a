"""Shared pieces of the video tests: the fixture model id, clip length, leftover-thread check."""

from __future__ import annotations

import threading

MODEL_ID = "shapes-video/1"
CLIP_FRAMES = 40


def pipeline_threads() -> list[str]:
    """Names of threads a pipeline or a video source started and that are still running."""
    return [
        thread.name
        for thread in threading.enumerate()
        if thread.name.startswith(("video-source-", "inference-pipeline"))
    ]


def comparable(predictions: list[dict]) -> list[tuple]:
    """A prediction list without the per-call ids and timings."""
    return [
        (p["class"], p["class_id"], p["x"], p["y"], p["width"], p["height"], round(p["confidence"], 6))
        for p in predictions
    ]
