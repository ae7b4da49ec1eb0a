import base64
import io
import pickle

import cv2
import numpy as np
import pytest
from inference_core.errors import (
    ImageDecodeError,
    ImageSourceNotAllowedError,
    InferenceError,
    PayloadTooLargeError,
)
from inference_core.images import ImageLoader
from inference_core.settings import ImageLimits
from PIL import Image


@pytest.fixture
def bgr_image() -> np.ndarray:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(30, 40, 3), dtype=np.uint8)
    image[:, :20] = (255, 0, 0)  # left half pure blue in BGR
    return image


def png_bytes(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def test_every_source_form_gives_the_same_pixels(bgr_image, tmp_path):
    loader = ImageLoader()
    data = png_bytes(bgr_image)
    path = tmp_path / "image.png"
    path.write_bytes(data)
    rgb_pil = Image.fromarray(cv2.cvtColor(bgr_image, cv2.COLOR_BGR2RGB))
    encoded = base64.b64encode(data).decode()
    sources = [
        bgr_image,
        data,
        bytearray(data),
        path,
        str(path),
        encoded,
        "data:image/png;base64," + encoded,
        rgb_pil,
        {"type": "base64", "value": encoded},
        {"type": "NUMPY", "value": base64.b64encode(pickle.dumps(bgr_image)).decode()},
        {"type": "file", "value": str(path)},
    ]
    for source in sources:
        loaded = loader.load(source)
        assert loaded.dtype == np.uint8 and loaded.shape == (30, 40, 3), type(source)
        np.testing.assert_array_equal(loaded, bgr_image)


def test_array_variants_are_normalised_to_bgr_uint8(bgr_image):
    loader = ImageLoader()
    gray = bgr_image[:, :, 0]
    assert loader.load(gray).shape == (30, 40, 3)
    assert (loader.load(gray)[:, :, 1] == gray).all()
    bgra = np.dstack([bgr_image, np.full(gray.shape, 255, np.uint8)])
    np.testing.assert_array_equal(loader.load(bgra), bgr_image)
    sixteen_bit = bgr_image.astype(np.uint16) * 257
    np.testing.assert_array_equal(loader.load(sixteen_bit), bgr_image)
    unit_float = bgr_image.astype(np.float32) / 255.0
    np.testing.assert_array_equal(loader.load(unit_float), bgr_image)
    with pytest.raises(ImageDecodeError):
        loader.load(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ImageDecodeError):
        loader.load(np.array([[np.nan]], dtype=np.float32))


def test_sixteen_bit_png_and_rgba_png_and_webp_decode(bgr_image):
    loader = ImageLoader()
    ok, encoded16 = cv2.imencode(".png", bgr_image.astype(np.uint16) * 257)
    np.testing.assert_array_equal(loader.load(encoded16.tobytes()), bgr_image)
    rgba = Image.fromarray(cv2.cvtColor(bgr_image, cv2.COLOR_BGR2RGB)).convert("RGBA")
    buffer = io.BytesIO()
    rgba.save(buffer, format="PNG")
    np.testing.assert_array_equal(loader.load(buffer.getvalue()), bgr_image)
    ok, webp = cv2.imencode(".webp", bgr_image, [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert loader.load(webp.tobytes()).shape == (30, 40, 3)


def exif_rotated_jpeg() -> bytes:
    """A 20x10 (w x h) JPEG whose EXIF says: rotate 90 degrees clockwise to display."""
    image = Image.new("RGB", (20, 10), (255, 0, 0))
    image.paste((0, 0, 255), (0, 0, 10, 10))  # left half blue
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def test_exif_orientation_applied_unless_disabled():
    loader = ImageLoader()
    data = exif_rotated_jpeg()
    assert loader.load(data).shape[:2] == (20, 10)
    assert loader.load(data, auto_orient=False).shape[:2] == (10, 20)
    pil = Image.open(io.BytesIO(data))
    assert loader.load(pil).shape[:2] == (20, 10)


def test_decompression_bomb_is_refused_before_decoding():
    bomb = Image.new("1", (20000, 20000))
    buffer = io.BytesIO()
    bomb.save(buffer, format="PNG")
    assert len(buffer.getvalue()) < 200_000
    loader = ImageLoader(limits=ImageLimits(max_pixels=10_000_000))
    with pytest.raises(PayloadTooLargeError) as caught:
        loader.load(buffer.getvalue())
    assert caught.value.status_code == 413 and "20000x20000" in caught.value.message


def test_byte_cap(bgr_image):
    loader = ImageLoader(limits=ImageLimits(max_bytes=100))
    with pytest.raises(PayloadTooLargeError):
        loader.load(png_bytes(bgr_image))
    with pytest.raises(PayloadTooLargeError):
        loader.load(base64.b64encode(png_bytes(bgr_image)).decode())


@pytest.mark.parametrize(
    "source",
    [b"", b"not an image at all", "%%%not base64%%%", base64.b64encode(b"garbage bytes").decode(), 12345],
)
def test_bad_inputs_are_typed_400_errors(source):
    with pytest.raises(ImageDecodeError) as caught:
        ImageLoader().load(source)
    assert caught.value.status_code == 400 and caught.value.message


def test_unknown_declared_type_and_missing_file():
    loader = ImageLoader()
    with pytest.raises(ImageDecodeError, match="not recognised image type"):
        loader.load({"type": "ftp", "value": "x"})
    with pytest.raises(ImageDecodeError, match="does not exist"):
        loader.load("/no/such/image.jpg")


def test_file_paths_can_be_disabled(tmp_path, bgr_image):
    path = tmp_path / "image.png"
    path.write_bytes(png_bytes(bgr_image))
    loader = ImageLoader(limits=ImageLimits(allow_file_paths=False))
    with pytest.raises(ImageSourceNotAllowedError):
        loader.load({"type": "file", "value": str(path)})


class _RunsCode:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/visionhost-pickle-pwned",))


def test_pickles_that_would_run_code_are_refused(tmp_path):
    loader = ImageLoader()
    for payload in (pickle.dumps(_RunsCode()), pickle.dumps({"a": 1}), pickle.dumps(np.array(["text"]))):
        with pytest.raises(ImageDecodeError):
            loader.load_numpy_pickle_bytes(payload)
    with pytest.raises(ImageDecodeError):
        loader.load({"type": "numpy", "value": base64.b64encode(pickle.dumps(_RunsCode())).decode()})
    import os

    assert not os.path.exists("/tmp/visionhost-pickle-pwned")


def test_numpy_input_can_be_disabled(bgr_image):
    loader = ImageLoader(limits=ImageLimits(allow_numpy=False))
    with pytest.raises(ImageSourceNotAllowedError):
        loader.load_numpy_pickle_bytes(pickle.dumps(bgr_image))


def test_all_image_errors_share_the_root():
    assert issubclass(ImageDecodeError, InferenceError)
    assert issubclass(PayloadTooLargeError, InferenceError)
