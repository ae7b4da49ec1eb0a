"""Where our server's CPU goes at 8 clients: the runtime's share, the event loop's, the rest.

    .venv/bin/python bench/runtime_share.py [--model bench/2] [--rounds 4] [--duration 10] [--image bus]

Our server (ONNX Runtime, its default `adaptive` lanes) runs in a child process whose
`OnnxSession` calls are timed by thread CPU (a one-thread session runs on the calling thread, so
that is the runtime's whole cost). Each round measures, one right after the other, the runtime
alone in this process (`concurrency.raw_point`: 8 threads on the per-core sessions of
`ONNXRUNTIME_CONCURRENCY=throughput`, thread CPU per call) and the server under 8 closed-loop
clients (bench/loadgen.py; `--image`: the first image of bench/concurrency.py whose name starts with
it, the 512x512 bus.jpg crop by default, `shapes-sample` for the 640x480 sample): its CPU per
request, the runtime's CPU per call inside it, and its event loop's (main thread) CPU per request. Writes
`bench/results/runtime-share-<date>-<machine>.md` and `.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import machine
import servers

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = Path.home() / ".cache/visionhost-bench/models"


def serve() -> None:
    """The child: our server with `OnnxSession` calls timed; SIGUSR1 resets, SIGUSR2 prints a line."""
    from inference_backend_onnx import backend

    lock = threading.Lock()
    totals = {"calls": 0, "cpu": 0.0}
    original = backend.OnnxSession._run_on

    def timed(self, session, feeds):
        started = time.thread_time()
        try:
            return original(self, session, feeds)
        finally:
            with lock:
                totals["calls"] += 1
                totals["cpu"] += time.thread_time() - started

    def reset(*_):
        with lock:
            totals.update(calls=0, cpu=0.0)

    def report(*_):
        with lock:
            print(json.dumps(totals), flush=True)

    backend.OnnxSession._run_on = timed
    signal.signal(signal.SIGUSR1, reset)
    signal.signal(signal.SIGUSR2, report)
    import uvicorn

    uvicorn.run("inference_server.app:app_from_env", factory=True, host="127.0.0.1",
                port=int(os.environ["PORT"]), log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--model", default="bench/2")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--image", default="", help="the start of an image name in bench/concurrency.py")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    import concurrency

    pictures = concurrency.images()
    chosen = [name for name in pictures if name.startswith(args.image)]
    if not chosen:
        parser.error(f"--image {args.image!r} starts none of: {', '.join(pictures)}")
    small_name, small = chosen[0], pictures[chosen[0]]
    port = servers.free_port()
    env = dict(os.environ, PORT=str(port), HOST="127.0.0.1", MODEL_CACHE_DIR=str(args.cache),
               OFFLINE_MODE="true", INFERENCE_BACKEND="onnx", LOG_LEVEL="warning")
    scratch = Path(tempfile.mkdtemp(prefix="visionhost-runtime-share-"))
    child = servers.Server("visionhost (runtime timed)", [servers.PYTHON, __file__, "--serve"], env, port,
                           scratch / "server.log", "/healthz", stdout_to_caller=True)
    request_file = scratch / "request.bin"
    weights = args.cache / args.model / "weights.onnx"
    rows = []
    child.start(timeout=300)
    try:
        request = servers.v2_request(args.model, "object-detection", small, concurrency.CONFIDENCE)
        request_file.write_bytes(request)
        status, body = servers.send_once(port, request)
        if status != 200:
            raise RuntimeError(f"our server answered {status}: {body[:200]!r}")
        for round_number in range(1, args.rounds + 1):
            alone = concurrency.raw_point("onnx", {"ONNXRUNTIME_CONCURRENCY": "throughput"}, weights, 640, 8,
                                          args.duration, 1.0)
            raw = {"images_per_s": alone["images_per_s"],
                   "runtime_cpu_per_call_ms": alone["caller_cpu_per_call_ms"]}
            child.process.send_signal(signal.SIGUSR1)
            before = servers.thread_cpu_seconds(child.pid)
            load = servers.run_bench_script(
                "loadgen.py",
                ["--port", str(port), "--request-file", str(request_file), "--concurrency", "8"],
                args.duration, 0)
            after = servers.thread_cpu_seconds(child.pid)
            child.process.send_signal(signal.SIGUSR2)
            runtime = json.loads(child.process.stdout.readline())
            requests = max(load.get("completed_all", 0), 1)
            spent = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
            row = {"round": round_number, "raw": raw, "server_rps": load.get("rps"),
                   "server_cpu_per_request_ms": round(sum(spent.values()) / requests * 1000, 1),
                   "runtime_cpu_per_call_ms": round(runtime["cpu"] / max(runtime["calls"], 1) * 1000, 1),
                   "event_loop_cpu_per_request_ms": round(spent.get(child.pid, 0.0) / requests * 1000, 1),
                   "load": os.getloadavg()}
            row["rest_per_request_ms"] = round(
                row["server_cpu_per_request_ms"] - row["runtime_cpu_per_call_ms"]
                - row["event_loop_cpu_per_request_ms"], 1)
            print(json.dumps(row), flush=True)
            rows.append(row)
    finally:
        child.stop()
    result = {"date": datetime.now().isoformat(timespec="minutes"), "machine": machine.describe(),
              "model": args.model, "image": small_name, "rows": rows}
    args.output.mkdir(parents=True, exist_ok=True)
    stem = args.output / f"runtime-share-{datetime.now():%Y-%m-%d-%H%M}-{machine.slug(result['machine'])}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    stem.with_suffix(".md").write_text(markdown(result))
    print(stem.with_suffix(".md"))


def markdown(result: dict) -> str:
    lines = [f"# Where our server's CPU goes at 8 clients ({result['date']}, model {result['model']})", "",
             f"Machine: {result['machine']['cpu_model']}, {result['machine']['cpus']} CPUs. "
             f"Image: {result['image']}. Each round: the runtime alone (8 threads, per-core sessions), then "
             "our server under 8 clients, one right after the other. CPU in ms; `rest` is the server's CPU "
             "per request less the runtime's per call and the event loop's per request (decode, letterbox, "
             "NMS, predictions, thread hand-offs).", "",
             "| round | raw images/s | raw runtime CPU/call | server req/s | server CPU/request "
             "| runtime CPU/call in server | event loop CPU/request | rest |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["rows"]:
        raw = row["raw"]
        lines.append(f"| {row['round']} | {raw['images_per_s']} | {raw['runtime_cpu_per_call_ms']} "
                     f"| {row['server_rps']} | {row['server_cpu_per_request_ms']} "
                     f"| {row['runtime_cpu_per_call_ms']} | {row['event_loop_cpu_per_request_ms']} "
                     f"| {row['rest_per_request_ms']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
