"""VisionHost's HTTP server: Roboflow-Inference-compatible routes over `inference_core`."""

__version__ = "0.1.0"
