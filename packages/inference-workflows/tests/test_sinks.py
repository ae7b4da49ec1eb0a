"""Sinks are off unless the settings allow them; when allowed they stay inside their limits."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from inference_core.settings import UrlPolicy
from inference_workflows import WorkflowRunner, WorkflowSettings
from inference_workflows.errors import SinkNotAllowedError
from wf_specs import DETECT, image_input, output, spec, step

CSV = step(
    "roboflow_core/csv_formatter@v1",
    "csv",
    columns_data={"count": "$steps.detect.predictions"},
    columns_operations={"count": [{"type": "SequenceLength"}]},
)


def _file_sink(target: str, mode: str = "append_log") -> dict:
    return spec(
        [image_input()],
        [
            DETECT,
            CSV,
            step(
                "roboflow_core/local_file_sink@v1",
                "save",
                content="$steps.csv.csv_content",
                file_type="csv",
                output_mode=mode,
                target_directory=target,
                file_name_prefix="counts",
            ),
        ],
        [output("error", "$steps.save.error_status"), output("message", "$steps.save.message")],
    )


def test_local_file_sink_is_off_by_default(manager, scenes):
    with pytest.raises(SinkNotAllowedError) as caught:
        WorkflowRunner(_file_sink("out"), manager=manager).run({"image": scenes[0].image})
    assert caught.value.status_code == 403 and caught.value.step == "save"


def test_local_file_sink_appends_rows_under_its_folder(manager, scenes, tmp_path):
    runner = WorkflowRunner(
        _file_sink("logs"), manager=manager, settings=WorkflowSettings(local_sink_dir=tmp_path)
    )
    for scene in scenes[:3]:
        assert runner.run({"image": scene.image}) == [{"error": False, "message": "Data saved successfully"}]
    (log,) = (tmp_path / "logs").iterdir()
    lines = log.read_text().strip().split("\n")
    assert lines[0] == "count,timestamp" and len(lines) == 4  # one header, a row per run
    assert [line.split(",")[0] for line in lines[1:]] == [str(len(scene.objects)) for scene in scenes[:3]]


@pytest.mark.parametrize("target", ["../escape", "/etc"])
def test_local_file_sink_refuses_paths_outside_its_folder(manager, scenes, tmp_path, target):
    runner = WorkflowRunner(
        _file_sink(target, "separate_files"),
        manager=manager,
        settings=WorkflowSettings(local_sink_dir=tmp_path / "sink"),
    )
    with pytest.raises(SinkNotAllowedError, match="only write under"):
        runner.run({"image": scenes[0].image})
    assert not (tmp_path / "escape").exists()


def test_disable_sinks_makes_sinks_do_nothing(manager, scenes, tmp_path):
    settings = WorkflowSettings(local_sink_dir=tmp_path, disable_sinks=True)
    result = WorkflowRunner(_file_sink("logs"), manager=manager, settings=settings).run(
        {"image": scenes[0].image}
    )
    assert result[0]["message"] == "Sink was disabled by parameter `disable_sinks`" and not any(
        tmp_path.iterdir()
    )


@pytest.fixture
def receiver():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers.get("X-Token"), json.loads(body)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def _webhook(url: str) -> dict:
    return spec(
        [image_input()],
        [
            DETECT,
            step(
                "roboflow_core/webhook_sink@v1",
                "notify",
                url=url,
                method="POST",
                fire_and_forget=False,
                cooldown_seconds=0,
                query_parameters={"camera": "gate"},
                headers={"X-Token": "secret"},
                json_payload={"count": "$steps.detect.predictions"},
                json_payload_operations={"count": [{"type": "SequenceLength"}]},
            ),
        ],
        [output("error", "$steps.notify.error_status"), output("message", "$steps.notify.message")],
    )


def test_webhook_sink_needs_the_setting_and_passes_the_url_policy(manager, scenes, receiver):
    url, received = receiver
    with pytest.raises(SinkNotAllowedError):
        WorkflowRunner(_webhook(url), manager=manager).run({"image": scenes[0].image})
    # allowed, but 127.0.0.1 is an internal address the default URL policy refuses
    strict = WorkflowSettings(allow_webhooks=True)
    with pytest.raises(Exception, match="non-public address|fully qualified"):
        WorkflowRunner(_webhook(url), manager=manager, settings=strict).run({"image": scenes[0].image})
    assert received == []
    open_policy = UrlPolicy(allow_non_global_addresses=True, allow_without_fqdn=True)
    settings = WorkflowSettings(allow_webhooks=True, url_policy=open_policy)
    result = WorkflowRunner(_webhook(url), manager=manager, settings=settings).run({"image": scenes[0].image})
    assert result == [{"error": False, "message": "Notification sent (204)"}]
    assert received == [("/hook?camera=gate", "secret", {"count": len(scenes[0].objects)})]
