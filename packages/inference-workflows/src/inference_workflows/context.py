"""What blocks may use while running: the model manager, the caller's API key and settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference_core.config import EnvReader
from inference_core.manager import ModelManager
from inference_core.settings import UrlPolicy


@dataclass(frozen=True)
class WorkflowSettings:
    """Switches for blocks that reach outside the process; everything outward is off by default."""

    #: folder local_file_sink may write under; None disables the block.
    local_sink_dir: Path | None = None
    #: webhook_sink may send requests (to addresses the URL policy allows).
    allow_webhooks: bool = False
    url_policy: UrlPolicy = field(default_factory=UrlPolicy)
    #: folder holding `{workspace}/{workflow_id}.json` specifications for the predefined route.
    specifications_dir: Path | None = None
    #: largest number of images one run may take.
    max_batch_size: int = 64
    #: the request asked that sinks do nothing (`disable_sinks`), as Roboflow's server allows.
    disable_sinks: bool = False
    #: saved workflows fetched from Roboflow's API are kept here for offline use (None: not kept).
    downloaded_dir: Path | None = None
    api_base_url: str = "https://api.roboflow.com"
    #: the key used when a request brings none
    api_key: str | None = None
    #: never fetch saved workflows from the API (OFFLINE_MODE)
    offline: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | EnvReader | None = None) -> WorkflowSettings:
        """Read through core's strict reader: a bad value raises SettingsError naming it."""
        from inference_core.settings import CoreSettings

        env = environ if isinstance(environ, EnvReader) else EnvReader(environ)
        # core's settings, borrowed through a reader of their own so that `env` reports only the
        # variables this package declares (the server's own reading of core's stays authoritative)
        core = CoreSettings.from_env(EnvReader(env.environ))
        default_downloaded = Path.home() / ".cache" / "visionhost" / "workflows"
        return cls(
            local_sink_dir=env.path("WORKFLOWS_LOCAL_SINK_DIR", None),
            allow_webhooks=env.flag("WORKFLOWS_ALLOW_WEBHOOKS", False),
            url_policy=core.url_policy,
            specifications_dir=env.path("WORKFLOWS_SPECIFICATIONS_DIR", None),
            max_batch_size=env.integer("WORKFLOWS_MAX_BATCH_SIZE", 64, minimum=1),
            downloaded_dir=env.path("WORKFLOWS_CACHE_DIR", default_downloaded),
            api_base_url=core.registry.api_base_url,
            api_key=core.registry.api_key,
            offline=core.registry.offline,
        )


def read_settings(env: EnvReader) -> WorkflowSettings:
    """This package's settings, declared under the `visionhost.settings` entry-point group so
    server start-up checks them and `inference config` lists them."""
    return WorkflowSettings.from_env(env)


@dataclass
class WorkflowContext:
    manager: ModelManager
    api_key: str | None = None
    settings: WorkflowSettings = field(default_factory=WorkflowSettings)
    #: per-step state kept across runs of the same runner (trackers, counters), by step name.
    state: dict[str, Any] = field(default_factory=dict)
