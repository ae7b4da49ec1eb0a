"""One exception tree for the whole project.

Every error that can reach a user derives from :class:`InferenceError` and carries the HTTP
status it maps to, so the server needs a single handler and the SDK can map statuses back::

    InferenceError (500)
    ├── InvalidInputError (400): the caller sent something we cannot use
    │   ├── InvalidParameterError (400): a parameter outside its range or choices
    │   │   └── ParameterTypeError (422): a parameter that is not of its type
    │   ├── ImageDecodeError (400): bytes or an array that are not an image
    │   ├── UnsupportedImageFormatError (415): an image format the server does not decode
    │   ├── ImageSourceNotAllowedError (400): a source refused by policy (file, URL, pickle)
    │   ├── ImageFetchError (400): a URL image that could not be downloaded
    │   └── InvalidModelIdError (400): not `project/version`
    ├── PayloadTooLargeError (413): bytes, pixels or batch length over the caps
    ├── ModelNotFoundError (404): no artifacts for this model id
    ├── ModelArtifactError (500): artifacts that are broken
    │   └── UnsupportedModelError (500): a model type, layout or input we do not decode
    ├── SettingsError (500, also a ValueError): a setting that cannot be used; stops start-up
    ├── BackendError (500): a runtime failed to load or run a model
    │   ├── BackendUnavailableError (503): no installed backend can load it
    │   └── InputShapeError (400): a tensor that does not fit the model's input
    └── RegistryError (502): the model registry failed us
        ├── RegistryAuthError (401)
        │   └── RegistryForbiddenError (403)
        ├── RegistryUnavailableError (503)
        └── RegistryTimeoutError (504)

Load-time problems with a model are "unsupported model" or artifact errors (5xx): they are the
server's models, not the client's fault. The server's own additions (401 for its keys, 503 while
not ready) live in ``inference_server/errors.py``.
"""

from __future__ import annotations


class InferenceError(Exception):
    """Root of every error raised on purpose by VisionHost."""

    status_code: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInputError(InferenceError):
    """The caller sent something we cannot use (bad parameter, bad request shape)."""

    status_code = 400


class InvalidParameterError(InvalidInputError):
    """An inference parameter of the right type outside its range or choices."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class ParameterTypeError(InvalidParameterError):
    """An inference parameter that cannot be read as its type (422, as request validation answers)."""

    status_code = 422


class ImageDecodeError(InvalidInputError):
    """The image bytes or array could not be turned into a picture."""


class UnsupportedImageFormatError(InvalidInputError):
    """The bytes are an image format the server does not decode (ICO, PSD, HEIF, ...)."""

    status_code = 415


class ImageSourceNotAllowedError(InvalidInputError):
    """The image source is refused by policy (file paths disabled, URL blocked, pickles off)."""


class ImageFetchError(InvalidInputError):
    """A URL image could not be downloaded."""


class PayloadTooLargeError(InferenceError):
    """Bytes, pixels or batch length above the configured caps."""

    status_code = 413


class InvalidModelIdError(InvalidInputError):
    """A model id that is not `project/version`."""


class ModelNotFoundError(InferenceError):
    """No artifacts for this model id are available."""

    status_code = 404


class ModelArtifactError(InferenceError):
    """Artifacts exist but are broken: missing weights, corrupt file, unreadable metadata."""

    status_code = 500


class UnsupportedModelError(ModelArtifactError):
    """The model's outputs match no layout we know how to decode."""


class SettingsError(InferenceError, ValueError):
    """A setting (environment variable) with a value that cannot be used; stops start-up."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(message)
        self.variable = variable


class BackendError(InferenceError):
    """A runtime failed to load or run a model."""

    status_code = 500


class BackendUnavailableError(BackendError):
    """No installed backend can load the artifact, or the requested backend is missing."""

    status_code = 503


class InputShapeError(BackendError):
    """The tensor fed to a session does not fit the model's declared input."""

    status_code = 400


class RegistryError(InferenceError):
    """The model registry failed us: server errors, malformed answers, broken or truncated files."""

    status_code = 502


class RegistryAuthError(RegistryError):
    """The registry refused the API key (missing, wrong, or without access to the model)."""

    status_code = 401


class RegistryForbiddenError(RegistryAuthError):
    """The registry knows the key but it may not fetch this model."""

    status_code = 403


class RegistryUnavailableError(RegistryError):
    """The registry cannot be reached (connection refused, DNS failure) or no source is usable."""

    status_code = 503


class RegistryTimeoutError(RegistryError):
    """The registry did not answer within the configured timeout, even after retries."""

    status_code = 504
