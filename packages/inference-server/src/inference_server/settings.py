"""Server settings, read from the environment in this one place.

Roboflow Inference's variable names are kept where one exists; ours carry a `VISIONHOST_` prefix
or a name Roboflow does not use. The core part (model cache, image limits, URL policy, the
Roboflow API key) is a :class:`CoreSettings`, tightened where the server's defaults differ from
the library's. :func:`load_settings` reads everything a server start needs, the installed
backends' own settings included, so a bad value stops start-up with one line.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from inference_core.config import EnvReader, read_package_settings
from inference_core.settings import CoreSettings

DEFAULT_PORT = 9001
DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
DEFAULT_MAX_BATCH_SIZE = 64


def default_worker_threads() -> int:
    """Enough threads to keep every core busy with decoding while models run."""
    return max(4, min(32, 2 * (os.cpu_count() or 1)))


@dataclass(frozen=True)
class ServerSettings:
    core: CoreSettings = field(default_factory=lambda: _server_core(CoreSettings(), EnvReader({})))
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    #: uvicorn worker processes (each loads its own models).
    num_workers: int = 1
    #: threads that decode images and run models, per process.
    worker_threads: int = field(default_factory=default_worker_threads)
    #: [ours] when non-empty, inference and model routes need one of these keys. Roboflow's own
    #: key (ROBOFLOW_API_KEY / API_KEY, for model downloads) is `core.registry.api_key`.
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
    def from_env(cls, environ: Mapping[str, str] | EnvReader | None = None) -> ServerSettings:
        env = environ if isinstance(environ, EnvReader) else EnvReader(environ)
        return cls(
            core=_server_core(CoreSettings.from_env(env), env),
            host=env.text("HOST", "0.0.0.0"),
            port=env.integer("PORT", DEFAULT_PORT, minimum=1, maximum=65535),
            num_workers=env.integer("NUM_WORKERS", 1, minimum=1),
            worker_threads=env.integer("WORKER_THREADS", default_worker_threads(), minimum=1),
            accepted_api_keys=env.names("VISIONHOST_API_KEYS", secret=True),
            preload_models=env.names("PRELOAD_MODELS"),
            max_batch_size=env.integer("MAX_BATCH_SIZE", DEFAULT_MAX_BATCH_SIZE, minimum=1),
            max_body_bytes=env.integer("MAX_REQUEST_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1),
            cors_allowed_origins=env.names("CORS_ALLOWED_ORIGINS"),
            legacy_route_enabled=env.flag("LEGACY_ROUTE_ENABLED", True),
            enable_prometheus=env.flag("ENABLE_PROMETHEUS", True),
            dynamic_batching=env.choice("DYNAMIC_BATCHING", "auto", ("auto", "on", "off")),
            batch_window_seconds=env.number("DYNAMIC_BATCH_WINDOW_MS", 2.0, minimum=0.0) / 1000.0,
            max_dynamic_batch=env.integer("DYNAMIC_BATCH_MAX_SIZE", 16, minimum=1),
            log_level=env.choice("LOG_LEVEL", "info", LOG_LEVELS),
            allowed_hosts=tuple(host.lower() for host in env.names("VISIONHOST_ALLOWED_HOSTS")),
            url_fetch_workers=env.integer("URL_FETCH_WORKERS", 4, minimum=1),
            legacy_get_state_changes=env.flag("LEGACY_GET_STATE_CHANGES", False),
        )


LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Mapping[str, str] | None = None
) -> tuple[ServerSettings, EnvReader]:
    """Everything a server start reads, checked: the server's, core's, each installed backend's
    and those of each installed package declaring its own (`visionhost.settings` entry points).

    Returns the settings and the reader, whose report says where each value came from. Raises
    SettingsError (one line: variable, value, what is allowed) on the first unusable value.
    """
    from inference_core.plugins import plugin_classes

    env = EnvReader(environ, env_file)
    settings = ServerSettings.from_env(env)
    for backend in plugin_classes("backends"):
        backend.read_settings(env)
    read_package_settings(env)
    return settings, env


def _server_core(core: CoreSettings, env: EnvReader) -> CoreSettings:
    """The server refuses server-side file paths unless ALLOW_FILE_INPUT says otherwise, and with
    several worker processes each runtime gets its share of the cores (see `threads_per_worker`)."""
    allow_files = env.flag("ALLOW_FILE_INPUT", False)
    limits = dataclasses.replace(core.image_limits, allow_file_paths=allow_files)
    threads = core.intra_op_threads or threads_per_worker(env.integer("NUM_WORKERS", 1, minimum=1))
    return dataclasses.replace(core, image_limits=limits, intra_op_threads=threads)


def threads_per_worker(workers: int) -> int:
    """Runtime threads for each of `workers` processes when INTRA_OP_THREADS is not set: with one
    worker the runtime's own default (0); with several, the cores divided between them, so N
    workers do not start N thread pools as wide as the machine that fight over the same cores."""
    if workers <= 1:
        return 0
    return max(1, (os.cpu_count() or 1) // workers)
