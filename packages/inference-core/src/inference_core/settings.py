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
    timeout_seconds: float = 10.0
    max_redirects: int = 5


@dataclass(frozen=True)
class ImageLimits:
    """Caps that keep hostile images from exhausting memory."""

    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 64_000_000
    allow_file_paths: bool = True
    allow_numpy: bool = True


@dataclass(frozen=True)
class CoreSettings:
    model_cache_dir: Path = DEFAULT_MODEL_CACHE_DIR
    max_active_models: int = 8
    backend: str = "auto"
    onnx_execution_providers: tuple[str, ...] = ()
    intra_op_threads: int = 0
    image_limits: ImageLimits = field(default_factory=ImageLimits)
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CoreSettings:
        env = os.environ if environ is None else environ
        return cls(
            model_cache_dir=Path(env.get("MODEL_CACHE_DIR") or DEFAULT_MODEL_CACHE_DIR),
            max_active_models=int(env.get("MAX_ACTIVE_MODELS", "8")),
            backend=env.get("INFERENCE_BACKEND", "auto").strip().lower() or "auto",
            onnx_execution_providers=parse_list(env.get("ONNXRUNTIME_EXECUTION_PROVIDERS")),
            intra_op_threads=int(env.get("INTRA_OP_THREADS", "0")),
            image_limits=ImageLimits(
                max_bytes=int(env.get("MAX_IMAGE_BYTES", str(ImageLimits.max_bytes))),
                max_pixels=int(env.get("MAX_IMAGE_PIXELS", str(ImageLimits.max_pixels))),
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
            ),
        )
