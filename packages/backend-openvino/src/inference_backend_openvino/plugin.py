"""Entry point module: registers the OpenVINO backend with VisionHost's core."""

from inference_core.plugins import hookimpl


@hookimpl
def register_backends():
    from inference_backend_openvino.backend import OpenVinoBackend

    return [OpenVinoBackend]
