"""Roboflow's stream interface: InferencePipeline and its sinks (compatibility layer)."""
