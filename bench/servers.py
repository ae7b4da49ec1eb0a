"""Start the servers under test, build their requests, and read their CPU time and memory.

Both servers run as child processes on 127.0.0.1 and are measured through /proc: CPU seconds
(user + system) of the whole process tree, current and peak resident memory.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: the Python that runs our server and the bench's helpers (the project venv unless told otherwise)
PYTHON = os.environ.get("BENCH_PYTHON") or str(REPO / ".venv" / "bin" / "python")
API_KEY = "bench-key"
TASK_ROUTES = {
    "object-detection": "object_detection",
    "instance-segmentation": "instance_segmentation",
    "classification": "classification",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text().split()
                pending.extend(int(child) for child in children)
        except OSError:
            continue
    return found


def _cpu_seconds(stat_path: str) -> float | None:
    """User plus system CPU seconds from a /proc `stat` file; None once the task is gone."""
    try:
        fields = Path(stat_path).read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def tree_cpu_seconds(pid: int) -> float:
    members = (_cpu_seconds(f"/proc/{member}/stat") for member in process_tree(pid))
    return sum(seconds for seconds in members if seconds is not None)


def thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of each thread of one process, by thread id."""
    tasks = {int(task): _cpu_seconds(f"/proc/{pid}/task/{task}/stat")
             for task in os.listdir(f"/proc/{pid}/task")}
    return {task: seconds for task, seconds in tasks.items() if seconds is not None}


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident memory of the process tree (peak: sum of each one's VmHWM)."""
    current = peak = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        current += int(values.get("VmRSS", "0 kB").split()[0])
        peak += int(values.get("VmHWM", "0 kB").split()[0])
    return current / 1024, peak / 1024


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    log_path: Path
    ready_path: str = "/info"
    #: the server's standard output to the caller (`process.stdout`, text) instead of the log
    stdout_to_caller: bool = False
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, timeout: float = 180.0) -> None:
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            stdout=subprocess.PIPE if self.stdout_to_caller else log,
            stderr=log if self.stdout_to_caller else subprocess.STDOUT,
            text=self.stdout_to_caller,
            cwd=self.env.get("BENCH_CWD"),
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}{self.ready_path}", timeout=2
                ) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready in {timeout:.0f}s; see {self.log_path}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def ours(
    cache: Path, port: int, log_path: Path, batch_window_ms: float, extra_env: dict | None = None
) -> Server:
    env = dict(os.environ)
    env.update(
        PORT=str(port),
        HOST="127.0.0.1",
        MODEL_CACHE_DIR=str(cache),
        OFFLINE_MODE="true",
        DYNAMIC_BATCH_WINDOW_MS=str(batch_window_ms),
        # A window of 0 means no batching; any other window is measured with batching forced on
        # (the server's `auto` default batches GPU models only).
        DYNAMIC_BATCHING="on" if batch_window_ms > 0 else "off",
        LOG_LEVEL="warning",
    )
    env.update(extra_env or {})
    return Server("visionhost", [PYTHON, "-m", "inference_server"], env, port, log_path, "/healthz")


def roboflow(venv: Path, cache: Path, port: int, log_path: Path, extra_env: dict | None = None) -> Server:
    """Roboflow's server from its own venv, offline, with its old loader reading the cache layout."""
    # its app mounts the landing page's static folders relative to the working directory
    workdir = cache.parent / "roboflow-cwd"
    for folder in ("static", "_next/static"):
        (workdir / "inference" / "landing" / "out" / folder).mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env.update(
        PORT=str(port),
        HOST="127.0.0.1",
        MODEL_CACHE_DIR=str(cache),
        OFFLINE_MODE="True",
        USE_INFERENCE_MODELS="False",
        DISABLE_VERSION_CHECK="True",
        METRICS_ENABLED="False",
        ENABLE_BUILDER="False",
        ENABLE_STREAM_API="False",
        DISABLE_WORKFLOW_ENDPOINTS="True",
        CORE_MODELS_ENABLED="False",
        LOG_LEVEL="WARNING",
        API_BASE_URL="http://127.0.0.1:9",
        BENCH_CWD=str(workdir),
        PYTHONPATH=str(BENCH_DIR),
    )
    env.update(extra_env or {})
    command = [
        str(venv / "bin" / "python"),
        "-m",
        "uvicorn",
        "roboflow_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return Server("roboflow", command, env, port, log_path, "/info")


def legacy_request(model_id: str, jpeg: bytes, confidence: float) -> bytes:
    body = base64.b64encode(jpeg)
    target = f"/{model_id}?api_key={API_KEY}&confidence={confidence}"
    return http_request(target, body, "application/x-www-form-urlencoded")


def v2_request(model_id: str, task: str, jpeg: bytes, confidence: float) -> bytes:
    payload = {
        "model_id": model_id,
        "api_key": API_KEY,
        "confidence": confidence,
        "image": {"type": "base64", "value": base64.b64encode(jpeg).decode("ascii")},
    }
    return http_request(f"/infer/{TASK_ROUTES[task]}", json.dumps(payload).encode(), "application/json")


def http_request(target: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode("ascii") + body


def send_once(port: int, request: bytes, timeout: float = 300.0) -> tuple[int, bytes]:
    """One request on a fresh connection (model warm-up and sanity checks)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request.replace(b"Connection: keep-alive", b"Connection: close"))
        chunks = []
        while chunk := connection.recv(1 << 16):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return int(head[9:12]), body


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


def run_bench_script(script: str, arguments: list[str], duration: float, warmup: float) -> dict:
    """Run `bench/<script>` in the bench Python for `duration` seconds after `warmup`; its
    standard output is one JSON object (local.py and loadgen.py both work this way). When the
    script dies, the point is a failure carrying the end of its error output."""
    completed = subprocess.run(
        [PYTHON, str(BENCH_DIR / script), *arguments, "--duration", str(duration), "--warmup", str(warmup)],
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        lines = completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"]
        return {"error": f"bench/{script} failed: {lines[-1]}", "requests": 0, "rps": 0.0}
    return json.loads(completed.stdout)
