"""`inference plugins`: every installed plugin, what it registers, its version, its load error."""

from __future__ import annotations

import json

from inference_core.plugins import get_plugins


def list_plugins(args) -> int:
    report = get_plugins().report()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if not report:
        print("No plugins installed (reinstall the packages: ./scripts/setup.sh).")
        return 0
    rows = [("PLUGIN", "DISTRIBUTION", "VERSION", "REGISTERS")]
    for plugin in report:
        registers = "; ".join(
            f"{kind}: {', '.join(names)}" for kind, names in plugin["registers"].items()
        )
        if plugin["error"]:
            registers = f"{registers}; " if registers else ""
            registers += f"ERROR: {plugin['error']}"
        rows.append(
            (plugin["name"], plugin["distribution"] or "-", plugin["version"] or "-", registers or "nothing")
        )
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row[:3], widths, strict=True)) + "  " + row[3])
    failed = sum(1 for plugin in report if plugin["error"])
    return 1 if failed and args.strict else 0
