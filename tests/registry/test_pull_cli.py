"""`inference models pull ID`: downloads into the store with a progress bar, then says it is there."""

from __future__ import annotations

from pathlib import Path

from fake_registry import GOOD_KEY, FakeRegistry, default_model
from inference_server.cli.main import main


def test_models_pull_downloads_once_with_progress_and_reports_errors(
    tmp_path, assets_dir, monkeypatch, capsys
):
    registry = FakeRegistry({"pulled/4": default_model(Path(assets_dir) / "models")}).start()
    try:
        monkeypatch.setenv("API_BASE_URL", registry.url)
        monkeypatch.delenv("ROBOFLOW_API_KEY", raising=False)
        monkeypatch.delenv("API_KEY", raising=False)
        command = ["models", "--cache-dir", str(tmp_path), "pull", "pulled/4", "--api-key", GOOD_KEY]
        assert main(command) == 0
        first = capsys.readouterr()
        assert "weights.onnx" in first.err and "100%" in first.err
        assert first.out.startswith("Downloaded pulled/4: object-detection")
        assert main(command) == 0
        assert capsys.readouterr().out.startswith("Already in the store: pulled/4")
        assert registry.hits("weights.onnx") == 1
        assert main(["models", "--cache-dir", str(tmp_path), "pull", "pulled/5", "--api-key", "bad"]) == 1
        assert "Check the API key" in capsys.readouterr().err
    finally:
        registry.stop()
    assert (tmp_path / "pulled" / "4" / "weights.onnx").is_file()
    assert not (tmp_path / "pulled" / "5").exists()
