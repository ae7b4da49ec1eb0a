"""A lean closed-loop HTTP/1.1 load generator: N keep-alive connections, one request in flight each.

It sends the same pre-built request bytes over and over and parses only the status line and
Content-Length (or chunked framing), so its own CPU cost per request stays in the tens of
microseconds: on a 2-core box every cycle the client spends is a cycle the server does not get.
It reports that cost (`client_cpu_per_request_ms`) so a run can show the client was not the limit.

    python bench/loadgen.py --port 9001 --request-file req.bin --concurrency 4 --duration 10

Prints one JSON object: requests, errors, requests/s, latency percentiles (ms), client CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def summarise(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "seconds": round(elapsed, 3),
        "rps": round(len(ordered) / elapsed, 2) if elapsed > 0 else 0.0,
        "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
        "p95_ms": round(percentile(ordered, 0.95) * 1000, 2),
        "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 2) if ordered else float("nan"),
    }


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lowered = head.lower()
    marker = lowered.find(b"content-length:")
    if marker >= 0:
        end = lowered.index(b"\r\n", marker)
        return status, await reader.readexactly(int(lowered[marker + 15 : end]))
    if b"transfer-encoding: chunked" in lowered:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, bytes(body)
            body += chunk[:-2]
    raise RuntimeError("response without Content-Length or chunked framing")


class Run:
    def __init__(self, request: bytes, warmup_end: float, deadline: float) -> None:
        self.request = request
        self.warmup_end = warmup_end
        self.deadline = deadline
        self.latencies: list[float] = []
        self.errors = 0
        self.completed = 0  # every answer, warm-up included (servers' CPU is read over the whole run)
        self.first_error: str | None = None

    async def connection(self, host: str, port: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                started = time.perf_counter()
                if started >= self.deadline:
                    return
                writer.write(self.request)
                status, body = await read_response(reader)
                finished = time.perf_counter()
                self.completed += 1
                if not self.warmup_end <= finished <= self.deadline:  # completions in the window
                    continue
                if status != 200:
                    self.errors += 1
                    self.first_error = self.first_error or f"{status}: {body[:300]!r}"
                    continue
                self.latencies.append(finished - started)
        finally:
            writer.close()


async def run_load(host: str, port: int, request: bytes, concurrency: int, duration: float, warmup: float):
    start = time.perf_counter()
    run = Run(request, start + warmup, start + warmup + duration)
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*(run.connection(host, port) for _ in range(concurrency)))
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    result = summarise(run.latencies, duration)
    result.update(
        concurrency=concurrency,
        errors=run.errors,
        first_error=run.first_error,
        completed_all=run.completed,
        client_cpu_seconds=round(cpu, 3),
        client_cpu_per_request_ms=round(cpu / max(1, run.completed) * 1000, 3),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--request-file", required=True, help="raw HTTP/1.1 request bytes to send")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds sent but not measured")
    args = parser.parse_args()
    with open(args.request_file, "rb") as handle:
        request = handle.read()
    result = asyncio.run(
        run_load(args.host, args.port, request, args.concurrency, args.duration, args.warmup)
    )
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
