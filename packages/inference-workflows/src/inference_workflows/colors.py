"""Colour values as Roboflow's blocks accept them: '#RRGGBB', 'rgb(r, g, b)', 'bgr(b, g, r)', a
supervision colour name, or a (b, g, r) triple."""

from __future__ import annotations

from typing import Any

import supervision as sv


def parse_bgr(color: Any) -> tuple[int, int, int]:
    if isinstance(color, (tuple, list)) and len(color) == 3:
        return (int(color[0]), int(color[1]), int(color[2]))
    text = str(color).strip()
    if text.startswith("#") and len(text) == 7:
        r, g, b = (int(text[i : i + 2], 16) for i in (1, 3, 5))
        return (b, g, r)
    lowered = text.lower()
    if lowered.startswith(("rgb(", "bgr(")) and text.endswith(")"):
        values = [int(part) for part in text[4:-1].split(",")]
        if len(values) != 3:
            raise ValueError(f"Unrecognised colour {color!r}.")
        return (
            (values[2], values[1], values[0])
            if lowered.startswith("rgb")
            else (values[0], values[1], values[2])
        )
    named = getattr(sv.Color, text.upper(), None)
    if isinstance(named, sv.Color):
        return named.as_bgr()
    raise ValueError(f"Unrecognised colour {color!r}.")
