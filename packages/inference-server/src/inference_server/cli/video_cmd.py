"""`inference video SOURCE --model-id ID`: run a model over a video file, stream or camera.

The pipeline comes from the optional `visionhost-stream` package, imported only here. Results go
to `--json` (JSON Lines: one object per frame) and the drawn frames to `--output`; on a file a
progress bar shows on stderr. Ctrl-C stops cleanly (files are closed and valid).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

INSTALL_HINT = (
    'video needs the visionhost-stream package: pip install "./packages/inference-stream[tracking]" '
    "from the VisionHost repository (or `pip install visionhost-stream`)"
)


def video(args) -> int:
    try:
        from inference_stream import InferencePipeline
    except ImportError:
        print(f"Error: {INSTALL_HINT}", file=sys.stderr)
        return 1
    from inference_core.api import build_manager
    from inference_core.settings import CoreSettings

    if args.max_fps is not None:
        # as Roboflow's CLI does: on a file, --max-fps keeps every n-th frame instead of slowing down
        os.environ["ENABLE_FRAME_DROP_ON_VIDEO_FILE_RATE_LIMITING"] = "True"
    source: Any = int(args.source) if args.source.isdigit() else args.source
    settings = CoreSettings.from_env()
    print(f"Loading {args.model_id} from {settings.model_cache_dir}...", file=sys.stderr, flush=True)
    manager = build_manager(settings)
    outputs = FrameOutputs(args.json, args.output, progress=not args.quiet)
    pipeline = InferencePipeline.init(
        model_id=args.model_id, video_reference=source, on_prediction=outputs.on_prediction,
        max_fps=args.max_fps, confidence=args.confidence, iou_threshold=args.overlap,
        model_manager=manager, api_key=args.api_key,
    )
    try:
        pipeline.start(use_main_thread=False)
        pipeline.join()
    except KeyboardInterrupt:
        print("\nStopping...", file=sys.stderr)
        pipeline.terminate()
        pipeline.join()
    finally:
        outputs.close()
    if pipeline.error is not None:
        print(f"Error: {pipeline.error}", file=sys.stderr)
        return 1
    print(f"{outputs.frames} frames processed.", file=sys.stderr)
    return 0


class FrameOutputs:
    """The command's sink: JSON Lines, drawn video, progress bar."""

    def __init__(self, json_path: str | None, video_path: str | None, progress: bool) -> None:
        self.frames = 0
        self._json: TextIO | None = None
        if json_path == "-":
            self._json = sys.stdout
        elif json_path:
            self._json = open(json_path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        self._video_path = video_path
        self._writer = None
        self._progress = progress
        self._started = time.monotonic()

    def on_prediction(self, predictions: dict, frame) -> None:
        self.frames += 1
        if self._json is not None:
            record = {
                "source_id": frame.source_id,
                "frame_id": frame.frame_id,
                "frame_timestamp": frame.frame_timestamp.isoformat(),
                **predictions,
            }
            self._json.write(json.dumps(record) + "\n")
        if self._video_path:
            self._write_drawn(predictions, frame)
        if self._progress:
            self._show_progress(frame)

    def _write_drawn(self, predictions: dict, frame) -> None:
        import cv2
        from inference_stream.sinks import render_boxes

        if self._writer is None:
            height, width = frame.image.shape[:2]
            codec = "MJPG" if Path(self._video_path).suffix.lower() == ".avi" else "mp4v"
            self._writer = cv2.VideoWriter(
                self._video_path, cv2.VideoWriter_fourcc(*codec), frame.fps or 25.0, (width, height)
            )
        render_boxes(predictions, frame, display_size=None, fps_monitor=None,
                     on_frame_rendered=lambda rendered: self._writer.write(rendered[1]))

    def _show_progress(self, frame) -> None:
        rate = self.frames / max(time.monotonic() - self._started, 1e-6)
        if frame.comes_from_video_file and frame.total_frames:
            done = min(frame.frame_id / frame.total_frames, 1.0)
            bar = "#" * int(done * 30)
            text = f"\r[{bar:<30}] {frame.frame_id}/{frame.total_frames} frames, {rate:.1f} fps"
        else:
            text = f"\r{self.frames} frames, {rate:.1f} fps"
        print(text, end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._progress and self.frames:
            print(file=sys.stderr)
        if self._json is not None and self._json is not sys.stdout:
            self._json.close()
        if self._writer is not None:
            self._writer.release()
