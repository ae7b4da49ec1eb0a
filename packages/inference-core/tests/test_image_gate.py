"""The image gate: one decoder decides the size, an allow-list of formats, work budgets for every
format, and no decoder chatter on stderr."""

from __future__ import annotations

import io

import cv2
import hostile_images as hostile
import numpy as np
import pytest
from inference_core.errors import ImageDecodeError, PayloadTooLargeError, UnsupportedImageFormatError
from inference_core.images import ImageLoader, jpeg
from inference_core.images.gate import decode_image
from inference_core.settings import ImageLimits
from PIL import Image, ImageOps

LIMITS = ImageLimits()


@pytest.mark.parametrize("name", sorted(hostile.other_format_images()))
def test_formats_outside_the_allow_list_are_415_before_any_decoder(name):
    data = hostile.other_format_images()[name]
    with pytest.raises(UnsupportedImageFormatError) as caught:
        ImageLoader().load(data)
    assert caught.value.status_code == 415
    assert "JPEG, PNG, WEBP, BMP, TIFF, GIF" in caught.value.message


def test_bytes_that_are_no_image_are_400_not_415():
    with pytest.raises(ImageDecodeError) as caught:
        ImageLoader().load(b"hello world, no image here")
    assert caught.value.status_code == 400


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"])
def test_every_allowed_format_decodes_to_the_size_its_header_declares(fmt):
    image = hostile.sample_rgb(37, 23)
    data = hostile.pil_bytes(image.convert("P") if fmt == "GIF" else image, fmt)
    decoded = decode_image(data, LIMITS)
    assert decoded.shape == (23, 37, 3) and decoded.dtype == np.uint8


def test_many_progressive_jpeg_scans_are_refused_before_decoding():
    data = hostile.progressive_jpeg_with_scans(400)
    assert len(data) < 400_000
    with pytest.raises(PayloadTooLargeError) as caught:
        decode_image(data, LIMITS)
    assert "MAX_JPEG_SCANS" in caught.value.message


def test_ordinary_progressive_jpeg_decodes_like_opencv():
    data = hostile.pil_bytes(hostile.sample_rgb(300, 200), "JPEG", progressive=True)
    expected = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(decode_image(data, LIMITS), expected)


def jpeg_variants() -> dict[str, bytes]:
    photo = hostile.sample_rgb(301, 203)
    bgr = np.asarray(photo)[..., ::-1]
    return {
        "baseline-420": hostile.pil_bytes(photo, "JPEG", quality=90),
        "baseline-444": hostile.pil_bytes(photo, "JPEG", quality=95, subsampling=0),
        "progressive": hostile.pil_bytes(photo, "JPEG", progressive=True),
        "grey": hostile.pil_bytes(photo.convert("L"), "JPEG"),
        "restart-markers": cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_RST_INTERVAL, 2])[1].tobytes(),
    }


@pytest.mark.parametrize("name", sorted(jpeg_variants()))
def test_jpegs_decode_through_libjpeg_turbo_to_opencvs_pixels(name):
    """The fast path is taken (the gate's own decoder answers) and its pixels are cv2.imdecode's,
    Roboflow's decoder, bit for bit."""
    data = jpeg_variants()[name]
    fast = jpeg.decode_bgr(data, 301, 203)
    assert fast is not None
    expected = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(fast, expected)
    np.testing.assert_array_equal(decode_image(data, LIMITS), expected)


def test_a_truncated_jpeg_is_left_to_pillow_and_still_refused_quietly(capfd):
    data = hostile.pil_bytes(hostile.sample_rgb(301, 203), "JPEG")
    cut = data[: len(data) // 2]
    assert jpeg.decode_bgr(cut, 301, 203) is None
    with pytest.raises(ImageDecodeError) as caught:
        decode_image(cut, LIMITS)
    assert caught.value.status_code == 400
    assert "Corrupt" not in capfd.readouterr().err


def test_a_cmyk_jpeg_is_decoded_by_pillow():
    cmyk = hostile.sample_rgb(40, 30).convert("CMYK")
    data = hostile.pil_bytes(cmyk, "JPEG")
    expected = cv2.cvtColor(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), cv2.COLOR_RGB2BGR)
    np.testing.assert_array_equal(decode_image(data, LIMITS), expected)


