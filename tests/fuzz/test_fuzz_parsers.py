"""Fuzzing our own parsers of untrusted input with Hypothesis, bounded for CI.

Each target gets VISIONHOST_FUZZ_EXAMPLES examples (default below; a few tens of seconds for all
of them on a small machine); set it higher for a longer local run. The property is always the
same: the parser returns a value within its documented bounds, or raises the project's own 4xx
error. Anything else (another exception, a 5xx, an array larger than the bytes allow) fails.
"""

from __future__ import annotations

import math
import os
import pickle
import string

import hostile_images as hostile
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inference_core.errors import InferenceError, InvalidModelIdError
from inference_core.images.gate import decode_image
from inference_core.images.safe_pickle import MAX_DIMENSIONS, load_numpy_pickle
from inference_core.images.url_fetch import parse_url
from inference_core.model_ids import parse_model_id
from inference_core.params import InferenceParams
from inference_core.settings import ImageLimits
from PIL import Image

EXAMPLES = int(os.environ.get("VISIONHOST_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LIMITS = ImageLimits(max_pixels=4_000_000)


def _seed_images() -> list[bytes]:
    image = hostile.sample_rgb(40, 30)
    exif = Image.Exif()
    exif[0x0112] = 6
    return [
        hostile.pil_bytes(image, "JPEG", exif=exif),
        hostile.pil_bytes(image, "JPEG", progressive=True),
        hostile.pil_bytes(image, "PNG"),
        hostile.pil_bytes(image.convert("P"), "GIF"),
        hostile.pil_bytes(image, "WEBP"),
        hostile.pil_bytes(image, "BMP"),
        hostile.pil_bytes(image, "TIFF"),
        hostile.pil_bytes(image, "TIFF", compression="tiff_lzw"),
        hostile.rle8_bmp(12, 8),
        hostile.gray_tiff(),
    ]


SEEDS = _seed_images()


def _is_client_error(error: InferenceError) -> bool:
    return 400 <= error.status_code < 500


@st.composite
def mutated_images(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 8))):
        position = draw(st.integers(0, len(data) - 1))
        # headers are where the interesting fields live: bias mutations towards the start
        if draw(st.booleans()):
            position = position % min(len(data), 128)
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        cut = draw(st.integers(1, len(data)))
        data = data[:cut]
    if draw(st.integers(0, 4)) == 0:
        position = draw(st.integers(0, len(data)))
        data[position:position] = draw(st.binary(max_size=64))
    return bytes(data)


@FUZZ
@given(mutated_images())
def test_fuzz_image_gate(data):
    try:
        decoded = decode_image(data, LIMITS)
    except InferenceError as error:
        assert _is_client_error(error), error.message
        return
    assert decoded.dtype == np.uint8 and decoded.ndim == 3 and decoded.shape[2] == 3
    assert decoded.shape[0] * decoded.shape[1] <= LIMITS.max_pixels


@st.composite
def array_pickles(draw) -> bytes:
    dtype = draw(st.sampled_from(["u1", "u2", "f4", "f8", "b1", "i4", ">u2"]))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=1, max_size=4)))
    array = np.zeros(shape, dtype=dtype)
    if draw(st.booleans()) and array.ndim > 1:
        array = np.asfortranarray(array)
    data = bytearray(pickle.dumps(array, protocol=draw(st.integers(0, 5))))
    for _ in range(draw(st.integers(0, 6))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@FUZZ
@given(st.one_of(array_pickles(), st.binary(max_size=300)))
def test_fuzz_unpickler(payload):
    try:
        array = load_numpy_pickle(payload)
    except InferenceError as error:
        assert error.status_code == 400
        return
    assert array.dtype.kind in "biuf" and 1 <= array.ndim <= MAX_DIMENSIONS
    assert array.flags.c_contiguous or array.flags.f_contiguous
    assert all(stride > 0 for stride in array.strides) or array.size <= 1
    assert array.nbytes == math.prod(array.shape) * array.itemsize <= len(payload)


PARAM_NAMES = [
    "confidence", "iou_threshold", "max_detections", "max_candidates", "class_agnostic_nms",
    "class_filter", "keypoint_confidence", "mask_decode_mode", "tradeoff_factor",
    "response_mask_format", "visualize_predictions", "visualization_labels", "visualization_stroke_width",
]
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.one_of(st.text(max_size=5), st.integers()), max_size=3),
    st.sampled_from(["best", "default", "1e400", "nan", "-inf", "300", " 7 ", "polygon", "fast"]),
)


@FUZZ
@given(st.dictionaries(st.sampled_from(PARAM_NAMES), ANY_VALUE, max_size=6))
def test_fuzz_parameter_parser(options):
    try:
        params = InferenceParams.from_kwargs(**options)
    except InferenceError as error:
        assert error.status_code in (400, 422), error.message  # out of range / wrong type
        return
    assert 0.0 <= params.confidence <= 1.0 and 0.0 <= params.iou_threshold <= 1.0
    assert 1 <= params.max_detections <= 100_000 and 1 <= params.max_candidates <= 1_000_000
    assert 1 <= params.visualization_stroke_width <= 100


SEGMENT_CHARS = string.ascii_letters + string.digits + "._-"


@FUZZ
@given(st.one_of(st.text(max_size=40), st.text(alphabet=SEGMENT_CHARS + "/\n\r\x00 .", max_size=20)))
def test_fuzz_model_id_parser(text):
    try:
        parsed = parse_model_id(text)
    except InvalidModelIdError as error:
        assert error.status_code == 400
        return
    for segment in (parsed.project, parsed.version):
        assert segment and set(segment) <= set(SEGMENT_CHARS) and segment[0] not in "._-"
    assert "\n" not in str(parsed) and ".." != parsed.project


URL_PARTS = st.sampled_from([
    "http://", "https://", "[", "]", "::1", "127.0.0.1", "example.com", ":", "80", "/", "?", "#", "@",
    "%", "%0a", "\r\n", " ", "\ud800", "\udfff", "é", "xn--", "..", "\\", "0x7f.1",
])


@FUZZ
@given(st.one_of(st.lists(URL_PARTS, max_size=10).map("".join), st.text(max_size=40)))
def test_fuzz_url_parser(url):
    try:
        parsed = parse_url(url)
    except InferenceError as error:
        assert error.status_code == 400, error.message
        return
    assert parsed.scheme in ("http", "https") and 0 < parsed.port < 65536
    parsed.host.encode("ascii")
    parsed.target.encode("ascii")
    assert not any(char in parsed.target for char in " \r\n\t")
