"""How our server's costs grow: cold start, models in the cache, loaded models, LRU churn, workers.

    .venv/bin/python bench/scale.py [--duration 8] [--sections start,cache,memory,churn,workers]

Every point runs `python -m inference_server` on 127.0.0.1 (offline) and measures it from outside:

* `start`: time from process start to the first answer of an inference request, without and with
  `PRELOAD_MODELS` (with it, the request is sent once /readiness says the model is loaded);
* `cache`: start-up time (process start to /healthz), `GET /model/registry` and `GET /model/cache`
  with 1, 100 and 1,000 models in the model cache (copies of the fixture detector, hard links);
* `memory`: resident memory with 0 to `MAX_ACTIVE_MODELS` (8) distinct models loaded;
* `churn`: throughput when 4 clients spread requests over more distinct models than
  `MAX_ACTIVE_MODELS` holds (each miss reloads a model), against all requests on one model;
* `workers`: throughput at 8 clients and memory with `NUM_WORKERS` 1, 2 and 4.

The machine's load (`uptime`) is recorded with each section: the numbers are only comparable
within one run. Writes `bench/results/scale-<date>-<machine>.md` and `.json`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import machine
import servers

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "assets/models/shapes-det-yolov8.onnx"
SAMPLE = (REPO / "assets/images/shapes-sample.jpg").read_bytes()
BENCH_MODEL = Path.home() / ".cache/visionhost-bench/models/bench/1"  # yolov8n 640, when made


def uptime() -> str:
    return os.popen("uptime").read().strip().split("load average:")[-1].strip()


def make_cache(root: Path, count: int, source_dir: Path, project: str = "m") -> Path:
    """`count` models `{project}-{i}/1`, hard links of one model's files (cheap even for 1,000)."""
    for index in range(count):
        target = root / f"{project}-{index}" / "1"
        target.mkdir(parents=True, exist_ok=True)
        for item in source_dir.iterdir():
            if item.is_file() and not (target / item.name).exists():
                os.link(item, target / item.name)
    return root


def fixture_model_dir(scratch: Path) -> Path:
    from inference_core.store import ModelStore

    store = ModelStore(scratch / "source")
    store.import_ultralytics_onnx(FIXTURE, "fixture/1")
    return store.model_dir("fixture/1")


def start_server(cache: Path, env: dict | None = None, ready_path: str = "/healthz") -> tuple[servers.Server, float]:
    port = servers.free_port()
    server = servers.ours(cache, port, cache.parent / f"server-{port}.log", 0.0, {"LOG_LEVEL": "warning", **(env or {})})
    server.ready_path = ready_path
    started = time.perf_counter()
    server.start(timeout=600)
    return server, time.perf_counter() - started


def get_seconds(port: int, path: str, runs: int) -> float:
    timings = []
    for _ in range(runs):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        started = time.perf_counter()
        connection.request("GET", path)
        answer = connection.getresponse()
        answer.read()
        timings.append(time.perf_counter() - started)
        connection.close()
        if answer.status != 200:
            raise RuntimeError(f"GET {path}: {answer.status}")
    return statistics.median(timings)


def infer_once(port: int, model_id: str, connection: http.client.HTTPConnection | None = None) -> None:
    request = servers.v2_request(model_id, "object-detection", SAMPLE, 0.25)
    head, _, body = request.partition(b"\r\n\r\n")
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("POST", head.split(b" ")[1].decode(), body, {"Content-Type": "application/json"})
    answer = connection.getresponse()
    answer.read()
    if own:
        connection.close()
    if answer.status != 200:
        raise RuntimeError(f"inference on {model_id}: HTTP {answer.status}")


def section_start(scratch: Path, model_dir: Path) -> list[dict]:
    cache = make_cache(scratch / "start-cache", 1, model_dir)
    rows = []
    for preload in (False, True):
        env = {"PRELOAD_MODELS": "m-0/1"} if preload else {}
        started = time.perf_counter()
        server, to_ready = start_server(cache, env, "/readiness" if preload else "/healthz")
        try:
            infer_once(server.port, "m-0/1")
            first_answer = time.perf_counter() - started
            infer_once(server.port, "m-0/1")
            second_started = time.perf_counter()
            infer_once(server.port, "m-0/1")
            warm = time.perf_counter() - second_started
        finally:
            server.stop()
        rows.append({"preload": preload, "to_ready_s": round(to_ready, 2), "first_answer_s": round(first_answer, 2),
                     "warm_request_s": round(warm, 3), "load": uptime()})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def section_cache(scratch: Path, model_dir: Path, counts: list[int]) -> list[dict]:
    rows = []
    for count in counts:
        cache = make_cache(scratch / f"cache-{count}", count, model_dir)
        server, start_seconds = start_server(cache)
        try:
            infer_once(server.port, "m-0/1")  # one loaded model, as a running server has
            registry = get_seconds(server.port, "/model/registry", 5)
            listing = get_seconds(server.port, "/model/cache", 3)
        finally:
            server.stop()
        rows.append({"models_in_cache": count, "start_s": round(start_seconds, 2),
                     "registry_ms": round(registry * 1000, 1), "cache_listing_ms": round(listing * 1000, 1),
                     "load": uptime()})
        print(json.dumps(rows[-1]), flush=True)
        shutil.rmtree(cache, ignore_errors=True)
    return rows


