"""Run the whole benchmark in one go and write bench/results/<date>-<machine>.{md,json}.

    .venv/bin/python bench/run.py                      # everything (about 45 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick --models yolov8n-640 --no-soak

On one machine, for each model: the raw runtime (ONNX Runtime on pre-made tensors, several
thread/session/batch settings), our in-process API, our server over HTTP (legacy and /infer/*
routes, dynamic batching on and off) and Roboflow's server (`inference-cpu` in its own venv,
offline), at several concurrencies. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
import machine  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402

REPO = BENCH_DIR.parent
PYTHON = servers.PYTHON
DEFAULT_CACHE = Path.home() / ".cache" / "visionhost-bench"
ULTRALYTICS_PYTHON = Path("/work/ultra-venv/bin/python")
SAMPLE_IMAGE = REPO / "assets" / "images" / "shapes-sample.jpg"  # 640x480 JPEG
CONFIDENCE = 0.25
#: (intra-op threads per session, sessions side by side, batch, idle threads spin)
RAW_CONFIGS = [(1, 1, 1, False), (2, 1, 1, True), (2, 1, 1, False), (1, 2, 1, False), (2, 1, 4, False)]


@dataclass(frozen=True)
class BenchModel:
    name: str
    model_id: str
    size: int
    task: str


MODELS = [
    BenchModel("yolov8n-640", "bench/1", 640, "object-detection"),
    BenchModel("yolov8s-640", "bench/2", 640, "object-detection"),
    BenchModel("yolov8n-320", "bench/3", 320, "object-detection"),
    BenchModel("yolov8n-seg-640", "bench/4", 640, "instance-segmentation"),
    BenchModel("yolov8n-cls-224", "bench/5", 224, "classification"),
]
#: the committed fixture detector, used when the Ultralytics venv is missing (a fresh clone).
FIXTURE = BenchModel("fixture-det-320", "fixture/1", 320, "object-detection")


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cache = args.cache / "models"
        self.scratch = Path(tempfile.mkdtemp(prefix="visionhost-bench-"))
        self.jpeg = SAMPLE_IMAGE.read_bytes()
        self.rows: list[dict] = []

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    # -- measurements -------------------------------------------------------------------

    def record(self, model: BenchModel, system: str, route: str, concurrency: int, result: dict) -> dict:
        row = {"model": model.name, "system": system, "route": route, "concurrency": concurrency, **result}
        if "error" not in row and not row.get("requests"):
            row["error"] = row.get("first_error") or "no request completed in the measured window"
        self.rows.append(row)
        if "error" in row:
            self.log(f"{model.name:16} {system:22} {route:8} c={concurrency:<3} FAILED: {row['error']}")
            return row
        self.log(
            f"{model.name:16} {system:22} {route:8} c={concurrency:<3} {result.get('rps', 0):8.2f} req/s "
            f"p50 {result.get('p50_ms', 0):8.1f} ms  cpu/req {result.get('cpu_per_request_ms', 0):7.1f} ms "
            f"other-cpu {result.get('foreign_cpu_pct', 0):4.0f}%"
        )
        return row

    def local(self, *arguments: str) -> dict:
        before, children_before = machine.busy_seconds(), _children_cpu()
        result = servers.run_bench_script("local.py", list(arguments), self.args.duration, self.args.warmup)
        result["foreign_cpu_pct"] = self._foreign(before, _children_cpu() - children_before)
        return result

    def http(self, server: servers.Server, request: bytes, concurrency: int) -> dict:
        request_file = self.scratch / "request.bin"
        request_file.write_bytes(request)
        cpu_before = servers.tree_cpu_seconds(server.pid)
        busy_before, children_before = machine.busy_seconds(), _children_cpu()
        arguments = [
            "--port", str(server.port), "--request-file", str(request_file),
            "--concurrency", str(concurrency),
        ]
        result = servers.run_bench_script("loadgen.py", arguments, self.args.duration, self.args.warmup)
        server_cpu = servers.tree_cpu_seconds(server.pid) - cpu_before
        result["cpu_per_request_ms"] = round(server_cpu / max(result["completed_all"], 1) * 1000, 2)
        result["rss_mb"], result["peak_rss_mb"] = (round(v, 1) for v in servers.tree_memory_mb(server.pid))
        ours = server_cpu + _children_cpu() - children_before
        result["foreign_cpu_pct"] = self._foreign(busy_before, ours)
        return result

    def _foreign(self, before: tuple[float, float], own_cpu: float) -> float:
        """Percent of the machine other processes used while we measured (0 on a quiet box)."""
        after = machine.busy_seconds()
        other = (after[0] - before[0]) - own_cpu
        return round(max(0.0, other) / max(after[1] - before[1], 1e-9) * 100, 1)

    # -- sections ------------------------------------------------------------------------

    def raw_runtime(self, model: BenchModel) -> None:
        weights = str(self.cache / model.model_id / "weights.onnx")
        for threads, streams, batch, spinning in RAW_CONFIGS:
            result = self.local(
                "raw",
                "--weights",
                weights,
                "--size",
                str(model.size),
                "--threads",
                str(threads),
                "--streams",
                str(streams),
                "--batch",
                str(batch),
                *([] if spinning else ["--no-spin"]),
            )
            result["rps"] = result["images_per_s"]
            result["cpu_per_request_ms"] = result["cpu_per_image_ms"]
            route = f"t{threads}s{streams}b{batch}{'-spin' if spinning else ''}"
            self.record(model, "raw onnxruntime", route, streams, result)

    def in_process(self, model: BenchModel) -> None:
        for concurrency in self.args.concurrency:
            result = self.local(
                "api",
                "--cache",
                str(self.cache),
                "--model",
                model.model_id,
                "--image",
                str(SAMPLE_IMAGE),
                "--concurrency",
                str(concurrency),
                "--confidence",
                str(CONFIDENCE),
            )
            self.record(model, "visionhost in-process", "api", concurrency, result)

    def served(
        self, model: BenchModel, system: str, server: servers.Server, plan: dict[str, list[int]]
    ) -> None:
        requests = {
            "legacy": servers.legacy_request(model.model_id, self.jpeg, CONFIDENCE),
            "v2": servers.v2_request(model.model_id, model.task, self.jpeg, CONFIDENCE),
        }
        self.log(f"starting {system}")
        server.start()
        try:
            for route, request in requests.items():
                status, body = servers.send_once(server.port, request)  # loads the model
                if status != 200:
                    raise RuntimeError(f"{system} {route} answered {status}: {body[:300]!r}")
            for route, concurrencies in plan.items():
                for concurrency in concurrencies:
                    self.record(
                        model, system, route, concurrency, self.http(server, requests[route], concurrency)
                    )
        finally:
            server.stop()

    def ours(self, model: BenchModel) -> None:
        both = {"legacy": self.args.concurrency, "v2": self.args.concurrency_v2}
        server = servers.ours(
            self.cache, servers.free_port(), self.scratch / "ours.log", self.args.batch_window_ms
        )
        self.served_or_failed(model, "visionhost", server, both)
        server = servers.ours(self.cache, servers.free_port(), self.scratch / "ours-nobatch.log", 0)
        self.served_or_failed(
            model, "visionhost no-batching", server, {"v2": [c for c in self.args.concurrency_v2 if c >= 4]}
        )

    def served_or_failed(
        self, model: BenchModel, system: str, server: servers.Server, plan: dict[str, list[int]]
    ) -> None:
        """`served`, with a server that fails to start or answer recorded as a failed point."""
        try:
            self.served(model, system, server, plan)
        except RuntimeError as error:
            self.log(f"{system} failed on {model.name}: {error}")
            self.rows.append({"model": model.name, "system": system, "error": str(error)})

    def roboflow(self, model: BenchModel) -> None:
        venv = self.args.roboflow_venv
        if not (venv / "bin" / "python").is_file():
            self.log(f"Roboflow venv {venv} missing; skipping (bench/README.md says how to make it)")
            return
        server = servers.roboflow(venv, self.cache, servers.free_port(), self.scratch / "roboflow.log")
        plan = {"legacy": self.args.concurrency, "v2": self.args.concurrency_v2}
        self.served_or_failed(model, "roboflow inference 1.8.3", server, plan)

    def soak(self, model: BenchModel, minutes: float) -> dict:
        """Our server under steady load; resident memory sampled every 10 seconds."""
        server = servers.ours(
            self.cache, servers.free_port(), self.scratch / "soak.log", self.args.batch_window_ms
        )
        request = servers.v2_request(model.model_id, model.task, self.jpeg, CONFIDENCE)
        (self.scratch / "soak.bin").write_bytes(request)
        server.start()
        samples = []
        try:
            servers.send_once(server.port, request)
            load = subprocess.Popen(
                [
                    PYTHON,
                    str(BENCH_DIR / "loadgen.py"),
                    "--port",
                    str(server.port),
                    "--request-file",
                    str(self.scratch / "soak.bin"),
                    "--concurrency",
                    "4",
                    "--duration",
                    str(minutes * 60),
                    "--warmup",
                    "0",
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            started = time.monotonic()
            while load.poll() is None:
                rss, _ = servers.tree_memory_mb(server.pid)
                samples.append((round(time.monotonic() - started, 1), round(rss, 1)))
                time.sleep(10)
            result = json.loads(load.stdout.read())
        finally:
            server.stop()
        self.log(f"soak: {result['requests']} requests, RSS {samples[0][1]} -> {samples[-1][1]} MB")
        return {"model": model.name, "minutes": minutes, "load": result, "rss_samples": samples}

    # -- models --------------------------------------------------------------------------

    def models(self) -> list[BenchModel]:
        wanted = [model for model in MODELS if model.name in self.args.models]
        missing = [model for model in wanted if not (self.cache / model.model_id / "weights.onnx").is_file()]
        if missing and ULTRALYTICS_PYTHON.is_file():
            versions = ",".join(model.model_id.split("/")[1] for model in missing)
            self.log(f"exporting {versions} with Ultralytics ({ULTRALYTICS_PYTHON})")
            subprocess.run(
                [
                    str(ULTRALYTICS_PYTHON),
                    str(BENCH_DIR / "make_models.py"),
                    "--cache",
                    str(self.cache),
                    "--models",
                    versions,
                ],
                check=True,
                capture_output=True,
            )
        ready = [model for model in wanted if (self.cache / model.model_id / "weights.onnx").is_file()]
        if not ready:
            self.log("no Ultralytics venv: falling back to the committed fixture detector")
            subprocess.run([PYTHON, "-c", _IMPORT_FIXTURE, str(self.cache)], check=True)
            ready = [FIXTURE]
        for model in ready:
            check_input_size(self.cache, model)
        return ready


def check_input_size(cache: Path, model: BenchModel) -> None:
    """The raw runtime is fed (size x size) tensors: the model must be declared with its real input."""
    environment = json.loads((cache / model.model_id / "environment.json").read_text())
    resize = environment.get("PREPROCESSING", {}).get("resize", {})
    filed = (resize.get("width"), resize.get("height"))
    if filed != (model.size, model.size):
        raise SystemExit(
            f"{model.name} is declared as {model.size}x{model.size}, but {model.model_id} in {cache} "
            f"takes {filed[0]}x{filed[1]}; fix its size in bench/run.py."
        )


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (the bench helpers, load generators)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_IMPORT_FIXTURE = """
import sys
from pathlib import Path
from inference_core.store import ModelStore
store = ModelStore(Path(sys.argv[1]))
if not store.has("fixture/1"):
    store.import_ultralytics_onnx(Path("assets/models/shapes-det-yolov8.onnx"), "fixture/1")
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(model.name for model in MODELS))
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--roboflow-venv", type=Path, default=DEFAULT_CACHE / "roboflow-venv")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per point")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--batch-window-ms", type=float, default=2.0)
    parser.add_argument("--soak-minutes", type=float, default=10.0)
    parser.add_argument("--no-soak", action="store_true")
    parser.add_argument("--no-roboflow", action="store_true")
    parser.add_argument("--quick", action="store_true", help="5 s points, concurrency 1 and 16 only")
    parser.add_argument(
        "--quiet-threshold",
        type=float,
        default=0.15,
        help="wait until other processes use less than this share of the CPUs",
    )
    parser.add_argument(
        "--max-wait-minutes", type=float, default=None, help="default 30, or 1 with --quick"
    )
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "results")
    args = parser.parse_args()
    args.models = args.models.split(",")
    args.concurrency, args.concurrency_v2 = [1, 4, 16], [1, 4, 8, 16]
    if args.max_wait_minutes is None:
        args.max_wait_minutes = 1.0 if args.quick else 30.0
    if args.quick:
        args.duration, args.warmup = 5.0, 2.0
        args.concurrency = args.concurrency_v2 = [1, 16]
    return args


