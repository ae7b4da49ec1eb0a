"""`inference server start|status|stop`: a container when possible, else a local process.

The state of the running server (how it was started, its pid or container, its port) lives in
a small JSON file under the state directory, next to the local server's log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from inference_server.cli import containers
from inference_server.cli.envfile import read_env_file
from inference_server.cli.http import is_healthy
from inference_server.settings import load_settings

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 15.0


def state_dir() -> Path:
    configured = os.environ.get("VISIONHOST_STATE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "visionhost"


@dataclass
class ServerRecord:
    mode: str  # "local" or "container"
    port: int
    host: str
    pid: int | None = None
    engine: str | None = None
    container: str | None = None
    log: str | None = None
    image: str | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @staticmethod
    def path() -> Path:
        return state_dir() / "server.json"

    def save(self) -> None:
        self.path().parent.mkdir(parents=True, exist_ok=True)
        self.path().write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def load(cls) -> ServerRecord | None:
        try:
            return cls(**json.loads(cls.path().read_text()))
        except (OSError, ValueError, TypeError):
            return None

    @classmethod
    def forget(cls) -> None:
        cls.path().unlink(missing_ok=True)


def start(args) -> int:
    record = ServerRecord.load()
    if record is not None and _alive(record):
        print(f"The server is already running at {record.url} ({_describe(record)}).")
        return 0
    env_file = Path(args.env_file) if args.env_file else None
    if env_file is not None and not env_file.is_file():
        print(f"Env file {env_file} does not exist.", file=sys.stderr)
        return 2
    probe = ServerRecord("local", args.port, args.host)
    if is_healthy(probe.url):
        print(f"Something already answers at {probe.url}; choose another --port.", file=sys.stderr)
        return 1
    if not args.local:
        engine = containers.find_engine()
        image = containers.choose_image(engine, args.image) if engine else args.image
        if engine is not None and engine.has_image(image):
            return _start_container(engine, image, args, env_file)
        reason = "no container engine answers" if engine is None else f"image {image} is not present"
        print(f"Starting a local server process ({reason}).")
    return _start_local(args, env_file)


def status(args) -> int:
    record = ServerRecord.load()
    if record is None or not _alive(record):
        print("The server is not running.")
        return 1
    health = "healthy" if is_healthy(record.url) else "not answering /healthz yet"
    print(f"The server is running at {record.url} ({_describe(record)}); {health}.")
    return 0


def stop(args) -> int:
    record = ServerRecord.load()
    if record is None or not _alive(record):
        ServerRecord.forget()
        print("The server is not running.")
        return 0
    if record.mode == "container":
        engine = containers.Engine(record.engine or "docker")
        engine.run("stop", record.container, timeout=STOP_TIMEOUT_SECONDS + 30)
        engine.run("rm", "-f", record.container, timeout=60)
    else:
        _stop_process(record.pid)
    ServerRecord.forget()
    print("The server has stopped.")
    return 0


def _start_local(args, env_file: Path | None) -> int:
    if args.volume:
        print("Note: -v volumes apply to containers only; set MODEL_CACHE_DIR for a local server.")
    env = dict(os.environ)
    if env_file is not None:
        env.update(read_env_file(env_file))
    env.update({"HOST": args.host, "PORT": str(args.port)})
    load_settings(env)  # a bad value stops here with one line, before a process is started
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    log_path = directory / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "inference_server"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    record = ServerRecord("local", args.port, args.host, pid=process.pid, log=str(log_path))
    if not _wait_until_healthy(record, lambda: process.poll() is None):
        _stop_process(process.pid)
        print(f"The server did not start. Last lines of {log_path}:", file=sys.stderr)
        print(_tail(log_path), file=sys.stderr)
        return 1
    record.save()
    print(f"The server is running at {record.url} (pid {process.pid}, log {log_path}).")
    return 0


def _start_container(engine: containers.Engine, image: str, args, env_file: Path | None) -> int:
    name = args.name or f"visionhost-server-{args.port}"
    if args.name and engine.has_container(name):
        print(f"A container named {name} exists already; choose another --name.", file=sys.stderr)
        return 1
    # Our default name: a container left over from a start whose record is gone.
    engine.run("rm", "-f", name, timeout=60)
    spec = containers.ContainerSpec(
        image=image,
        name=name,
        port=args.port,
        host=args.host,
        env_file=env_file,
        volumes=list(args.volume or []),
        network=args.network,
        gpu=containers.wants_gpu(image),
    )
    gpu_note = " and the GPU" if spec.gpu else ""
    print(f"Starting {image} as container {name} with {engine.command}{gpu_note}...")
    result = engine.run(*containers.run_arguments(engine, spec), timeout=300)
    if result.returncode != 0:
        print(f"{engine.command} run failed: {result.stderr.strip()}", file=sys.stderr)
        return 1
    record = ServerRecord(
        "container", args.port, "127.0.0.1", engine=engine.command, container=name, image=image
    )
    if not _wait_until_healthy(record, lambda: engine.is_running(name)):
        logs = engine.run("logs", "--tail", "30", name).stdout
        print(f"The container did not become healthy. Its last log lines:\n{logs}", file=sys.stderr)
        engine.run("rm", "-f", name, timeout=60)
        return 1
    record.save()
    print(f"The server is running at {record.url} (container {name}).")
    return 0


def _wait_until_healthy(record: ServerRecord, still_running, timeout: float = START_TIMEOUT_SECONDS) -> bool:
    """Poll /healthz, printing progress, until it answers, the server dies, or time runs out."""
    deadline = time.monotonic() + timeout
    print(f"Waiting for {record.url}/healthz ", end="", flush=True)
    while time.monotonic() < deadline:
        if is_healthy(record.url):
            print(" ready.")
            return True
        if not still_running():
            print(" the server exited.")
            return False
        print(".", end="", flush=True)
        time.sleep(0.5)
    print(" timed out.")
    return False


def _alive(record: ServerRecord) -> bool:
    if record.mode == "container":
        return containers.Engine(record.engine or "docker").is_running(record.container or "")
    return record.pid is not None and _is_our_process(record.pid)


def _is_our_process(pid: int) -> bool:
    """The pid exists and is still our server (pids get reused)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        try:
            return b"inference_server" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def _stop_process(pid: int | None) -> None:
    if pid is None or not _is_our_process(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not _reap(pid):
            return
        time.sleep(0.2)
    os.kill(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> bool:
    """Whether the process still runs (collecting it if it is our child and has exited)."""
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return _is_our_process(pid) and not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _describe(record: ServerRecord) -> str:
    if record.mode == "container":
        return f"container {record.container} of {record.image or 'an image'} on {record.engine}"
    return f"local process {record.pid}, log {record.log}"


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
