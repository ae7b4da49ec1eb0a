"""In-process measurements, each run in its own process by bench/run.py and printed as JSON.

    python bench/local.py raw --weights W.onnx --size 640 --threads 2 --streams 1 --batch 1
    python bench/local.py api --cache DIR --model bench/1 --image img.jpg --concurrency 4

`raw` is the physical limit: ONNX Runtime `session.run` on a pre-made float32 tensor, with
`streams` sessions running side by side (one thread each) and `threads` intra-op threads per
session. `api` is our in-process API, `get_model(id).infer(jpeg_bytes)`, from `concurrency`
threads: decode, pre-process, forward and post-process, no HTTP.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import summarise  # noqa: E402


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def closed_loop(
    calls: list[Callable[[], None]], duration: float, warmup: float
) -> tuple[list[float], float, str | None]:
    """Run each call in its own thread back to back; latencies of calls ending in the window,
    CPU seconds of the window, and the first error a call raised (its thread then stops)."""
    start = time.perf_counter()
    warmup_end, deadline = start + warmup, start + warmup + duration
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    cpu_marks: list[float] = []

    def loop(call: Callable[[], None]) -> None:
        while (began := time.perf_counter()) < deadline:
            try:
                call()
            except Exception as error:  # noqa: BLE001 - reported as the point's failure
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                return
            finished = time.perf_counter()
            if warmup_end <= finished <= deadline:
                with lock:
                    latencies.append(finished - began)

    def mark_cpu() -> None:  # CPU time of the measured window only
        time.sleep(warmup)
        cpu_marks.append(cpu_seconds())
        time.sleep(duration)
        cpu_marks.append(cpu_seconds())

    threads = [threading.Thread(target=loop, args=(call,)) for call in calls]
    threads.append(threading.Thread(target=mark_cpu))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, cpu_marks[1] - cpu_marks[0], errors[0] if errors else None


def with_error(result: dict, error: str | None) -> dict:
    """Mark a point failed when a call raised: run.py reports it instead of a 0 req/s row."""
    if error is not None:
        result["error"] = error
    return result


def raw(args: argparse.Namespace) -> dict:
    import numpy as np
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0" if args.no_spin else "1")
    providers = args.providers.split(",")
    sessions = [
        onnxruntime.InferenceSession(args.weights, sess_options=options, providers=providers)
        for _ in range(args.streams)
    ]
    name = sessions[0].get_inputs()[0].name
    tensor = np.random.default_rng(0).random((args.batch, 3, args.size, args.size), dtype=np.float32)
    calls = [lambda session=session: session.run(None, {name: tensor}) for session in sessions]
    latencies, cpu, error = closed_loop(calls, args.duration, args.warmup)
    result = with_error(summarise(latencies, args.duration), error)
    images = len(latencies) * args.batch
    result.update(
        images_per_s=round(images / args.duration, 2),
        cpu_per_image_ms=round(cpu / max(images, 1) * 1000, 2),
        peak_rss_mb=round(peak_rss_mb(), 1),
        threads=args.threads,
        streams=args.streams,
        batch=args.batch,
        spinning=not args.no_spin,
        providers=sessions[0].get_providers(),
    )
    return result


def api(args: argparse.Namespace) -> dict:
    os.environ["MODEL_CACHE_DIR"] = args.cache
    os.environ.setdefault("OFFLINE_MODE", "true")
    from inference_core.api import get_model

    model = get_model(args.model)
    image = Path(args.image).read_bytes()
    params = {"confidence": args.confidence}
    model.infer(image, **params)  # first call pays one-off costs outside the window

    def call() -> None:
        model.infer(image, **params)

    latencies, cpu, error = closed_loop([call] * args.concurrency, args.duration, args.warmup)
    result = with_error(summarise(latencies, args.duration), error)
    result.update(
        concurrency=args.concurrency,
        cpu_per_request_ms=round(cpu / max(len(latencies), 1) * 1000, 2),
        peak_rss_mb=round(peak_rss_mb(), 1),
        predictions=len(model.infer(image, **params)[0].predictions),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    raw_parser = sub.add_parser("raw")
    raw_parser.add_argument("--weights", required=True)
    raw_parser.add_argument("--size", type=int, default=640)
    raw_parser.add_argument(
        "--threads", type=int, default=0, help="intra-op threads per session (0: ORT default)"
    )
    raw_parser.add_argument("--streams", type=int, default=1, help="sessions run side by side")
    raw_parser.add_argument("--batch", type=int, default=1)
    raw_parser.add_argument("--no-spin", action="store_true", help="idle intra-op threads sleep")
    raw_parser.add_argument(
        "--providers", default="CPUExecutionProvider", help="comma-separated ORT providers"
    )
    api_parser = sub.add_parser("api")
    api_parser.add_argument("--cache", required=True)
    api_parser.add_argument("--model", required=True)
    api_parser.add_argument("--image", required=True)
    api_parser.add_argument("--concurrency", type=int, default=1)
    api_parser.add_argument("--confidence", type=float, default=0.25)
    for sub_parser in (raw_parser, api_parser):
        sub_parser.add_argument("--duration", type=float, default=10.0)
        sub_parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()
    json.dump(raw(args) if args.mode == "raw" else api(args), sys.stdout)


if __name__ == "__main__":
    main()
