"""Running a workflow over a folder of images, resumably: each finished image is appended to
the results file (JSONL or CSV) at once, and a rerun skips the images already there. Image
outputs are written as JPEG files next to the results and referenced by relative path.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
FORMATS = ("jsonl", "csv")


def images_in(directory: Path) -> list[Path]:
    """Image files under `directory`, recursively, in a stable order."""
    return sorted(
        path for path in directory.rglob("*") if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
    )


def results_path(output: Path, output_format: str) -> Path:
    return output / f"results.{output_format}"


def already_done(path: Path, output_format: str) -> set[str]:
    """Images (relative paths) the results file already holds; a torn last line is ignored."""
    if not path.is_file():
        return set()
    done: set[str] = set()
    if output_format == "jsonl":
        for line in path.read_text().splitlines():
            try:
                done.add(json.loads(line)["image"])
            except (ValueError, KeyError, TypeError):
                continue
        return done
    with path.open(newline="") as handle:
        return {row["image"] for row in csv.DictReader(handle) if row.get("image")}


def process_folder(
    run: Callable[[Path], dict[str, Any]],
    directory: Path,
    output: Path,
    output_format: str = "jsonl",
    progress: Callable[[Iterator[Path], int], Iterator[Path]] | None = None,
) -> tuple[int, int, list[tuple[str, str]]]:
    """Run `run(image_path)` (one output dict) for every image not done yet.

    Returns (processed, skipped, failures as (image, error message)).
    """
    if output_format not in FORMATS:
        raise ValueError(f"output format must be one of {FORMATS}, got {output_format!r}")
    output.mkdir(parents=True, exist_ok=True)
    path = results_path(output, output_format)
    done = already_done(path, output_format)
    todo = [image for image in images_in(directory) if image.relative_to(directory).as_posix() not in done]
    failures: list[tuple[str, str]] = []
    processed = 0
    iterator: Iterator[Path] = iter(todo)
    if progress is not None:
        iterator = progress(iterator, len(todo))
    writer = _CsvAppender(path) if output_format == "csv" else None
    for image in iterator:
        name = image.relative_to(directory).as_posix()
        try:
            outputs = run(image)
        except Exception as error:  # one bad image must not stop the folder; it is reported
            failures.append((name, getattr(error, "message", str(error))))
            continue
        record = {"image": name, **_save_images(outputs, output, name)}
        if writer is not None:
            writer.append(record)
        else:
            with path.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
        processed += 1
    return processed, len(done), failures


def _save_images(outputs: dict[str, Any], output: Path, name: str) -> dict[str, Any]:
    """Outputs with every base64 image written to `images/` and replaced by its relative path."""

    def walk(value: Any, label: str) -> Any:
        if isinstance(value, dict) and value.get("type") == "base64" and isinstance(value.get("value"), str):
            target = output / "images" / f"{name}.{label}.jpg"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(base64.b64decode(value["value"]))
            return target.relative_to(output).as_posix()
        if isinstance(value, dict):
            return {key: walk(item, f"{label}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, f"{label}.{index}") for index, item in enumerate(value)]
        return value

    return {key: walk(value, key) for key, value in outputs.items()}


class _CsvAppender:
    """One row per image; non-scalar cells as JSON. The header is the first record's keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.columns: list[str] | None = None
        if path.is_file() and path.stat().st_size:
            with path.open(newline="") as handle:
                self.columns = next(csv.reader(handle), None)

    def append(self, record: dict[str, Any]) -> None:
        new_file = self.columns is None
        if new_file:
            self.columns = list(record)
        cells = {key: _cell(value) for key, value in record.items() if key in self.columns}
        with self.path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.columns, lineterminator="\n")
            if new_file:
                writer.writeheader()
            writer.writerow(cells)


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value)
