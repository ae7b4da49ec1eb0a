"""Core settings, read from the environment in this one place.

Names follow Roboflow Inference's environment variables where one exists. Every value goes
through :class:`inference_core.config.EnvReader`, so a bad one stops start-up with one line
naming it. Core knows no runtime's options: each backend package reads its own from the
environment kept here (:attr:`CoreSettings.environ`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from inference_core.config import EnvReader

DEFAULT_MODEL_CACHE_DIR = Path.home() / ".cache" / "visionhost" / "models"


@dataclass(frozen=True)
class UrlPolicy:
    """What URL image sources the loader may fetch. The server tightens or loosens this."""

    allowed: bool = True
    allow_non_https: bool = True
    allow_without_fqdn: bool = False
    allow_non_global_addresses: bool = False
    whitelist: tuple[str, ...] = ()
    blacklist: tuple[str, ...] = ()
    #: seconds to connect, and between received bytes.
    timeout_seconds: float = 10.0
    #: seconds one whole fetch may take: redirects, connecting and every byte of the body.
    deadline_seconds: float = 15.0
    max_redirects: int = 5


@dataclass(frozen=True)
class ImageLimits:
    """Caps that keep hostile images from exhausting memory."""

    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 64_000_000
    #: scans one progressive JPEG may have (each is a pass over the whole image).
    max_jpeg_scans: int = 100
    #: metadata chunks, segments, blocks or tags one image file may have (PNG, JPEG, GIF, TIFF).
    max_image_chunks: int = 256
    allow_file_paths: bool = True
    allow_numpy: bool = True


DEFAULT_API_BASE_URL = "https://api.roboflow.com"


@dataclass(frozen=True)
class RegistrySettings:
    """Where missing models are downloaded from, and how carefully."""

    #: name of the model source (`roboflow`, `http-folder`, `local-folder`, a plugin's, or `none`).
    source: str = "roboflow"
    #: base URL (or folder) of folder-style sources.
    source_url: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    #: key used when a request brings none (Roboflow's `ROBOFLOW_API_KEY` / `API_KEY`).
    api_key: str | None = None
    device_id: str = "visionhost"
    #: never touch the network; serve only what is cached.
    offline: bool = False
    #: disk-cache cap in bytes (0: no cap); least recently used downloaded models go first.
    cache_max_bytes: int = 10 * 1024**3
    #: hosts, besides the registry's own, that artifact URLs from the registry may point at.
    artifact_hosts: tuple[str, ...] = ("storage.googleapis.com", "roboflow.com", "*.roboflow.com")
    #: seconds to connect and between received bytes.
    timeout_seconds: float = 30.0
    #: seconds one file may take in all.
    download_deadline_seconds: float = 1800.0
    #: extra tries after a transient failure (connection error, 5xx, timeout, truncation).
    retries: int = 3
    backoff_seconds: float = 0.5
    max_download_bytes: int = 4 * 1024**3
    max_metadata_bytes: int = 16 * 1024**2


@dataclass(frozen=True)
class CoreSettings:
    model_cache_dir: Path = DEFAULT_MODEL_CACHE_DIR
    max_active_models: int = 8
    #: a backend's `name`, or `auto` (the highest-ranked installed backend that loads the file).
    backend: str = "auto"
    #: threads per inference, for every backend that can limit them (0: the runtime's default).
    intra_op_threads: int = 0
    #: decode JPEGs at least twice the network's need on both sides at 1/2, 1/4 or 1/8 size:
    #: faster for large frames, predictions move slightly (bench/results/large-frames-*.md).
    reduced_jpeg_decode: bool = False
    image_limits: ImageLimits = field(default_factory=ImageLimits)
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)
    registry: RegistrySettings = field(default_factory=RegistrySettings)
    #: the environment these settings were read from; backends read their own settings from it.
    environ: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | EnvReader | None = None) -> CoreSettings:
        """Read from `environ` (the process environment by default), or through a given reader."""
        env = environ if isinstance(environ, EnvReader) else EnvReader(environ)
        return cls(
            model_cache_dir=env.path("MODEL_CACHE_DIR", DEFAULT_MODEL_CACHE_DIR),
            max_active_models=env.integer("MAX_ACTIVE_MODELS", 8, minimum=1),
            backend=(env.text("INFERENCE_BACKEND", "auto") or "auto").lower(),
            intra_op_threads=env.integer("INTRA_OP_THREADS", 0, minimum=0),
            reduced_jpeg_decode=env.flag("REDUCED_JPEG_DECODE", False),
            image_limits=ImageLimits(
                max_bytes=env.integer("MAX_IMAGE_BYTES", ImageLimits.max_bytes, minimum=1),
                max_pixels=env.integer("MAX_IMAGE_PIXELS", ImageLimits.max_pixels, minimum=1),
                max_jpeg_scans=env.integer("MAX_JPEG_SCANS", ImageLimits.max_jpeg_scans, minimum=1),
                max_image_chunks=env.integer("MAX_IMAGE_CHUNKS", ImageLimits.max_image_chunks, minimum=1),
                allow_file_paths=env.flag("ALLOW_FILE_INPUT", True),
                allow_numpy=env.flag("ALLOW_NUMPY_INPUT", True),
            ),
            url_policy=UrlPolicy(
                allowed=env.flag("ALLOW_URL_INPUT", True),
                allow_non_https=env.flag("ALLOW_NON_HTTPS_URL_INPUT", True),
                allow_without_fqdn=env.flag("ALLOW_URL_INPUT_WITHOUT_FQDN", False),
                allow_non_global_addresses=env.flag("ALLOW_URL_TO_NON_GLOBAL_ADDRESSES", False),
                whitelist=env.names("WHITELISTED_DESTINATIONS_FOR_URL_INPUT"),
                blacklist=env.names("BLACKLISTED_DESTINATIONS_FOR_URL_INPUT"),
                deadline_seconds=env.number("URL_INPUT_DEADLINE_SECONDS", UrlPolicy.deadline_seconds, minimum=0.001),
            ),
            registry=_registry_settings(env),
            environ=dict(env.environ),  # a plain dict: settings are pickled to worker processes
        )


def _registry_settings(env: EnvReader) -> RegistrySettings:
    defaults = RegistrySettings()
    source_url = env.text("MODEL_SOURCE_URL", None)
    default_source = "http-folder" if source_url else defaults.source
    return RegistrySettings(
        source=env.text("MODEL_SOURCE", default_source).lower(),
        source_url=source_url,
        api_base_url=env.text("API_BASE_URL", DEFAULT_API_BASE_URL).rstrip("/"),
        # Roboflow's one key setting, under both of its names (ROBOFLOW_API_KEY first).
        api_key=env.text("ROBOFLOW_API_KEY", None, aliases=("API_KEY",), secret=True),
        device_id=env.text("DEVICE_ID", defaults.device_id),
        offline=env.flag("OFFLINE_MODE", False),
        cache_max_bytes=env.integer("MODEL_CACHE_MAX_BYTES", defaults.cache_max_bytes, minimum=0),
        artifact_hosts=env.names("MODEL_ARTIFACT_HOSTS") or defaults.artifact_hosts,
        timeout_seconds=env.number("MODEL_DOWNLOAD_TIMEOUT", defaults.timeout_seconds, minimum=0.001),
        retries=env.integer("MODEL_DOWNLOAD_RETRIES", defaults.retries, minimum=0),
        max_download_bytes=env.integer("MODEL_DOWNLOAD_MAX_BYTES", defaults.max_download_bytes, minimum=1),
    )
