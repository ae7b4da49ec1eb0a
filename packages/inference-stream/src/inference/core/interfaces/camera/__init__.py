"""Roboflow's camera interface: frames and video sources (compatibility layer)."""
