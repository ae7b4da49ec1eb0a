"""Cheap checks before any route parses a JSON body, cheapest first.

The body cap (:mod:`inference_server.limits`) has already run. Then, for a POST with a JSON body:

1. with server keys on (VISIONHOST_API_KEYS), the key: from the query, the Authorization header,
   or a scan of the body for "api_key" (no parsing); without an accepted one, a 401. This covers
   every route that takes a JSON body: inference, workflows, the stream API;
2. on the image routes (`/infer/...`), the number of entries in the top-level "image" list is
   counted value by value, stopping one past MAX_BATCH_SIZE: a body holding a million tiny image
   objects is refused with a 413 after reading MAX_BATCH_SIZE + 1 of them, never validated whole;
3. on the workflow routes (a `workflows` path segment), each list in the top-level "inputs" object
   is counted the same way, counting its image objects (objects with "type" and "value"; lists of
   parameters such as class names are not images and are left to the workflow).

"A JSON body" is what the routes would parse as JSON (:func:`inference_server.auth.is_json`): no
content type at all counts, so leaving the header out does not skip these checks.

Anything the pre-scan cannot read (not an object, not JSON) is left to the route, which answers
with its usual 422.
"""

from __future__ import annotations

import json
import re

from starlette.datastructures import Headers, QueryParams

from inference_server.auth import body_api_keys, header_api_key, is_json, key_is_accepted, refusal
from inference_server.limits import replay_body
from inference_server.settings import ServerSettings

#: Paths whose JSON bodies carry an "image" list counted against MAX_BATCH_SIZE.
IMAGE_ROUTE_PREFIX = "/infer/"
#: A path segment naming the workflow routes, whose "inputs" lists of images are counted too.
WORKFLOW_SEGMENT = "workflows"
_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")


class PreflightMiddleware:
    def __init__(self, app, settings: ServerSettings) -> None:
        self.app = app
        self.accepted = settings.accepted_api_keys
        self.max_batch = settings.max_batch_size

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not is_json(headers):
            await self.app(scope, receive, send)
            return
        query = QueryParams(scope.get("query_string", b""))
        header_key = header_api_key(query, headers)
        if self.accepted and header_key is not None and not key_is_accepted([header_key], self.accepted):
            await _answer(send, 401, refusal([header_key]).message)
            return
        body = await _read_body(receive)
        if self.accepted and header_key is None:
            keys = body_api_keys(body)
            if not key_is_accepted(keys, self.accepted):
                await _answer(send, 401, refusal(keys).message)
                return
        if self._too_many_images(scope["path"], body):
            await _answer(send, 413, (
                f"The request holds more than {self.max_batch} images; this server accepts at most "
                f"{self.max_batch} per request (MAX_BATCH_SIZE)."
            ))
            return
        await self.app(scope, replay_body(body, receive), send)

    def _too_many_images(self, path: str, body: bytes) -> bool:
        stop_at = self.max_batch + 1
        if path.startswith(IMAGE_ROUTE_PREFIX):
            count = count_list_entries(body, "image", stop_at)
            if count is not None and count > self.max_batch:
                return True
        if WORKFLOW_SEGMENT in path.split("/"):
            return largest_image_list(body, "inputs", stop_at) > self.max_batch
        return False


def count_list_entries(body: bytes, member: str, stop_at: int) -> int | None:
    """Entries of the list in the top-level `member` of a JSON object, counted up to `stop_at`.

    Each value is decoded by the json module's C scanner and dropped at once. None when the body
    is not a JSON object or has no such list (the route's own validation reports that).
    """
    try:
        text = body.decode("utf-8")
        position = _member_value(text, _skip(text, 0), member)
        if position is None or text[position] != "[":
            return None
        return _count_entries(text, position, stop_at, _any_value)
    except (ValueError, IndexError, RecursionError):
        return None


def largest_image_list(body: bytes, member: str, stop_at: int) -> int:
    """The most image objects in one list among the members of the top-level object `member`
    (a workflow's "inputs"), counted up to `stop_at`; 0 when there is none or the body cannot be read."""
    try:
        text = body.decode("utf-8")
        position = _member_value(text, _skip(text, 0), member)
        if position is None or text[position] != "{":
            return 0
        largest = 0
        for _, value_position in _members(text, position):
            if text[value_position] == "[":
                largest = max(largest, _count_entries(text, value_position, stop_at, _is_image_object) or 0)
                if largest >= stop_at:
                    return largest
        return largest
    except (ValueError, IndexError, RecursionError):
        return 0


def _member_value(text: str, position: int, member: str) -> int | None:
    """Where the value of `member` starts in the JSON object at `position`; None if absent."""
    if text[position] != "{":
        return None
    for key, value_position in _members(text, position):
        if key == member:
            return value_position
    return None


def _members(text: str, position: int):
    """(key, where its value starts) for each member of the JSON object at `position`; each value
    the caller leaves is then skipped (decoded and dropped)."""
    position = _skip(text, position + 1)
    while text[position] != "}":
        key, position = _DECODER.raw_decode(text, position)
        position = _skip(text, position)
        if text[position] != ":":
            raise ValueError("not a JSON object")
        position = _skip(text, position + 1)
        yield key, position
        _, position = _DECODER.raw_decode(text, position)
        position = _skip(text, position)
        if text[position] == ",":
            position = _skip(text, position + 1)


def _any_value(_value) -> bool:
    return True


def _is_image_object(value) -> bool:
    return isinstance(value, dict) and "type" in value and "value" in value


def _count_entries(text: str, position: int, stop_at: int, counts) -> int | None:
    count, position = 0, _skip(text, position + 1)
    while text[position] != "]":
        value, position = _DECODER.raw_decode(text, position)
        count += 1 if counts(value) else 0
        if count >= stop_at:
            return count
        position = _skip(text, position)
        if text[position] == ",":
            position = _skip(text, position + 1)
        elif text[position] != "]":
            return None
    return count


def _skip(text: str, position: int) -> int:
    return _WHITESPACE.match(text, position).end()


async def _read_body(receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _answer(send, status: int, message: str) -> None:
    body = json.dumps({"message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
