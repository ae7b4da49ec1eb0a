"""Roboflow's `inference.models` namespace (compatibility layer)."""
