"""Exceptions raised by the client.

Names, module path and meanings match Roboflow's `inference_sdk.http.errors`, so existing
`except HTTPCallErrorError:` blocks keep working; for the statuses our server sends the client
raises a typed subclass (`ModelNotFoundError` for 404, ...; see `STATUS_ERRORS`). Every error the client raises on purpose derives
from `HTTPClientError`, except `RetryError`, which (as in Roboflow's client) never escapes `infer`.
"""

from __future__ import annotations


class HTTPClientError(Exception):
    """Root of the client's errors."""


class HTTPCallErrorError(HTTPClientError):
    """The server answered with a non-2xx status.

    `status_code` is the HTTP status; `api_message` is the server's own explanation (the `message`
    field of its JSON error body, FastAPI's `detail`, or the raw text), or None when it gave none.
    """

    def __init__(self, description: str, status_code: int, api_message: str | None) -> None:
        super().__init__(description)
        self.__description = description
        self.__status_code = status_code
        self.__api_message = api_message

    @property
    def description(self) -> str:
        return self.__description

    @property
    def status_code(self) -> int:
        return self.__status_code

    @property
    def api_message(self) -> str | None:
        return self.__api_message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(description='{self.description}', "
            f"api_message='{self.api_message}',status_code={self.status_code})"
        )

    def __str__(self) -> str:
        return self.__repr__()


class BadRequestError(HTTPCallErrorError):
    """400: the server could not use the request (an undecodable image, a parameter out of range)."""


class RequestValidationError(HTTPCallErrorError):
    """422: the request's shape or a parameter's type is wrong."""


class UnauthorizedError(HTTPCallErrorError):
    """401 or 403: the API key is missing, wrong, or may not use this model."""


class ModelNotFoundError(HTTPCallErrorError):
    """404: the model is neither on the server nor downloadable by it."""


class PayloadTooLargeError(HTTPCallErrorError):
    """413: the body, an image or the batch is over the server's limits."""


class UnsupportedMediaTypeError(HTTPCallErrorError):
    """415: an image format the server does not decode."""


class ServerError(HTTPCallErrorError):
    """5xx: the server or its model failed (a broken or unsupported model, a registry failure)."""


class ServiceUnavailableError(ServerError):
    """503: the server is not ready, or no backend or registry can serve the request now."""


#: status -> the typed error the client raises for it (others: HTTPCallErrorError itself).
STATUS_ERRORS: dict[int, type[HTTPCallErrorError]] = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: UnauthorizedError,
    404: ModelNotFoundError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    422: RequestValidationError,
    503: ServiceUnavailableError,
}


def error_for_status(status_code: int) -> type[HTTPCallErrorError]:
    """The typed error for a status; every one is an HTTPCallErrorError, as Roboflow's client raises."""
    if status_code in STATUS_ERRORS:
        return STATUS_ERRORS[status_code]
    return ServerError if status_code >= 500 else HTTPCallErrorError


class HTTPServerConnectionError(HTTPClientError):
    """No response came back: refused, reset or unreachable, after the retries."""


class InvalidInputFormatError(HTTPClientError):
    """An input is of a type the client cannot send (not a path, URL, base64, PIL or numpy image)."""


class InvalidModelIdentifier(HTTPClientError):
    """The model id does not have the form `project/version` where that is required."""


class ModelNotInitializedError(HTTPClientError):
    """The model is not loaded on the server and loading it was not allowed."""


class ModelTaskTypeNotSupportedError(HTTPClientError):
    """The model's task has no `/infer/*` route."""


class ModelNotSelectedError(HTTPClientError):
    """No `model_id` was given and none was selected with `select_model`."""


class APIKeyNotProvided(HTTPClientError):
    """The call needs an API key (Roboflow's hosted API) and the client has none."""


class EncodingError(HTTPClientError):
    """An image could not be decoded or encoded."""


class WrongClientModeError(HTTPClientError):
    """The method needs the other API mode (model management is v1 only)."""


class InvalidParameterError(HTTPClientError):
    """A configuration value is out of its allowed set."""


class InvalidURLImageInput(HTTPClientError):
    """An image URL is malformed or uses a scheme other than http(s)."""


class RetryError(Exception):
    """A retried request still failed; kept for code that imports it."""

    def __init__(
        self,
        description: str,
        status_code: int | None = None,
        inner_error: Exception | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status_code = status_code
        self.inner_error = inner_error
