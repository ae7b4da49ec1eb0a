"""docs/PARAMETERS.md is written from the parameter definitions and must stay current."""

from __future__ import annotations

from inference_core.params import PARAMETERS, parameters_markdown


def test_the_parameter_reference_matches_the_definitions(assets_dir):
    committed = (assets_dir.parent / "docs" / "PARAMETERS.md").read_text(encoding="utf-8")
    assert committed == parameters_markdown(), "run: .venv/bin/python scripts/write_parameter_docs.py"
    for parameter in PARAMETERS:
        assert f"| `{parameter.name}` |" in committed
