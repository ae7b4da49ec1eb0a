"""Roboflow's `inference.core.interfaces` namespace (compatibility layer)."""
