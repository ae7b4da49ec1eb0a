"""Shared test set-up for every package: the repo's tools and fixture assets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent
ASSETS = REPO_ROOT / "assets"
sys.path.insert(0, str(REPO_ROOT / "tools"))
sys.path.insert(0, str(REPO_ROOT / "tests" / "support"))


@pytest.fixture(scope="session")
def assets_dir() -> Path:
    return ASSETS


@pytest.fixture(scope="session")
def fixture_model_path():
    """Path of a committed fixture ONNX file, by name; fails loudly when it is missing."""

    def find(name: str) -> Path:
        path = ASSETS / "models" / name
        if not path.is_file():
            pytest.fail(f"fixture model {path} is missing; regenerate it with tools/train_fixtures.py")
        return path

    return find
