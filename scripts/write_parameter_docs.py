"""Write docs/PARAMETERS.md from the parameter definitions in inference_core/params.py."""

from __future__ import annotations

from pathlib import Path

from inference_core.params import parameters_markdown

TARGET = Path(__file__).resolve().parent.parent / "docs" / "PARAMETERS.md"

if __name__ == "__main__":
    TARGET.write_text(parameters_markdown(), encoding="utf-8")
    print(f"Wrote {TARGET}")
