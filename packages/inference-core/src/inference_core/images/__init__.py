from inference_core.images.loading import ImageLoader

__all__ = ["ImageLoader"]
