"""What a wall-clock cap on image decoding would cost: the gate's decode in the request's own
process against the same decode in a pre-started worker process (the only place a decode can be
stopped at a deadline: Pillow's decoders cannot be interrupted, and an abandoned thread keeps its
core and memory until the decode ends).

    python bench/decode_deadline_cost.py [--megapixels 16] [--repeats 3]

Prints one JSON object: median seconds per decode in-process and through the worker, the extra
time and copy the worker adds, and the worker's resident memory.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import io
import json
import multiprocessing
import statistics
import time

import numpy as np
from PIL import Image


def encoded(kind: str, megapixels: float) -> bytes:
    side = int((megapixels * 1_000_000) ** 0.5)
    ramp = np.linspace(0, 255, side, dtype=np.float32)
    pixels = np.stack([np.add.outer(ramp, ramp) / 2, np.add.outer(ramp, -ramp) % 256,
                       np.tile(ramp, (side, 1))], axis=-1).astype(np.uint8)
    pixels[::7, ::5] = 255  # some detail, so the encoders do real work
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=kind, **({"quality": 90} if kind == "JPEG" else {}))
    return out.getvalue()


def decode(data: bytes) -> np.ndarray:
    from inference_core.images.gate import decode_image
    from inference_core.settings import ImageLimits

    return decode_image(data, ImageLimits())


def worker_rss_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def timed(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megapixels", type=float, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    context = multiprocessing.get_context("forkserver")
    results = {"megapixels": args.megapixels, "repeats": args.repeats, "formats": {}}
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        pool.submit(decode, encoded("PNG", 0.01)).result()  # started and warm: start-up not counted
        results["worker_rss_mib"] = round(pool.submit(worker_rss_kib).result() / 1024, 1)
        for kind in ("JPEG", "PNG"):
            data = encoded(kind, args.megapixels)
            decode(data)
            in_process = timed(lambda: decode(data), args.repeats)
            in_worker = timed(lambda: pool.submit(decode, data).result(), args.repeats)
            results["formats"][kind] = {
                "encoded_mib": round(len(data) / 2**20, 2),
                "decoded_mib": round(decode(data).nbytes / 2**20, 1),
                "in_process_s": round(in_process, 3),
                "in_worker_s": round(in_worker, 3),
                "worker_overhead": round(in_worker / in_process - 1, 2),
            }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
