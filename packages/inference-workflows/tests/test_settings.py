"""Workflow settings go through core's strict reader: a bad value stops server start-up in one
line, and `inference config` lists them with where each came from."""

from __future__ import annotations

from pathlib import Path

import pytest
from inference_core.errors import SettingsError
from inference_workflows.context import WorkflowSettings
from server_harness import run_server_command


def test_a_bad_workflows_value_stops_server_start_up_with_one_line():
    result = run_server_command(["-m", "inference_server"], {"WORKFLOWS_ALLOW_WEBHOOKS": "sure"})
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: WORKFLOWS_ALLOW_WEBHOOKS='sure' is not valid: expected one of 1, true, yes, on, 0, false, no, off."
    )


def test_config_lists_workflows_settings_with_their_origin(tmp_path):
    env_file = tmp_path / "server.env"
    env_file.write_text(f"WORKFLOWS_SPECIFICATIONS_DIR={tmp_path}\n")
    shown = run_server_command(
        ["-m", "inference_server.cli.main", "config", "--env-file", str(env_file)],
        {"WORKFLOWS_MAX_BATCH_SIZE": "7", "WORKFLOWS_ALLOW_WEBHOOKS": ""},
    )
    assert shown.returncode == 0, shown.stderr
    rows = {line.split()[0]: line.split()[1:] for line in shown.stdout.splitlines()[1:-1]}
    assert rows["WORKFLOWS_SPECIFICATIONS_DIR"] == [str(tmp_path), "env", "file"]
    assert rows["WORKFLOWS_MAX_BATCH_SIZE"] == ["7", "environment"]
    assert rows["WORKFLOWS_ALLOW_WEBHOOKS"] == ["False", "default"]


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("WORKFLOWS_ALLOW_WEBHOOKS", "2", "one of 1, true, yes, on, 0, false, no, off"),
        ("WORKFLOWS_MAX_BATCH_SIZE", "0", "a whole number of at least 1"),
    ],
)
def test_from_env_refuses_a_bad_value(variable, value, allowed):
    with pytest.raises(SettingsError) as raised:
        WorkflowSettings.from_env({variable: value})
    assert raised.value.message == f"{variable}={value!r} is not valid: expected {allowed}."


def test_from_env_reads_paths_and_switches():
    settings = WorkflowSettings.from_env(
        {"WORKFLOWS_LOCAL_SINK_DIR": "/srv/out", "WORKFLOWS_ALLOW_WEBHOOKS": "on", "WORKFLOWS_CACHE_DIR": "/srv/c"}
    )
    assert settings.local_sink_dir == Path("/srv/out") and settings.allow_webhooks is True
    assert settings.downloaded_dir == Path("/srv/c") and settings.specifications_dir is None