def test_scan_budget_shrinks_with_image_size():
    """Pixels x scans is bounded too: a scan count fine for a small image is refused for a large one."""
    data = hostile.progressive_jpeg_with_scans(40, 400, 400)
    assert decode_image(data, ImageLimits(max_pixels=1_000_000)).shape == (400, 400, 3)
    with pytest.raises(PayloadTooLargeError):
        decode_image(data, ImageLimits(max_pixels=160_000))


def test_png_chunk_flood_is_refused():
    with pytest.raises(PayloadTooLargeError) as caught:
        decode_image(hostile.png_with_chunks(5000), LIMITS)
    assert "MAX_IMAGE_CHUNKS" in caught.value.message


def test_png_flood_of_empty_image_data_chunks_is_refused():
    with pytest.raises(PayloadTooLargeError):
        decode_image(hostile.png_with_tiny_idat_chunks(5000), LIMITS)


def test_decoder_warnings_never_reach_stderr(capfd):
    """Duplicate sRGB chunks made libpng print one warning line per chunk."""
    decoded = decode_image(hostile.png_with_chunks(200), LIMITS)
    assert decoded.shape == (16, 16, 3)
    captured = capfd.readouterr()
    assert "libpng" not in captured.err and "warning" not in captured.err.lower()


def test_gif_block_flood_before_the_first_image_is_refused():
    assert decode_image(hostile.gif_with_comment_blocks(100), LIMITS).shape == (16, 16, 3)
    with pytest.raises(PayloadTooLargeError):
        decode_image(hostile.gif_with_comment_blocks(100_000), LIMITS)


def test_tiff_tags_claiming_more_data_than_the_file_holds_are_refused():
    assert decode_image(hostile.gray_tiff(), LIMITS).shape == (1, 1, 3)
    with pytest.raises(ImageDecodeError):
        decode_image(hostile.tiff_with_oversized_tag(), LIMITS)
    with pytest.raises(PayloadTooLargeError):
        decode_image(hostile.tiff_with_many_tags(1000), LIMITS)


def test_large_rle_bitmaps_are_refused_small_ones_decode():
    assert decode_image(hostile.rle8_bmp(20, 10), LIMITS).shape == (10, 20, 3)
    with pytest.raises(PayloadTooLargeError):
        decode_image(hostile.rle8_bmp(2000, 400), LIMITS)


def test_pixel_cap_uses_the_decoders_own_header():
    data = hostile.pil_bytes(Image.new("L", (3000, 3000)), "PNG")
    with pytest.raises(PayloadTooLargeError) as caught:
        decode_image(data, ImageLimits(max_pixels=1_000_000))
    assert "3000x3000" in caught.value.message


def test_a_swapped_in_decode_step_may_not_return_more_pixels_than_were_checked():
    data = hostile.pil_bytes(hostile.sample_rgb(20, 20), "PNG")
    with pytest.raises(ImageDecodeError):
        decode_image(data, LIMITS, decode_step=lambda image, data: np.zeros((40, 40, 3), np.uint8))
    smaller = decode_image(data, LIMITS, decode_step=lambda image, data: np.zeros((10, 10, 3), np.uint8))
    assert smaller.shape == (10, 10, 3)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(fmt, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = hostile.pil_bytes(hostile.sample_rgb(24, 12), fmt, exif=exif, **({"lossless": True} if fmt == "WEBP" else {}))
    upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)).convert("RGB"))
    expected = cv2.cvtColor(np.asarray(upright), cv2.COLOR_RGB2BGR)
    np.testing.assert_array_equal(decode_image(data, LIMITS), expected)
    if fmt != "TIFF":  # Pillow applies a TIFF's orientation tag while decoding
        assert decode_image(data, LIMITS, auto_orient=False).shape == (12, 24, 3)


@pytest.mark.parametrize(
    "data",
    [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"II*\x00", b"RIFF\x00\x00\x00\x00WEBP"],
    ids=["jpeg", "png", "gif", "bmp", "tiff", "webp"],
)
def test_signature_only_files_are_400(data):
    with pytest.raises(ImageDecodeError) as caught:
        decode_image(data, LIMITS)
    assert caught.value.status_code == 400