def main() -> None:
    args = parse_args()
    bench = Bench(args)
    description = machine.describe()
    bench.log(f"machine: {description}")
    started = datetime.datetime.now()
    soak = None
    quiet = {}
    for model in bench.models():
        quiet[model.name] = machine.wait_until_quiet(
            args.quiet_threshold, args.max_wait_minutes * 60, bench.log
        )
        bench.raw_runtime(model)
        bench.in_process(model)
        bench.ours(model)
        if not args.no_roboflow:
            bench.roboflow(model)
    if not args.no_soak:
        machine.wait_until_quiet(args.quiet_threshold, args.max_wait_minutes * 60, bench.log)
        soak = bench.soak(bench.models()[0], args.soak_minutes)
    results = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": description,
        "background_busy_before_each_model": quiet,
        "settings": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "confidence": CONFIDENCE,
            "image": "assets/images/shapes-sample.jpg (640x480 JPEG, 90 KB)",
            "batch_window_ms": args.batch_window_ms,
            "quick": args.quick,
        },
        "rows": bench.rows,
        "soak": soak,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    stem = args.output / f"{started:%Y-%m-%d-%H%M}-{machine.slug(description)}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=1))
    stem.with_suffix(".md").write_text(report.markdown(results))
    bench.log(f"wrote {stem}.md and .json")


if __name__ == "__main__":
    main()
