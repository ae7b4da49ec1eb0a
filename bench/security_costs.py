"""The worst time and memory one image can cost the server with default settings.

Each case is the most expensive input the image gate still accepts (or a refused one, for
comparison) under the default ImageLimits, decoded in a fresh process after a warm-up decode;
the peak RSS growth is the peak (VmHWM, reset first) over the resident size before decoding.
Prints one JSON line per case; `--markdown` prints a table for bench/results/.

    .venv/bin/python bench/security_costs.py --markdown
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))


def build(case: str) -> bytes:
    import hostile_images as hostile
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    if case == "jpeg-64mp-noise":  # the pixel cap, as a baseline JPEG under the byte cap
        noise = rng.integers(0, 256, (8000, 8000, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(noise).save(buffer, "JPEG", quality=40)
        return buffer.getvalue()
    if case == "jpeg-64mp-16-scans":  # the pixel cap at the scan budget's limit for that size
        return hostile.progressive_jpeg_with_scans(16, 8000, 8000)
    if case == "jpeg-4mp-100-scans":  # the scan cap on a size where pixels x scans fits the budget
        return hostile.progressive_jpeg_with_scans(100, 2000, 2000)
    if case == "jpeg-64mp-1000-scans-refused":
        return hostile.progressive_jpeg_with_scans(1000, 8000, 8000)
    if case == "png-64mp-flat":  # a 64 MP PNG that compresses to almost nothing
        buffer = io.BytesIO()
        Image.new("RGB", (8000, 8000), (10, 20, 30)).save(buffer, "PNG")
        return buffer.getvalue()
    if case == "png-250-chunks":  # just under the chunk cap, each chunk 1 kB
        return hostile.png_with_chunks(250, b"zzZz", b"x" * 1000)
    if case == "gif-64mp":
        buffer = io.BytesIO()
        Image.new("P", (8000, 8000), 3).save(buffer, "GIF")
        return buffer.getvalue()
    if case == "bmp-rle-1mib":  # RLE BMP decoded by Pillow's Python loop, at its size cap
        return hostile.rle8_bmp(1000, 500)
    if case == "webp-16mp-lossless":
        noise = rng.integers(0, 256, (4000, 4000, 3), dtype=np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(noise).save(buffer, "WEBP", lossless=True, method=0)
        return buffer.getvalue()
    raise ValueError(case)


CASES = [
    "jpeg-64mp-noise", "jpeg-64mp-16-scans", "jpeg-4mp-100-scans", "jpeg-64mp-1000-scans-refused",
    "png-64mp-flat", "png-250-chunks", "gif-64mp", "bmp-rle-1mib", "webp-16mp-lossless",
]


def run_one(case: str, path: Path) -> dict:
    """In this (fresh) process: decode the file once; report time, result and peak RSS growth."""
    from inference_core.errors import InferenceError
    from inference_core.images.gate import decode_image
    from inference_core.settings import ImageLimits

    data = path.read_bytes()
    decode_image(build_tiny(), ImageLimits())  # warm: first-use allocations are not the image's
    before = _reset_peak_rss_kib()
    started = time.perf_counter()
    try:
        shape = list(decode_image(data, ImageLimits()).shape)
        outcome = "decoded"
    except InferenceError as error:
        shape, outcome = None, f"{error.status_code}"
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    return {"case": case, "bytes": len(data), "outcome": outcome, "shape": shape,
            "seconds": round(seconds, 3), "peak_rss_growth_mib": round((peak - before) / 1024, 1)}


def build_tiny() -> bytes:
    import hostile_images as hostile

    return hostile.pil_bytes(hostile.sample_rgb(8, 8), "PNG")


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak_rss_kib() -> int:
    """Reset the peak-RSS mark (Linux: clear_refs 5) and return the current RSS in KiB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--one", nargs=2, metavar=("CASE", "PATH"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one[0], Path(args.one[1]))))
        return
    rows = []
    work = Path("/tmp") / "visionhost-security-costs"
    work.mkdir(exist_ok=True)
    for case in CASES:
        path = work / f"{case}.bin"
        if not path.exists():
            path.write_bytes(build(case))
        output = subprocess.run([sys.executable, __file__, "--one", case, str(path)],
                                capture_output=True, text=True, check=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
        if not args.markdown:
            print(json.dumps(rows[-1]), flush=True)
    if args.markdown:
        print("| case | file bytes | outcome | seconds | peak RSS growth (MiB) |")
        print("|---|---:|---|---:|---:|")
        for row in rows:
            print(f"| {row['case']} | {row['bytes']} | {row['outcome']} | {row['seconds']} | "
                  f"{row['peak_rss_growth_mib']} |")


if __name__ == "__main__":
    main()
