from inference_core.plugins.hookspecs import hookimpl
from inference_core.plugins.manager import ENTRY_POINT_GROUP, BackendRegistry, build_backend_registry

__all__ = ["ENTRY_POINT_GROUP", "BackendRegistry", "build_backend_registry", "hookimpl"]
