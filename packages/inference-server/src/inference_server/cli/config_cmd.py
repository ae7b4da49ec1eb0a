"""`inference config`: the effective settings, checked, and where each value came from."""

from __future__ import annotations

import json
from pathlib import Path

from inference_server.cli.envfile import read_env_file
from inference_server.settings import load_settings


def show_config(args) -> int:
    env_file = read_env_file(Path(args.env_file)) if args.env_file else None
    _, reader = load_settings(env_file=env_file)  # a bad value raises: main prints its one line
    records = reader.report()
    if args.json:
        print(json.dumps([{"name": r.name, "value": r.value, "origin": r.origin} for r in records], indent=2))
        return 0
    rows = [("VARIABLE", "VALUE", "FROM")] + [(r.name, r.value or '""', r.origin) for r in records]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    for name, value, origin in rows:
        print(f"{name.ljust(widths[0])}  {value.ljust(widths[1])}  {origin}")
    print("All settings are valid.")
    return 0
