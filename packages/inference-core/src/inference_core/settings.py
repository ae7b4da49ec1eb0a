"""Core settings, read from the environment in this one place.

Names follow Roboflow Inference's environment variables where one exists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MODEL_CACHE_DIR = Path.home() / ".cache" / "visionhost" / "models"


def parse_bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def parse_list(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(item.strip() for item in value.split(",") if item.strip())


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
    backend: str = "auto"
    onnx_execution_providers: tuple[str, ...] = ()
    intra_op_threads: int = 0
    #: let idle intra-op threads busy-wait for work: a little lower latency for one request at a
    #: time, but CPU burnt that concurrent requests (and their image decoding) could have used.
    intra_op_spinning: bool = False
    #: decode JPEGs at least twice the network's need on both sides at 1/2, 1/4 or 1/8 size:
    #: faster for large frames, predictions move slightly (bench/results/large-frames-*.md).
    reduced_jpeg_decode: bool = False
    image_limits: ImageLimits = field(default_factory=ImageLimits)
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)
    registry: RegistrySettings = field(default_factory=RegistrySettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CoreSettings:
        env = os.environ if environ is None else environ
        return cls(
            model_cache_dir=Path(env.get("MODEL_CACHE_DIR") or DEFAULT_MODEL_CACHE_DIR),
            max_active_models=int(env.get("MAX_ACTIVE_MODELS", "8")),
            backend=env.get("INFERENCE_BACKEND", "auto").strip().lower() or "auto",
            onnx_execution_providers=parse_list(env.get("ONNXRUNTIME_EXECUTION_PROVIDERS")),
            intra_op_threads=int(env.get("INTRA_OP_THREADS", "0")),
            intra_op_spinning=parse_bool(env.get("INTRA_OP_SPINNING"), False),
            reduced_jpeg_decode=parse_bool(env.get("REDUCED_JPEG_DECODE"), False),
            image_limits=ImageLimits(
                max_bytes=int(env.get("MAX_IMAGE_BYTES", str(ImageLimits.max_bytes))),
                max_pixels=int(env.get("MAX_IMAGE_PIXELS", str(ImageLimits.max_pixels))),
                max_jpeg_scans=int(env.get("MAX_JPEG_SCANS", str(ImageLimits.max_jpeg_scans))),
                max_image_chunks=int(env.get("MAX_IMAGE_CHUNKS", str(ImageLimits.max_image_chunks))),
                allow_file_paths=parse_bool(env.get("ALLOW_FILE_INPUT"), True),
                allow_numpy=parse_bool(env.get("ALLOW_NUMPY_INPUT"), True),
            ),
            url_policy=UrlPolicy(
                allowed=parse_bool(env.get("ALLOW_URL_INPUT"), True),
                allow_non_https=parse_bool(env.get("ALLOW_NON_HTTPS_URL_INPUT"), True),
                allow_without_fqdn=parse_bool(env.get("ALLOW_URL_INPUT_WITHOUT_FQDN"), False),
                allow_non_global_addresses=parse_bool(
                    env.get("ALLOW_URL_TO_NON_GLOBAL_ADDRESSES"), False
                ),
                whitelist=parse_list(env.get("WHITELISTED_DESTINATIONS_FOR_URL_INPUT")),
                blacklist=parse_list(env.get("BLACKLISTED_DESTINATIONS_FOR_URL_INPUT")),
                deadline_seconds=float(env.get("URL_INPUT_DEADLINE_SECONDS") or UrlPolicy.deadline_seconds),
            ),
            registry=_registry_settings(env),
        )


def _registry_settings(env: Mapping[str, str]) -> RegistrySettings:
    defaults = RegistrySettings()
    source_url = env.get("MODEL_SOURCE_URL") or None
    default_source = "http-folder" if source_url else defaults.source
    return RegistrySettings(
        source=(env.get("MODEL_SOURCE") or default_source).strip().lower(),
        source_url=source_url,
        api_base_url=(env.get("API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/"),
        api_key=env.get("ROBOFLOW_API_KEY") or env.get("API_KEY") or None,
        device_id=env.get("DEVICE_ID") or defaults.device_id,
        offline=parse_bool(env.get("OFFLINE_MODE"), False),
        cache_max_bytes=int(env.get("MODEL_CACHE_MAX_BYTES") or defaults.cache_max_bytes),
        artifact_hosts=parse_list(env.get("MODEL_ARTIFACT_HOSTS")) or defaults.artifact_hosts,
        timeout_seconds=float(env.get("MODEL_DOWNLOAD_TIMEOUT") or defaults.timeout_seconds),
        retries=int(env.get("MODEL_DOWNLOAD_RETRIES") or defaults.retries),
        max_download_bytes=int(env.get("MODEL_DOWNLOAD_MAX_BYTES") or defaults.max_download_bytes),
    )
