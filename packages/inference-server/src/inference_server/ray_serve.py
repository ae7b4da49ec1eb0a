"""The server as a Ray Serve application: replicas of the same app, autoscaled by Ray.

    pip install "visionhost-server[ray]"
    python -m inference_server.ray_serve --port 8000 --min-replicas 1 --max-replicas 4
    serve run inference_server.ray_serve:build_app min_replicas=1 max_replicas=4    # Ray's CLI

Every replica builds the whole app (routes, model manager, dynamic batcher) from its
environment, exactly as `python -m inference_server` does, so settings are the usual
variables; an `env_file` is handed to the replicas through Ray's runtime environment, which is
what reaches workers on other nodes of a cluster. Ray's proxy spreads requests over the
replicas and Serve's autoscaler adds replicas while the ongoing requests per replica stay above
`target_ongoing_requests`, and removes them when load falls.
"""

from __future__ import annotations

import argparse
import os
import signal
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inference_server.app import app_from_env
from inference_server.cli.envfile import read_env_file

if TYPE_CHECKING:
    from ray import serve

APPLICATION_NAME = "visionhost"


@dataclass(frozen=True)
class RayServeOptions:
    """The deployment's shape; `serve run ... key=value` and the command line both fill it."""

    min_replicas: int = 1
    max_replicas: int = 4
    initial_replicas: int | None = None
    target_ongoing_requests: float = 8.0
    max_ongoing_requests: int = 64
    num_cpus: float = 1.0
    env_file: str | None = None
    #: Seconds the load must stay above (below) target before a replica is added (removed);
    #: None keeps Ray's defaults.
    upscale_delay_s: float | None = None
    downscale_delay_s: float | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.min_replicas <= self.max_replicas or self.max_replicas < 1:
            raise ValueError(
                f"Replicas must satisfy 0 <= min ({self.min_replicas}) <= max ({self.max_replicas})."
            )

    @classmethod
    def from_args(cls, args: dict[str, Any]) -> RayServeOptions:
        """From `serve run` arguments (strings) or the command line (typed); None is unset."""
        unknown = set(args) - set(CONVERTERS)
        if unknown:
            raise ValueError(f"Unknown Ray Serve options {sorted(unknown)}; known: {sorted(CONVERTERS)}.")
        return cls(**{key: CONVERTERS[key](value) for key, value in args.items() if value is not None})

    def autoscaling_config(self) -> dict[str, Any]:
        config = {
            "min_replicas": self.min_replicas,
            "max_replicas": self.max_replicas,
            "target_ongoing_requests": self.target_ongoing_requests,
        }
        optional = {
            "initial_replicas": self.initial_replicas,
            "upscale_delay_s": self.upscale_delay_s,
            "downscale_delay_s": self.downscale_delay_s,
        }
        return config | {key: value for key, value in optional.items() if value is not None}

    def actor_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"num_cpus": self.num_cpus}
        if self.env_file:
            options["runtime_env"] = {"env_vars": read_env_file(Path(self.env_file))}
        return options


CONVERTERS = {
    "min_replicas": int,
    "max_replicas": int,
    "initial_replicas": int,
    "target_ongoing_requests": float,
    "max_ongoing_requests": int,
    "num_cpus": float,
    "env_file": str,
    "upscale_delay_s": float,
    "downscale_delay_s": float,
}


class VisionHostReplica:
    """One replica: the app built by `app_from_env` when the replica starts (not pickled)."""


def build_app(args: dict[str, Any] | None = None) -> serve.Application:
    """Ray Serve's application builder: `serve run inference_server.ray_serve:build_app`."""
    from ray import serve

    options = RayServeOptions.from_args(dict(args or {}))
    deployment = serve.deployment(
        serve.ingress(app_from_env)(VisionHostReplica),
        name="VisionHost",
        autoscaling_config=options.autoscaling_config(),
        max_ongoing_requests=options.max_ongoing_requests,
        ray_actor_options=options.actor_options(),
        health_check_period_s=10,
    )
    return deployment.bind()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m inference_server.ray_serve", description="Serve VisionHost on Ray Serve."
    )
    parser.add_argument("--address", help="Ray cluster to join (default: start a local one)")
    parser.add_argument("--host", default="127.0.0.1", help="where Ray's HTTP proxy listens")
    parser.add_argument("--port", type=int, default=8000)
    defaults = RayServeOptions()
    parser.add_argument("--min-replicas", type=int, default=defaults.min_replicas)
    parser.add_argument("--max-replicas", type=int, default=defaults.max_replicas)
    parser.add_argument("--initial-replicas", type=int)
    parser.add_argument("--target-ongoing-requests", type=float, default=defaults.target_ongoing_requests)
    parser.add_argument("--max-ongoing-requests", type=int, default=defaults.max_ongoing_requests)
    parser.add_argument("--num-cpus", type=float, default=defaults.num_cpus, help="CPUs per replica")
    parser.add_argument("--upscale-delay-s", type=float, help="load above target this long adds a replica")
    parser.add_argument("--downscale-delay-s", type=float, help="load below target this long removes one")
    parser.add_argument("--env-file", help="KEY=VALUE server settings for every replica")
    return parser


def main(argv: list[str] | None = None) -> None:
    import ray
    from ray import serve

    args = build_parser().parse_args(argv)
    # Local, private defaults: no usage report, nothing listening beyond loopback.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    node_address = "127.0.0.1" if args.address is None else None
    ray.init(address=args.address, include_dashboard=False, _node_ip_address=node_address)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve.start(http_options={"host": args.host, "port": args.port})
        options = {field.name: getattr(args, field.name) for field in fields(RayServeOptions)}
        serve.run(build_app(options), name=APPLICATION_NAME, route_prefix="/")
        print(f"VisionHost is served by Ray Serve at http://{args.host}:{args.port}", flush=True)
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        serve.shutdown()
        ray.shutdown()


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
