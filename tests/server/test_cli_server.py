"""`inference server start|status|stop` and `inference infer --api-url` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
from server_harness import DETECTOR_ID, assert_detects, free_port, make_scene

NO_SUCH_IMAGE = "localhost/visionhost-test-image-that-does-not-exist:never"


def inference(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    command = [
        sys.executable,
        "-c",
        "from inference_server.cli.main import main; raise SystemExit(main())",
        *args,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_start_status_infer_stop_without_a_container(model_cache, tmp_path):
    port = free_port()
    env = {**os.environ, "VISIONHOST_STATE_DIR": str(tmp_path / "state"), "MODEL_CACHE_DIR": str(model_cache)}
    env_file = tmp_path / "server.env"
    env_file.write_text("INTRA_OP_THREADS=1\nMAX_BATCH_SIZE=4\n")
    assert inference("server", "status", env=env).returncode == 1

    # No engine, or an engine without this image: either way a local process starts.
    started = inference(
        "server",
        "start",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--env-file",
        str(env_file),
        "--image",
        NO_SUCH_IMAGE,
        env=env,
    )
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"http://127.0.0.1:{port}" in started.stdout and "Waiting for" in started.stdout
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "healthy"}
        status = inference("server", "status", env=env)
        assert status.returncode == 0 and "healthy" in status.stdout
        again = inference("server", "start", "--port", str(port), "--local", env=env)
        assert again.returncode == 0 and "already running" in again.stdout

        scene = make_scene(900_400)
        image = tmp_path / "scene.jpg"
        image.write_bytes(scene.jpeg)
        remote = inference(
            "infer", str(image), "--model-id", DETECTOR_ID, "--api-url", f"http://127.0.0.1:{port}", env=env
        )
        assert remote.returncode == 0, remote.stderr
        assert_detects(scene.objects, json.loads(remote.stdout)["predictions"])
        unknown = inference(
            "infer", str(image), "--model-id", "nope/1", "--api-url", f"http://127.0.0.1:{port}", env=env
        )
        assert unknown.returncode == 1 and "404" in unknown.stderr
        # options reach the server under the legacy names; 1 means 1.0 there too, not 1 %
        strict = inference(
            "infer", str(image), "--model-id", DETECTOR_ID, "--api-url", f"http://127.0.0.1:{port}",
            "--confidence", "1", "--overlap", "0.5", "--max-detections", "2", env=env,
        )
        assert strict.returncode == 0, strict.stderr
        assert json.loads(strict.stdout)["predictions"] == []
        capped = inference(
            "infer", str(image), "--model-id", DETECTOR_ID, "--api-url", f"http://127.0.0.1:{port}",
            "--confidence", "0.05", "--max-detections", "1", env=env,
        )
        assert capped.returncode == 0 and len(json.loads(capped.stdout)["predictions"]) == 1
    finally:
        stopped = inference("server", "stop", env=env)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    assert inference("server", "status", env=env).returncode == 1
    try:
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        raise AssertionError("the server still answers after stop")
    except httpx.HTTPError:
        pass


def test_start_reports_a_server_that_cannot_start(tmp_path):
    env = {**os.environ, "VISIONHOST_STATE_DIR": str(tmp_path / "state"), "PORT": "not-a-number"}
    env_file = tmp_path / "bad.env"
    env_file.write_text("MAX_BATCH_SIZE=lots\n")
    result = inference(
        "server", "start", "--local", "--port", str(free_port()), "--env-file", str(env_file), env=env
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: MAX_BATCH_SIZE='lots' is not valid: expected a whole number of at least 1."
    )
    assert inference("server", "status", env=env).returncode == 1


def test_a_bad_setting_stops_the_server_process_with_one_line(tmp_path):
    env = {**os.environ, "PORT": str(free_port()), "LEGACY_ROUTE_ENABLED": "nope"}
    result = subprocess.run(
        [sys.executable, "-m", "inference_server"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: LEGACY_ROUTE_ENABLED='nope' is not valid: expected one of 1, true, yes, on, 0, false, no, off."
    )


def test_config_prints_each_setting_and_its_origin(tmp_path):
    env_file = tmp_path / "server.env"
    env_file.write_text("MAX_BATCH_SIZE=4\n")
    env = {**os.environ, "MAX_ACTIVE_MODELS": "3", "ROBOFLOW_API_KEY": "rf-very-secret"}
    env.pop("API_KEY", None)
    shown = inference("config", "--env-file", str(env_file), env=env)
    assert shown.returncode == 0, shown.stderr
    rows = {line.split()[0]: line.split() for line in shown.stdout.splitlines()[1:-1]}
    assert rows["MAX_ACTIVE_MODELS"][1:] == ["3", "environment"]
    assert rows["MAX_BATCH_SIZE"][1:] == ["4", "env", "file"]
    assert rows["NUM_WORKERS"][1:] == ["1", "default"]
    assert "rf-very-secret" not in shown.stdout and rows["ROBOFLOW_API_KEY"][1:3] == ["set", "(hidden)"]
    assert shown.stdout.splitlines()[-1] == "All settings are valid."
    bad = inference("config", env={**env, "MAX_IMAGE_PIXELS": "lots"})
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip() == "Error: MAX_IMAGE_PIXELS='lots' is not valid: expected a whole number of at least 1."


def test_a_closed_output_pipe_ends_the_command_quietly(tmp_path):
    """`inference plugins | head -1`: the reader goes away; no 'Broken pipe' error is printed."""
    reader, writer = os.pipe()
    os.close(reader)  # nobody will read: the first write fails with EPIPE
    try:
        result = subprocess.run(
            [sys.executable, "-m", "inference_server.cli.main", "config"],
            stdout=writer, stderr=subprocess.PIPE, text=True, timeout=120,
        )
    finally:
        os.close(writer)
    assert result.stderr == ""
    assert result.returncode == 141
