"""Settings from the environment, and the Prometheus text."""

from __future__ import annotations

import pytest
from inference_core.errors import SettingsError
from inference_server.metrics import Metrics
from inference_server.settings import ServerSettings, load_settings


def test_defaults_are_secure_and_roboflow_compatible():
    settings = ServerSettings.from_env({})
    assert (settings.host, settings.port, settings.num_workers) == ("0.0.0.0", 9001, 1)
    assert settings.core.image_limits.allow_file_paths is False
    assert settings.core.image_limits.allow_numpy is True
    assert settings.core.url_policy.allow_non_global_addresses is False
    assert settings.legacy_route_enabled and settings.enable_prometheus
    assert settings.accepted_api_keys == () and settings.cors_allowed_origins == ()
    assert settings.worker_threads >= 1 and settings.max_batch_size >= 1


def test_environment_names():
    settings = ServerSettings.from_env(
        {
            "HOST": "127.0.0.1",
            "PORT": "9100",
            "MODEL_CACHE_DIR": "/tmp/cache",
            "MAX_ACTIVE_MODELS": "3",
            "PRELOAD_MODELS": "a/1, b/2",
            "NUM_WORKERS": "2",
            "API_KEY": "rf-key",
            "VISIONHOST_API_KEYS": "k1,k2",
            "ALLOW_NUMPY_INPUT": "false",
            "ALLOW_FILE_INPUT": "true",
            "ALLOW_URL_INPUT": "no",
            "ALLOW_URL_TO_NON_GLOBAL_ADDRESSES": "true",
            "MAX_BATCH_SIZE": "5",
            "MAX_REQUEST_BODY_BYTES": "1000",
            "MAX_IMAGE_PIXELS": "100",
            "CORS_ALLOWED_ORIGINS": "https://a.example",
            "LEGACY_ROUTE_ENABLED": "false",
            "ENABLE_PROMETHEUS": "false",
            "DYNAMIC_BATCH_WINDOW_MS": "0",
            "WORKER_THREADS": "3",
        }
    )
    assert (settings.host, settings.port, settings.num_workers, settings.worker_threads) == (
        "127.0.0.1",
        9100,
        2,
        3,
    )
    assert str(settings.core.model_cache_dir) == "/tmp/cache" and settings.core.max_active_models == 3
    assert settings.preload_models == ("a/1", "b/2")
    # one API-key story: Roboflow's key (API_KEY or ROBOFLOW_API_KEY) lives in core's registry settings
    assert settings.core.registry.api_key == "rf-key" and settings.accepted_api_keys == ("k1", "k2")
    limits, policy = settings.core.image_limits, settings.core.url_policy
    assert (limits.allow_numpy, limits.allow_file_paths, limits.max_pixels) == (False, True, 100)
    assert policy.allowed is False and policy.allow_non_global_addresses is True
    assert (settings.max_batch_size, settings.max_body_bytes) == (5, 1000)
    assert settings.cors_allowed_origins == ("https://a.example",)
    assert not settings.legacy_route_enabled and not settings.enable_prometheus
    assert settings.batch_window_seconds == 0


def test_a_bad_number_names_the_variable():
    with pytest.raises(ValueError, match="PORT"):
        ServerSettings.from_env({"PORT": "ninety"})


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LEGACY_ROUTE_ENABLED", "nope", "LEGACY_ROUTE_ENABLED='nope' is not valid: expected one of 1, true, yes, on, 0, "
         "false, no, off."),
        ("MAX_ACTIVE_MODELS", "0", "MAX_ACTIVE_MODELS='0' is not valid: expected a whole number of at least 1."),
        ("PORT", "70000", "PORT='70000' is not valid: expected a whole number from 1 to 65535."),
        ("DYNAMIC_BATCHING", "maybe", "DYNAMIC_BATCHING='maybe' is not valid: expected one of auto, on, off."),
        ("DYNAMIC_BATCH_WINDOW_MS", "-1", "DYNAMIC_BATCH_WINDOW_MS='-1' is not valid: expected a number of at least 0.0."),
        ("OFFLINE_MODE", "2", "OFFLINE_MODE='2' is not valid: expected one of 1, true, yes, on, 0, false, no, off."),
        ("OPENVINO_PERFORMANCE_HINT", "fast", "OPENVINO_PERFORMANCE_HINT='fast' is not valid: expected one of "
         "LATENCY, THROUGHPUT, CUMULATIVE_THROUGHPUT, ADAPTIVE."),
        ("INTRA_OP_SPINNING", "sometimes", "INTRA_OP_SPINNING='sometimes' is not valid: expected one of 1, true, "
         "yes, on, 0, false, no, off."),
    ],
)
def test_every_bad_value_is_refused_in_one_line(variable, value, expected):
    with pytest.raises(SettingsError) as refused:
        load_settings({variable: value})
    assert refused.value.message == expected and refused.value.variable == variable


