"""Print the third-party requirements of some workspace packages, one per line.

The images install these first, in a layer of their own, so that a change to our source
reinstalls only our packages, not ONNX Runtime, OpenVINO and OpenCV. Our own distributions
(`visionhost-*`) are followed through the workspace, extras included, and left out.

    python docker/requirements.py inference-server backend-onnx[cpu] backend-openvino
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

PACKAGES = Path(__file__).resolve().parent.parent / "packages"
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9._-]+)\s*(?:\[([^\]]*)\])?")


def workspace() -> tuple[dict[str, dict], dict[str, str]]:
    """Each distribution's `[project]` table by name, and each directory's distribution name."""
    projects, names = {}, {}
    for pyproject in sorted(PACKAGES.glob("*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())["project"]
        projects[project["name"]] = project
        names[pyproject.parent.name] = project["name"]
    return projects, names


def parse(requirement: str) -> tuple[str, tuple[str, ...]]:
    """(name, extras) of a requirement such as `visionhost-backend-onnx[cpu]>=0.1`."""
    name, extras = REQUIREMENT.match(requirement).groups()
    return name, tuple(extra.strip() for extra in (extras or "").split(",") if extra.strip())


def third_party(requests: list[str]) -> list[str]:
    """The requirements of the requested packages (directory or distribution names) that are
    not workspace packages themselves, in first-seen order."""
    projects, names = workspace()
    pending = [(names.get(name, name), extras) for name, extras in map(parse, requests)]
    seen, found = set(), []
    while pending:
        name, extras = pending.pop(0)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        project = projects[name]
        lines = list(project.get("dependencies", []))
        for extra in extras:
            lines += project.get("optional-dependencies", {})[extra]
        for line in lines:
            dependency = parse(line)
            if dependency[0] in projects:
                pending.append(dependency)
            elif line not in found:
                found.append(line)
    return found


if __name__ == "__main__":
    print("\n".join(third_party(sys.argv[1:])))
