"""Roboflow's `inference.core` namespace (compatibility layer)."""