@pytest.mark.parametrize(("word", "expected"), [
    ("1", True), ("true", True), ("YES", True), ("on", True), (" On ", True),
    ("0", False), ("false", False), ("No", False), ("off", False),
])
def test_booleans_accept_the_usual_spellings(word, expected):
    assert ServerSettings.from_env({"LEGACY_ROUTE_ENABLED": word}).legacy_route_enabled is expected


def test_the_report_says_where_each_value_came_from():
    _, reader = load_settings({"MAX_ACTIVE_MODELS": "3", "API_KEY": "rf-secret"}, env_file={"PORT": "9100"})
    report = {record.name: record for record in reader.report()}
    assert (report["MAX_ACTIVE_MODELS"].value, report["MAX_ACTIVE_MODELS"].origin) == ("3", "environment")
    assert (report["PORT"].value, report["PORT"].origin) == ("9100", "env file")
    assert (report["NUM_WORKERS"].value, report["NUM_WORKERS"].origin) == ("1", "default")
    # the key is shown as set, never printed; the server's file-path default wins over core's
    assert report["ROBOFLOW_API_KEY"].value == "set (hidden)" and "rf-secret" not in str(report)
    assert report["ALLOW_FILE_INPUT"].value == "False"
    # backends' own settings are read (and checked) at start-up too
    assert "ONNXRUNTIME_EXECUTION_PROVIDERS" in report and "OPENVINO_DEVICE" in report


def test_metrics_text_format():
    metrics = Metrics(loaded_models=lambda: ["a/1"])
    metrics.request_started()
    metrics.observe_request("GET", "/info", 200, 0.003)
    metrics.request_started()
    metrics.observe_request("POST", '/we"ird', 400, 7.0)
    metrics.observe_inference("a/1", 3)
    metrics.observe_batch("a/1", 3)
    text = metrics.render()
    assert 'visionhost_http_requests_total{method="GET",route="/info",status="200"} 1' in text
    assert 'route="/we\\"ird"' in text
    assert 'visionhost_http_request_duration_seconds_bucket{method="GET",route="/info",le="0.005"} 1' in text
    assert 'visionhost_http_request_duration_seconds_bucket{method="POST",route="/we\\"ird",le="5"} 0' in text
    assert 'le="+Inf"} 1' in text
    assert 'visionhost_inference_images_total{model_id="a/1"} 3' in text
    assert 'visionhost_forward_batch_size_bucket{model_id="a/1",le="4"} 1' in text
    assert "visionhost_models_loaded 1" in text and "visionhost_http_requests_in_flight 0" in text
    for line in text.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or len(line.rsplit(" ", 1)) == 2


def test_several_workers_share_the_cores_between_their_runtimes():
    import os

    from inference_server.settings import ServerSettings

    cores = os.cpu_count() or 1
    assert ServerSettings.from_env({}).core.intra_op_threads == 0, "one worker: the runtime's default"
    two = ServerSettings.from_env({"NUM_WORKERS": "2"}).core.intra_op_threads
    assert two == max(1, cores // 2)
    assert ServerSettings.from_env({"NUM_WORKERS": str(cores * 4)}).core.intra_op_threads == 1
    explicit = ServerSettings.from_env({"NUM_WORKERS": "2", "INTRA_OP_THREADS": "3"}).core.intra_op_threads
    assert explicit == 3, "an explicit INTRA_OP_THREADS wins"
