"""Stream settings go through core's strict reader: a bad value stops server start-up in one
line, and `inference config` lists them with where each came from."""

from __future__ import annotations


import pytest
from inference_core.errors import SettingsError
from inference_stream.settings import ModelConfig, StreamApiSettings, StreamSettings
from server_harness import run_server_command


def test_a_bad_stream_value_stops_server_start_up_with_one_line():
    result = run_server_command(["-m", "inference_server"], {"VIDEO_SOURCE_BUFFER_SIZE": "big"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: VIDEO_SOURCE_BUFFER_SIZE='big' is not valid: expected a whole number of at least 1."
    )


def test_a_bad_stream_api_switch_stops_server_start_up_with_one_line():
    result = run_server_command(["-m", "inference_server"], {"ENABLE_STREAM_API": "maybe"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: ENABLE_STREAM_API='maybe' is not valid: expected one of 1, true, yes, on, 0, false, no, off."
    )


def test_config_lists_stream_settings_with_their_origin():
    shown = run_server_command(
        ["-m", "inference_server.cli.main", "config"],
        {"INFERENCE_PIPELINE_PREDICTIONS_QUEUE_SIZE": "12", "ENABLE_STREAM_API": "", "VIDEO_SOURCE_READ_TIMEOUT": ""},
    )
    assert shown.returncode == 0, shown.stderr
    rows = {line.split()[0]: line.split()[1:] for line in shown.stdout.splitlines()[1:-1]}
    assert rows["INFERENCE_PIPELINE_PREDICTIONS_QUEUE_SIZE"] == ["12", "environment"]
    assert rows["ENABLE_STREAM_API"] == ["False", "default"]
    assert rows["VIDEO_SOURCE_READ_TIMEOUT"] == ["10.0", "default"]


@pytest.mark.parametrize(
    ("read", "variable", "value"),
    [
        (StreamSettings.from_env, "INFERENCE_PIPELINE_RESTART_MAX_DELAY", "soon"),
        (StreamSettings.from_env, "ENABLE_FRAME_DROP_ON_VIDEO_FILE_RATE_LIMITING", "y"),
        (StreamApiSettings.from_env, "STREAM_MANAGER_MAX_ACTIVE_PIPELINES", "0"),
        (lambda env: ModelConfig.init(environ=env), "CONFIDENCE", "high"),
    ],
)
def test_each_reader_refuses_a_bad_value(read, variable, value):
    with pytest.raises(SettingsError, match=f"^{variable}='{value}' is not valid"):
        read({variable: value})


def test_values_are_read_and_explicit_model_parameters_win():
    settings = StreamSettings.from_env({"VIDEO_SOURCE_BUFFER_SIZE": "3", "ENABLE_FRAME_DROP_ON_VIDEO_FILE_RATE_LIMITING": "on"})
    assert (settings.buffer_size, settings.frame_drop_on_file_rate_limiting) == (3, True)
    api = StreamApiSettings.from_env({"ENABLE_STREAM_API": "yes", "STREAM_MANAGER_MAX_ACTIVE_PIPELINES": "2"})
    assert (api.enabled, api.max_active_pipelines) == (True, 2)
    config = ModelConfig.init(environ={"CONFIDENCE": "0.7", "MAX_DETECTIONS": "5"}, max_detections=9)
    assert (config.confidence, config.max_detections) == (0.7, 9)
