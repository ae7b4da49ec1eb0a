"""`python -m inference_server`: serve on HOST:PORT with settings from the environment."""

from __future__ import annotations

import uvicorn

from inference_server.settings import ServerSettings


def main() -> None:
    settings = ServerSettings.from_env()
    uvicorn.run(
        "inference_server.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.num_workers,
        log_level=settings.log_level,
        # Our own middleware counts bodies; uvicorn's defaults for everything else.
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
