"""README.md's fenced examples, read with the marker written on the line before each block.

    <!-- example: run -->          run, in order, by tests/test_readme_examples.py
    <!-- example: server (...) --> the command that starts the server the later examples talk to
    <!-- example: install -->      pip lines: checked against the packages and what later snippets import
    <!-- example: parse-only (why) -->  cannot run here (GPU, cluster, containers): parsed only

A block without a marker is treated as parse-only. Only `sh`/`bash`/`shell` and `python` blocks
are examples; other fences (tables of output, YAML) are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

KINDS = ("run", "server", "install", "parse-only")
LANGUAGES = {"sh": "shell", "bash": "shell", "shell": "shell", "python": "python", "py": "python"}
MARKER = re.compile(r"^<!--\s*example:\s*([a-z-]+)(.*?)-->\s*$")
FENCE = re.compile(r"^```\s*([A-Za-z]*)\s*$")


@dataclass(frozen=True)
class Example:
    kind: str
    language: str
    code: str
    line: int  # 1-based line of the opening fence
    source: str = "README.md"

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line} ({self.kind} {self.language})"


def read_examples(path: Path, source: str = "README.md") -> list[Example]:
    lines = path.read_text(encoding="utf-8").splitlines()
    examples = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening or not opening.group(1):
            index += 1
            continue
        end = next((i for i in range(index + 1, len(lines)) if lines[i].startswith("```")), None)
        if end is None:
            raise ValueError(f"{source}:{index + 1}: the code block is never closed")
        language = LANGUAGES.get(opening.group(1).lower())
        if language:
            marker = MARKER.match(lines[index - 1]) if index > 0 else None
            kind = marker.group(1) if marker else "parse-only"
            if kind not in KINDS:
                raise ValueError(f"{source}:{index}: unknown example kind {kind!r}; one of {KINDS}")
            code = "\n".join(lines[index + 1 : end]) + "\n"
            examples.append(Example(kind, language, code, index + 1, source))
        index = end + 1
    return examples
