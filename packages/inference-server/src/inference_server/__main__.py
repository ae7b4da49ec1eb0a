"""`python -m inference_server`: serve on HOST:PORT with settings from the environment."""

from __future__ import annotations

import sys

import uvicorn
from inference_core.errors import SettingsError

from inference_server.settings import load_settings


def main() -> int:
    try:
        settings, _ = load_settings()
    except SettingsError as error:  # one line naming the variable, not a traceback
        print(f"Error: {error.message}", file=sys.stderr)
        return 2
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
