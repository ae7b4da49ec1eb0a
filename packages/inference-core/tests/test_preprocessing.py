import numpy as np
import pytest
from inference_core.preprocessing import (
    PreprocessingConfig,
    PreprocessingFlags,
    StaticCrop,
    apply_contrast,
    images_to_tensor,
    letterbox,
    preprocess_image,
)


def test_stretch_maps_boxes_back_exactly():
    image = np.zeros((300, 600, 3), np.uint8)
    resized, transform = preprocess_image(image, PreprocessingConfig(), 320, 320)
    assert resized.shape == (320, 320, 3)
    box_in_input = np.array([[32.0, 64.0, 160.0, 128.0]])
    np.testing.assert_allclose(transform.to_original(box_in_input), [[60.0, 60.0, 300.0, 120.0]])


@pytest.mark.parametrize("mode,colour", [("Fit (black edges) in", 0), ("Fit (white edges) in", 255), ("Fit (grey edges) in", 114)])
def test_letterbox_pads_centred_with_the_right_colour(mode, colour):
    image = np.full((200, 400, 3), 50, np.uint8)
    resized, transform = preprocess_image(image, PreprocessingConfig(resize_mode=mode), 320, 320)
    assert resized.shape == (320, 320, 3)
    assert transform.scale_x == transform.scale_y == 0.8 and transform.pad_y == 80 and transform.pad_x == 0
    assert (resized[:80] == colour).all() and (resized[240:] == colour).all()
    assert (resized[80:240] == 50).all()
    back = transform.to_original(np.array([[0.0, 80.0, 320.0, 240.0]]))
    np.testing.assert_allclose(back, [[0, 0, 400, 200]])


def test_ultralytics_padding_rounds_halves_like_ultralytics():
    image = np.zeros((101, 200, 3), np.uint8)
    _, scale, left, top = letterbox(image, 64, 64, (114, 114, 114), ultralytics_padding=True)
    # new height round(101 * 0.32) = 32, padding (64 - 32) / 2 = 16 on each side
    assert (scale, left, top) == (0.32, 0.0, 16.0)


def test_static_crop_offsets_are_added_back_and_image_size_is_the_original():
    image = np.zeros((100, 200, 3), np.uint8)
    config = PreprocessingConfig(static_crop=StaticCrop(25, 10, 75, 60))
    resized, transform = preprocess_image(image, config, 100, 50)
    assert (transform.crop_x, transform.crop_y, transform.crop_width, transform.crop_height) == (50, 10, 100, 50)
    assert (transform.original_width, transform.original_height) == (200, 100)
    np.testing.assert_allclose(transform.to_original(np.array([[0.0, 0.0, 100.0, 50.0]])), [[50, 10, 150, 60]])
    _, untouched = preprocess_image(image, config, 100, 50, PreprocessingFlags(disable_static_crop=True))
    assert untouched.crop_width == 200


def test_boxes_are_clipped_to_the_image():
    _, transform = preprocess_image(np.zeros((100, 100, 3), np.uint8), PreprocessingConfig(), 100, 100)
    np.testing.assert_allclose(transform.to_original(np.array([[-10.0, -5.0, 150.0, 99.0]])), [[0, 0, 100, 99]])


def test_grayscale_and_contrast_steps():
    rng = np.random.default_rng(1)
    image = rng.integers(60, 120, size=(40, 40, 3), dtype=np.uint8)
    gray, _ = preprocess_image(image, PreprocessingConfig(grayscale=True), 40, 40)
    assert (gray[..., 0] == gray[..., 1]).all() and (gray[..., 1] == gray[..., 2]).all()
    stretched = apply_contrast(image, "Contrast Stretching")
    assert stretched.min() == 0 and stretched.max() == 255
    for kind in ("Histogram Equalization", "Adaptive Equalization"):
        adjusted = apply_contrast(image, kind)
        assert adjusted.shape == image.shape and (adjusted[..., 0] == adjusted[..., 2]).all()
        assert adjusted.std() > image.std()


def test_tensor_is_rgb_nchw_unit_scaled():
    image = np.zeros((2, 3, 3), np.uint8)
    image[..., 0] = 255  # blue channel in BGR
    tensor = images_to_tensor([image, image])
    assert tensor.shape == (2, 3, 2, 3) and tensor.dtype == np.float32
    assert (tensor[:, 2] == 1.0).all() and (tensor[:, 0] == 0.0).all()
    normalised = images_to_tensor([image], mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    assert (normalised[:, 2] == 1.0).all() and (normalised[:, 0] == -1.0).all()


def test_tensor_holds_each_image_of_a_batch_in_its_own_slot():
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (37, 53, 3), dtype=np.uint8) for _ in range(3)]
    expected = np.stack(images)[..., ::-1].transpose(0, 3, 1, 2).astype(np.float32) * np.float32(1 / 255)
    assert np.array_equal(images_to_tensor(images), expected)
    for wrong in ([images[0], images[1][:30]], [images[0][..., 0]]):  # sizes differ; one channel
        with pytest.raises(ValueError):
            images_to_tensor(wrong)


@pytest.mark.parametrize(
    "config",
    [
        PreprocessingConfig(resize_mode="Fit (grey edges) in", ultralytics_padding=True),
        PreprocessingConfig(resize_mode="Fit (black edges) in"),
        PreprocessingConfig(static_crop=StaticCrop(10, 20, 90, 70)),
    ],
    ids=["ultralytics-letterbox", "roboflow-letterbox", "stretch-with-static-crop"],
)
def test_an_image_decoded_at_reduced_size_gets_the_full_size_geometry(config):
    """Reduced-resolution decoding: sizes, crops and pads come from the original size, so boxes map
    back to original pixels exactly as for the full decode, and the pixels barely differ."""
    import cv2

    rows, columns = np.mgrid[0:1080, 0:1920]
    full = np.dstack([(rows * 255 // 1080), (columns * 255 // 1920), ((rows + columns) % 256)]).astype(np.uint8)
    cv2.circle(full, (700, 500), 200, (20, 200, 60), -1)
    quarter = cv2.resize(full, (480, 270), interpolation=cv2.INTER_AREA)
    from_full, full_transform = preprocess_image(full, config, 320, 320)
    from_quarter, quarter_transform = preprocess_image(quarter, config, 320, 320, original_size=(1920, 1080))
    assert quarter_transform == full_transform
    assert from_quarter.shape == from_full.shape
    assert np.abs(from_quarter.astype(int) - from_full.astype(int)).mean() < 3.0
    box = np.array([[40.0, 100.0, 200.0, 220.0]])
    np.testing.assert_allclose(quarter_transform.to_original(box), full_transform.to_original(box))
