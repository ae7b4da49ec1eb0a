"""The bench's own tools: the load generator against a real local HTTP server, and the report.

No timing is asserted: only that answers are counted and parsed right and the report renders.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

import loadgen  # noqa: E402
import report  # noqa: E402
import servers  # noqa: E402


async def _serve(chunked: bool, status: int = 200):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            await reader.readexactly(length)
            reason = b"OK" if status == 200 else b"Bad Request"
            if chunked:
                writer.write(
                    b"HTTP/1.1 %d %s\r\nTransfer-Encoding: chunked\r\n\r\n" % (status, reason)
                    + b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                )
            else:
                writer.write(b"HTTP/1.1 %d %s\r\nContent-Length: 11\r\n\r\nhello world" % (status, reason))
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def _load(chunked: bool, status: int = 200) -> dict:
    async def scenario() -> dict:
        server = await _serve(chunked, status)
        port = server.sockets[0].getsockname()[1]
        request = servers.http_request("/bench/1", b"abc", "text/plain")
        async with server:
            return await loadgen.run_load(
                "127.0.0.1", port, request, concurrency=3, duration=0.3, warmup=0.05
            )

    return asyncio.run(scenario())


def test_load_generator_counts_answers_with_content_length_and_chunked_bodies():
    for chunked in (False, True):
        result = _load(chunked)
        assert result["errors"] == 0 and result["requests"] > 0
        assert result["completed_all"] >= result["requests"]
        assert result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]


def test_load_generator_reports_errors_with_the_first_body():
    result = _load(False, status=400)
    assert result["requests"] == 0 and result["errors"] > 0
    assert result["first_error"].startswith("400")


def test_requests_carry_the_image_for_both_routes():
    legacy = servers.legacy_request("bench/1", b"\xff\xd8jpeg", 0.25)
    assert legacy.startswith(b"POST /bench/1?api_key=") and legacy.endswith(b"/9hqcGVn")
    v2 = servers.v2_request("bench/1", "object-detection", b"\xff\xd8jpeg", 0.25)
    assert v2.startswith(b"POST /infer/object_detection ") and b'"model_id": "bench/1"' in v2


def _row(system: str, route: str, concurrency: int, rps: float, p50: float) -> dict:
    return {
        "model": "yolov8n-320",
        "system": system,
        "route": route,
        "concurrency": concurrency,
        "rps": rps,
        "p50_ms": p50,
        "p95_ms": p50,
        "p99_ms": p50,
        "cpu_per_request_ms": 1.0,
        "peak_rss_mb": 100,
    }


def test_report_renders_tables_ratios_and_targets():
    results = {
        "started": "2026-01-01T00:00:00",
        "settings": {},
        "soak": None,
        "machine": {
            "cpu_model": "Test CPU",
            "cpus": 2,
            "flags": "avx2",
            "memory_gb": 8,
            "kernel": "6",
            "python": "3.11",
            "virtualised": False,
        },
        "background_busy_before_each_model": {"yolov8n-320": 0.05},
        "rows": [
            _row("raw onnxruntime", "t1s1b1", 1, 50.0, 20.0),
            _row("raw onnxruntime", "t1s2b1", 2, 80.0, 25.0),
            _row("visionhost", "v2", 1, 40.0, 25.0),
            _row("visionhost", "v2", 16, 70.0, 200.0),
            _row("visionhost no-batching", "v2", 16, 75.0, 190.0),
            _row("roboflow inference 1.8.3", "v2", 16, 30.0, 500.0),
        ],
    }
    text = report.markdown(results)
    assert "## yolov8n-320" in text and "Raw runtime best: 80.0 images/s (t1s2b1" in text
    assert "overhead at c=1 < 10 ms | 5.0 ms" in text
    assert "vs Roboflow >= 2.0x | 70.0 vs 30.0/s = 2.33x | yes" in text
    assert ">= raw best (80.0/s, t1s2b1) | 70.0/s = 0.88x | **no**" in text


# --- a fresh clone (no Ultralytics venv): the fixture fallback and failed points -----------------

REPO = BENCH.parent
FIXTURE_WEIGHTS = REPO / "assets" / "models" / "shapes-det-yolov8.onnx"


def _raw_point(size: int) -> dict:
    """A real `local.py raw` run; a tensor of the wrong size makes every call fail."""
    arguments = ["raw", "--weights", str(FIXTURE_WEIGHTS), "--size", str(size), "--threads", "1"]
    return servers.run_bench_script("local.py", arguments, duration=0.5, warmup=0.1)


def test_a_point_whose_calls_fail_reports_the_error_and_the_report_still_renders():
    failed = _raw_point(640)  # the fixture takes 320x320
    assert failed["requests"] == 0 and "error" in failed
    assert "640" in failed["error"] or "dimension" in failed["error"].lower(), failed["error"]
    results = {
        "started": "2026-01-01T00:00:00",
        "settings": {},
        "soak": None,
        "machine": {"cpu_model": "Test CPU", "cpus": 2, "flags": "avx2", "memory_gb": 8, "kernel": "6",
                    "python": "3.11", "virtualised": False},
        "background_busy_before_each_model": {"fixture-det-320": 0.0},
        "rows": [
            {"model": "fixture-det-320", "system": "raw onnxruntime", "route": "t1s1b1", "concurrency": 1,
             **failed},
            _row("visionhost", "v2", 1, 40.0, 25.0) | {"model": "fixture-det-320"},
        ],
    }
    text = report.markdown(results)  # no raw point succeeded: no ratio to divide by zero
    assert "No raw runtime point succeeded" in text
    assert f"- raw onnxruntime on fixture-det-320 failed: {failed['error'][:40]}" in text


def test_the_fixture_fallback_is_declared_with_its_real_input_size(tmp_path):
    import run

    subprocess.run([sys.executable, "-c", run._IMPORT_FIXTURE, str(tmp_path)], check=True, cwd=REPO)
    run.check_input_size(tmp_path, run.FIXTURE)  # 320, as filed
    succeeded = _raw_point(run.FIXTURE.size)
    assert "error" not in succeeded and succeeded["requests"] > 0
    wrong = run.BenchModel("fixture-det-640", run.FIXTURE.model_id, 640, "object-detection")
    with pytest.raises(SystemExit, match="declared as 640x640.*takes 320x320"):
        run.check_input_size(tmp_path, wrong)


def test_concurrency_summary_gives_each_target_its_rounds_ratio_and_its_pairs_median():
    import concurrency

    raw = [{"round": r, "runtime": "onnx", "setting": f"ONNXRUNTIME_CONCURRENCY={mode}", "threads": 8,
            "images_per_s": value, "p50_ms": 400.0}
           for r, mode, value in ((1, "throughput", 5.0), (2, "throughput", 5.4), (1, "adaptive", 4.0),
                                  (2, "adaptive", 6.0))]
    server = []
    for r, errors in ((1, 0), (2, 2)):
        server += [
            {"round": r, "system": concurrency.DEFAULT, "image": "bus.jpg cropped to 512x512", "clients": 8,
             "rps": 4.8, "p50_ms": 1600.0, "p95_ms": 2000.0, "cpu_per_request_ms": 410.0, "errors": errors,
             "detections": 212},
            {"round": r, "system": concurrency.DEFAULT, "image": "shapes-sample.jpg 640x480", "clients": 8,
             "rps": 5.0 + r / 10, "p50_ms": 1500.0, "p95_ms": 1900.0, "cpu_per_request_ms": 390.0,
             "errors": 0, "detections": 24},
            {"round": r, "system": concurrency.DEFAULT, "image": "synthetic scene 3840x2160", "clients": 1,
             "rps": 3.6, "p50_ms": 270.0, "p95_ms": 300.0, "cpu_per_request_ms": 540.0, "errors": 0},
            {"round": r, "system": concurrency.ROBOFLOW, "image": "synthetic scene 3840x2160", "clients": 1,
             "rps": 3.0, "p50_ms": 300.0, "p95_ms": 330.0, "cpu_per_request_ms": 600.0, "errors": 0},
        ]
    first, single, _, sample = (name for name, _ in concurrency.TARGETS)
    paired = [{"pair": p, "target": first, "numerator": 1.0, "denominator": 1.0, "ratio": ratio}
              for p, ratio in ((1, 0.9), (2, 0.8), (3, 1.0))]
    paired.append({"pair": 1, "target": single, "numerator": 250.0, "denominator": 0.0, "ratio": None})
    result = {"date": "2026-11-30T00:00", "machine": {"cpu_model": "test", "cpus": 2}, "model": "bench/2",
              "rounds": 2, "load_at_start": "0", "load_at_end": "0", "raw": raw, "server": server,
              "paired": paired}
    digest = concurrency.summary(result)
    assert digest["best_raw"]["setting"] == "ONNXRUNTIME_CONCURRENCY=throughput"  # medians 5.2 against 5.0
    targets = {row["target"]: row for row in digest["targets"]}
    assert targets[first]["ratio"] == round(4.8 / 5.2, 3) and targets[first]["paired_ratio"] == 0.9
    # a pair without a measurement on one side is left out of the median
    assert targets[single]["ratio"] == 0.9 and targets[single]["paired_ratio"] is None
    assert targets[sample]["ratio"] == round(5.15 / 5.2, 3) and targets[sample]["paired_ratio"] is None
    assert [row["errors"] for row in digest["server"]] == [2, 0, 0, 0]  # summed over the rounds
    result["summary"] = digest
    page = concurrency.markdown(result)
    assert f"| {first} | >= 0.95 | {round(4.8 / 5.2, 3)} | 0.9 | 0.9, 0.8, 1.0 |" in page
    assert "| visionhost default | shapes-sample.jpg 640x480 | 8 | 24 | 5.15 |" in page
    # a point's detections come from its answer: one image's object, or Roboflow's list of one
    assert concurrency.detections(b'{"predictions": [{}, {}]}') == 2
    assert concurrency.detections(b'[{"predictions": [{}]}]') == 1
