"""Server settings, read from the environment in this one place.

Roboflow Inference's variable names are kept where one exists; ours carry a `VISIONHOST_` prefix
or a name Roboflow does not use. The core part (model cache, image limits, URL policy) is a
:class:`CoreSettings`, tightened where the server's defaults differ from the library's.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from inference_core.settings import CoreSettings, parse_bool, parse_list

DEFAULT_PORT = 9001
DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_BATCH_SIZE = 64


def default_worker_threads() -> int:
    """Enough threads to keep every core busy with decoding while models run."""
    return max(4, min(32, 2 * (os.cpu_count() or 1)))


@dataclass(frozen=True)
class ServerSettings:
    core: CoreSettings = field(default_factory=lambda: _server_core(CoreSettings()))
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    #: uvicorn worker processes (each loads its own models).
    num_workers: int = 1
    #: threads that decode images and run models, per process.
    worker_threads: int = field(default_factory=default_worker_threads)
    #: Roboflow's key: used for model downloads, and the fallback when a request has none.
    api_key: str | None = None
    #: [ours] when non-empty, inference and model routes need one of these keys.
    accepted_api_keys: tuple[str, ...] = ()
    preload_models: tuple[str, ...] = ()
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    cors_allowed_origins: tuple[str, ...] = ()
    legacy_route_enabled: bool = True
    enable_prometheus: bool = True
    #: `auto` gathers requests into batches only for models on an accelerator: on the CPU it was
    #: measured to add memory without a clear throughput gain (bench/results); `on` / `off` force it.
    dynamic_batching: str = "auto"
    #: seconds requests for one model wait to be gathered into one batch; 0 turns batching off.
    batch_window_seconds: float = 0.002
    #: most images in one gathered forward pass.
    max_dynamic_batch: int = 16
    log_level: str = "info"
    #: [ours] when non-empty, requests must name one of these in their Host header (DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()
    #: [ours] threads that download image URLs, apart from inference so slow hosts cannot starve it.
    url_fetch_workers: int = 4
    #: [ours] let GET /clear_cache and GET /start/... change state, as Roboflow's server does.
    legacy_get_state_changes: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerSettings:
        env = os.environ if environ is None else environ
        return cls(
            core=_server_core(CoreSettings.from_env(env), env),
            host=env.get("HOST", "0.0.0.0") or "0.0.0.0",
            port=_int(env, "PORT", DEFAULT_PORT),
            num_workers=max(1, _int(env, "NUM_WORKERS", 1)),
            worker_threads=max(1, _int(env, "WORKER_THREADS", default_worker_threads())),
            api_key=env.get("API_KEY") or env.get("ROBOFLOW_API_KEY") or None,
            accepted_api_keys=parse_list(env.get("VISIONHOST_API_KEYS")),
            preload_models=parse_list(env.get("PRELOAD_MODELS")),
            max_batch_size=max(1, _int(env, "MAX_BATCH_SIZE", DEFAULT_MAX_BATCH_SIZE)),
            max_body_bytes=max(1, _int(env, "MAX_REQUEST_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
            cors_allowed_origins=parse_list(env.get("CORS_ALLOWED_ORIGINS")),
            legacy_route_enabled=parse_bool(env.get("LEGACY_ROUTE_ENABLED"), True),
            enable_prometheus=parse_bool(env.get("ENABLE_PROMETHEUS"), True),
            dynamic_batching=_choice(env, "DYNAMIC_BATCHING", ("auto", "on", "off")),
            batch_window_seconds=max(0.0, _float(env, "DYNAMIC_BATCH_WINDOW_MS", 2.0) / 1000.0),
            max_dynamic_batch=max(1, _int(env, "DYNAMIC_BATCH_MAX_SIZE", 16)),
            log_level=(env.get("LOG_LEVEL") or "info").lower(),
            allowed_hosts=tuple(host.lower() for host in parse_list(env.get("VISIONHOST_ALLOWED_HOSTS"))),
            url_fetch_workers=max(1, _int(env, "URL_FETCH_WORKERS", 4)),
            legacy_get_state_changes=parse_bool(env.get("LEGACY_GET_STATE_CHANGES"), False),
        )


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or choices[0]).strip().lower()
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _server_core(core: CoreSettings, env: Mapping[str, str] | None = None) -> CoreSettings:
    """The server refuses server-side file paths unless ALLOW_FILE_INPUT says otherwise, and with
    several worker processes each runtime gets its share of the cores (see `threads_per_worker`)."""
    env = env or {}
    allow_files = parse_bool(env.get("ALLOW_FILE_INPUT"), False)
    limits = dataclasses.replace(core.image_limits, allow_file_paths=allow_files)
    threads = core.intra_op_threads or threads_per_worker(max(1, _int(env, "NUM_WORKERS", 1)))
    return dataclasses.replace(core, image_limits=limits, intra_op_threads=threads)


def threads_per_worker(workers: int) -> int:
    """Runtime threads for each of `workers` processes when INTRA_OP_THREADS is not set: with one
    worker the runtime's own default (0); with several, the cores divided between them, so N
    workers do not start N thread pools as wide as the machine that fight over the same cores."""
    if workers <= 1:
        return 0
    return max(1, (os.cpu_count() or 1) // workers)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Environment variable {name} must be a whole number, got {value!r}.") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"Environment variable {name} must be a number, got {value!r}.") from None
