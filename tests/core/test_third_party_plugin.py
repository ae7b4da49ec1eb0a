"""A third-party plugin, installed as a real distribution, extends VisionHost without editing core.

The plugin lives in a temporary folder with its own ``.dist-info`` (name, version, entry points)
and provides a backend, a model source and a model architecture. A fresh `inference` process
with that folder on its path finds it through the entry points, lists it, and serves a model
fetched by the plugin's source, loaded by the plugin's backend and decoded by its architecture.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN_MODULE = textwrap.dedent(
    '''
    """Acme's VisionHost plugin: a backend, a model source and a model architecture."""

    from pathlib import Path

    import onnxruntime
    from inference_core.models import Match, ModelArchitecture
    from inference_core.models.detection import OutputLayout, YoloDetector
    from inference_core.plugins import hookimpl
    from inference_core.runtime import Backend, Session, SessionInfo, TensorSpec
    from inference_core.sources import Artifact, ModelPackage, ModelSource


    class AcmeSession(Session):
        def __init__(self, path):
            self._session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            self.inputs = [TensorSpec(i.name, tuple(i.shape)) for i in self._session.get_inputs()]
            self.outputs = [TensorSpec(o.name, tuple(o.shape)) for o in self._session.get_outputs()]
            self.info = SessionInfo(backend="acme-runtime", device="cpu")

        def run(self, feeds):
            return self._session.run(None, feeds)


    class AcmeBackend(Backend):
        name = "acme-runtime"

        @classmethod
        def unavailable_reason(cls):
            return None

        def can_load(self, path):
            return path.suffix == ".onnx"

        def load(self, path):
            return AcmeSession(path)


    class AcmeVault(ModelSource):
        """Models kept as {MODEL_SOURCE_URL}/{project}-{version}/..., Acme's own layout."""

        name = "acme-vault"
        # Locations built from the server's own MODEL_SOURCE_URL, not taken from a registry's
        # answer: local paths are allowed (registry answers only get http(s) on trusted hosts).
        locations_from_registry = False

        def describe(self, model_id, api_key):
            folder = Path(self.settings.source_url) / f"{model_id.project}-{model_id.version}"
            return ModelPackage(
                artifacts=[Artifact("weights.onnx", str(folder / "weights.onnx"), "onnx")],
                files={
                    "class_names.txt": (folder / "labels.txt").read_text(),
                    "model_type.json": '{"project_task_type": "object-detection", "model_type": "acme-det"}',
                    "environment.json": '{"PREPROCESSING": {"resize": {"enabled": true, "width": 320, '
                    '"height": 320, "format": "Fit (grey edges) in"}}}',
                },
            )


    class AcmeDetector(YoloDetector):
        def postprocess(self, outputs, transform, params):
            response = super().postprocess(outputs, transform, params)
            for prediction in response.predictions:
                prediction.class_name = "acme:" + prediction.class_name
            return response


    class AcmeArchitecture(ModelArchitecture):
        name = "acme-det"
        task = "object-detection"

        @classmethod
        def match(cls, artifact, session):
            return Match.MODEL_TYPE if artifact.model_type == "acme-det" else Match.NONE

        @classmethod
        def build(cls, artifact, session, image_loader):
            return AcmeDetector(artifact, session, image_loader, layout=OutputLayout.YOLOV8)


    @hookimpl
    def register_backends():
        return [AcmeBackend]


    @hookimpl
    def register_model_sources():
        return [AcmeVault]


    @hookimpl
    def register_model_architectures():
        return [AcmeArchitecture]
    '''
)

ENTRY_POINTS = textwrap.dedent(
    """
    [visionhost.backends]
    acme = acme_visionhost

    [visionhost.model_sources]
    acme = acme_visionhost

    [visionhost.model_architectures]
    acme = acme_visionhost
    """
)


def install_plugin(site: Path) -> None:
    (site / "acme_visionhost.py").write_text(PLUGIN_MODULE)
    dist_info = site / "acme_visionhost-2.5.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-visionhost\nVersion: 2.5.1\n")
    (dist_info / "entry_points.txt").write_text(ENTRY_POINTS)


def run_inference_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "inference_server.cli.main", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_a_third_party_plugin_adds_a_backend_a_source_and_an_architecture(
    tmp_path, fixture_model_path, assets_dir
):
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    vault = tmp_path / "vault" / "widgets-3"
    vault.mkdir(parents=True)
    shutil.copyfile(fixture_model_path("shapes-det-yolov8.onnx"), vault / "weights.onnx")
    (vault / "labels.txt").write_text("circle\nsquare\ntriangle\nstar\n")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "MODEL_SOURCE": "acme-vault",
        "MODEL_SOURCE_URL": str(tmp_path / "vault"),
        "BACKEND": "acme-runtime",
    }

    listed = run_inference_cli(["plugins", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    acme = next(plugin for plugin in json.loads(listed.stdout) if plugin["distribution"] == "acme-visionhost")
    assert acme["version"] == "2.5.1" and acme["error"] is None
    assert acme["registers"] == {
        "backends": ["acme-runtime"], "model_sources": ["acme-vault"], "model_architectures": ["acme-det"],
    }

    inferred = run_inference_cli(
        ["infer", str(assets_dir / "images" / "shapes-sample.jpg"), "--model-id", "widgets/3"], env
    )
    assert inferred.returncode == 0, inferred.stderr
    predictions = json.loads(inferred.stdout)["predictions"]
    assert predictions, "the plugin's model found nothing in the sample image"
    assert all(prediction["class"].startswith("acme:") for prediction in predictions)
    assert (tmp_path / "cache" / "widgets" / "3" / "weights.onnx").is_file()