def section_memory(scratch: Path, model_dir: Path, name: str, capacity: int = 8) -> list[dict]:
    cache = make_cache(scratch / "memory-cache", capacity, model_dir)
    server, _ = start_server(cache, {"MAX_ACTIVE_MODELS": str(capacity)})
    rows = []
    try:
        rows.append({"model": name, "loaded": 0, "rss_mb": round(servers.tree_memory_mb(server.pid)[0], 1)})
        for index in range(capacity):
            infer_once(server.port, f"m-{index}/1")
            rows.append({"model": name, "loaded": index + 1, "rss_mb": round(servers.tree_memory_mb(server.pid)[0], 1)})
            print(json.dumps(rows[-1]), flush=True)
    finally:
        server.stop()
    return rows


def closed_loop(port: int, model_ids: list[str], clients: int, duration: float, warmup: float) -> dict:
    """`clients` threads, each cycling through `model_ids` (offset by its index), for `duration` s."""
    done, errors = [], []
    stop_at = time.perf_counter() + warmup + duration
    measure_from = time.perf_counter() + warmup

    def client(offset: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        step = offset
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                infer_once(port, model_ids[step % len(model_ids)], connection)
            except Exception as error:  # noqa: BLE001 - counted and reported
                errors.append(str(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            if started >= measure_from:
                done.append(time.perf_counter() - started)
            step += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(done)
    return {"rps": round(len(done) / duration, 2), "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1) if ordered else None,
            "errors": len(errors)}


def section_churn(scratch: Path, model_dir: Path, duration: float, warmup: float) -> list[dict]:
    cache = make_cache(scratch / "churn-cache", 8, model_dir)
    rows = []
    for capacity, spread in ((2, 1), (2, 2), (2, 4), (2, 8)):
        server, _ = start_server(cache, {"MAX_ACTIVE_MODELS": str(capacity)})
        try:
            result = closed_loop(server.port, [f"m-{i}/1" for i in range(spread)], 4, duration, warmup)
        finally:
            server.stop()
        rows.append({"max_active_models": capacity, "distinct_models": spread, **result, "load": uptime()})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def section_workers(scratch: Path, model_dir: Path, duration: float, warmup: float) -> list[dict]:
    cache = make_cache(scratch / "workers-cache", 1, model_dir)
    rows = []
    cores = str(os.cpu_count() or 1)
    variants = [(1, {}), (2, {}), (2, {"INTRA_OP_THREADS": cores}), (4, {}), (4, {"INTRA_OP_THREADS": cores})]
    for workers, extra in variants:
        server, start_seconds = start_server(cache, {"NUM_WORKERS": str(workers), **extra})
        try:
            for _ in range(workers * 3):  # let every worker load the model before measuring
                infer_once(server.port, "m-0/1")
            result = closed_loop(server.port, ["m-0/1"], 8, duration, warmup)
            rss = servers.tree_memory_mb(server.pid)[0]
        finally:
            server.stop()
        threads = extra.get("INTRA_OP_THREADS", "default (cores / workers)" if workers > 1 else "default")
        rows.append({"num_workers": workers, "runtime_threads_each": threads, "start_s": round(start_seconds, 2), **result, "rss_mb": round(rss, 1),
                     "load": uptime()})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def table(rows: list[dict]) -> list[str]:
    if not rows:
        return ["(not measured)"]
    keys = list(rows[0])
    return ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)] + [
        "| " + " | ".join(str(row.get(key, "")) for key in keys) + " |" for row in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", default="start,cache,memory,churn,workers")
    parser.add_argument("--counts", default="1,100,1000")
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args()
    sections = args.sections.split(",")
    scratch = Path(tempfile.mkdtemp(prefix="visionhost-scale-"))
    result: dict = {"date": datetime.now().isoformat(timespec="minutes"), "machine": machine.describe(),
                    "load_at_start": uptime()}
    try:
        fixture = fixture_model_dir(scratch)
        if "start" in sections:
            result["start"] = section_start(scratch, fixture)
        if "cache" in sections:
            result["cache"] = section_cache(scratch, fixture, [int(c) for c in args.counts.split(",")])
        if "memory" in sections:
            big = BENCH_MODEL if (BENCH_MODEL / "weights.onnx").is_file() else fixture
            result["memory"] = section_memory(scratch, big, "yolov8n-640" if big == BENCH_MODEL else "fixture-320")
        if "churn" in sections:
            result["churn"] = section_churn(scratch, fixture, args.duration, args.warmup)
        if "workers" in sections:
            result["workers"] = section_workers(scratch, fixture, args.duration, args.warmup)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result["load_at_end"] = uptime()
    write(result, args.output)


def write(result: dict, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    stem = output / f"scale-{result['date'][:10]}-{machine.slug(result['machine'])}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [f"# Scale: cold start, cache size, loaded models, LRU churn, workers ({result['date']})", "",
             f"Machine: {result['machine']['cpu_model']}, {result['machine']['cpus']} CPUs. Load averages "
             f"(1, 5, 15 min) at start: {result['load_at_start']}; at end: {result['load_at_end']}. "
             "Each row's `load` is the load average after it. Model: the fixture detector (320) unless named.", ""]
    titles = {"start": "Time to first answer", "cache": "Models in the cache", "memory": "Memory per loaded model",
              "churn": "LRU churn (4 clients)", "workers": "NUM_WORKERS (8 clients)"}
    for key, title in titles.items():
        if key in result:
            lines += [f"## {title}", "", *table(result[key]), ""]
    stem.with_suffix(".md").write_text("\n".join(lines))
    print(stem.with_suffix(".md"))


if __name__ == "__main__":
    main()
