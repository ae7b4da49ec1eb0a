import cv2
import numpy as np
import pytest
from inference_core.models.masks import (
    decode_coco_rle,
    decode_masks,
    encode_coco_rle,
    largest_polygon,
    mask_in_original,
)
from inference_core.preprocessing import PreprocessingConfig, preprocess_image


def test_coco_rle_known_values():
    # column-major [0, 1, 1, 1]: one zero, then three ones
    assert encode_coco_rle(np.array([[0, 1], [1, 1]], bool)) == {"size": [2, 2], "counts": "13"}
    # starts with ones: a leading zero-length run
    assert encode_coco_rle(np.array([[1, 0], [1, 0]], bool))["counts"] == "022"
    assert encode_coco_rle(np.zeros((3, 4), bool))["counts"] == "<"  # one run of 12 zeros: chr(48 + 12)


@pytest.mark.parametrize("seed", range(5))
def test_coco_rle_round_trips(seed):
    rng = np.random.default_rng(seed)
    mask = np.zeros((97, 131), bool)
    for _ in range(4):
        x, y, radius = rng.integers(0, 131), rng.integers(0, 97), rng.integers(3, 40)
        cv2.circle(mask.view(np.uint8), (int(x), int(y)), int(radius), 1, -1)
    np.testing.assert_array_equal(decode_coco_rle(encode_coco_rle(mask)), mask)


def test_largest_polygon_picks_the_biggest_outer_contour():
    mask = np.zeros((50, 50), bool)
    mask[5:10, 5:10] = True
    mask[20:45, 20:40] = True
    polygon = largest_polygon(mask)
    assert polygon[:, 0].min() == 20 and polygon[:, 0].max() == 39
    assert polygon[:, 1].min() == 20 and polygon[:, 1].max() == 44
    assert largest_polygon(np.zeros((5, 5), bool)).shape == (0, 2)


def disk_prototypes(size: int = 80) -> np.ndarray:
    """Channel 0 is strongly positive inside a disk centred at (40, 40), negative outside."""
    prototypes = np.full((32, size, size), 0.0, np.float32)
    disk = np.zeros((size, size), np.uint8)
    cv2.circle(disk, (40, 40), 20, 1, -1)
    prototypes[0] = np.where(disk > 0, 8.0, -8.0)
    return prototypes


@pytest.mark.parametrize("mode,factor,grid", [("accurate", 0.0, 320), ("fast", 0.0, 80), ("tradeoff", 0.5, 200)])
def test_decode_modes_choose_the_grid_and_crop_to_the_box(mode, factor, grid):
    coefficients = np.zeros((1, 32), np.float32)
    coefficients[0, 0] = 1.0
    box = np.array([[80.0, 80.0, 240.0, 160.0]])  # the disk's top half only, in input pixels
    masks, scale = decode_masks(coefficients, disk_prototypes(), box, (320, 320), mode, factor)
    assert masks.shape == (1, grid, grid) and scale == pytest.approx(320 / grid)
    ys, xs = np.nonzero(masks[0])
    assert ys.max() * scale < 161 and ys.min() * scale >= 79
    area = masks[0].sum() * scale * scale
    assert area == pytest.approx(np.pi * 80 * 80 / 2, rel=0.1)


def test_masks_map_back_through_letterbox_to_the_original():
    image = np.zeros((200, 400, 3), np.uint8)
    _, transform = preprocess_image(image, PreprocessingConfig(resize_mode="Fit (grey edges) in"), 320, 320)
    grid = np.zeros((80, 80), bool)
    grid[20:60, 0:40] = True  # left half of the picture area (rows 20-60 are the image, 0-20 padding)
    original = mask_in_original(grid, (4.0, 4.0), transform)
    assert original.shape == (200, 400)
    assert original[:, :200].all() and not original[:, 200:].any()


def test_rle_matches_pycocotools_byte_for_byte():
    coco_mask = pytest.importorskip("pycocotools.mask", reason="pycocotools is not installed")
    rng = np.random.default_rng(7)
    for _ in range(5):
        mask = rng.random((61, 83)) > 0.6
        theirs = coco_mask.encode(np.asfortranarray(mask.astype(np.uint8)))
        ours = encode_coco_rle(mask)
        assert ours["counts"] == theirs["counts"].decode() and ours["size"] == list(theirs["size"])
