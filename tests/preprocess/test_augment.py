import math

import torch
from tolerance import assert_close

from handgraph.geometry.numerics import ulps
from handgraph.preprocess.augment import augment_crop
from handgraph.preprocess.crop import crop_uvd_to_xyz, normalized_to_uvd


def _scene(size=33):
    depth = torch.ones(1, 1, size, size)
    row, column = 8, 24  # a small near blob
    depth[0, 0, row - 1 : row + 2, column - 1 : column + 2] = -0.2
    u, v = (2 * column + 1) / size - 1, (2 * row + 1) / size - 1
    return depth, torch.tensor([[[u, v, -0.2]]]), torch.tensor([[120.0, 120.0, 16.0, 16.0, 500.0, 250.0]])


def _blob_position(depth):
    rows, columns = torch.nonzero(depth[0, 0] < 1.0, as_tuple=True)
    size = depth.shape[-1]
    return (2 * columns.double().mean() + 1) / size - 1, (2 * rows.double().mean() + 1) / size - 1


def test_identity_changes_nothing():
    depth, uvd, crop = _scene()
    moved, moved_uvd, moved_crop = augment_crop(depth, uvd, crop, torch.zeros(1), torch.ones(1), torch.zeros(1, 3))
    # an identity resampling in float32: sample positions a few ulps off the pixel centres, values within [-1, 1]
    assert_close(moved, depth, ulps(1.0, torch.float32, 8))
    assert_close(moved_uvd, uvd, ulps(1.0, torch.float32, 8))
    assert_close(moved_crop, crop, ulps(crop.abs(), torch.float32, 4))


def test_image_and_labels_move_together():
    depth, uvd, crop = _scene()
    for rotation, scale, shift in ((math.pi / 2, 1.0, (0.0, 0.0, 0.0)), (0.3, 1.2, (0.1, -0.05, 0.2))):
        moved, moved_uvd, _ = augment_crop(
            depth, uvd, crop, torch.tensor([rotation]), torch.tensor([scale]), torch.tensor([shift])
        )
        u, v = _blob_position(moved)
        assert abs(float(u) - float(moved_uvd[0, 0, 0])) < 0.07 and abs(float(v) - float(moved_uvd[0, 0, 1])) < 0.07
        blob_depth = moved[0, 0][moved[0, 0] < 1.0]
        expected = torch.full_like(blob_depth, float(moved_uvd[0, 0, 2]))
        assert_close(blob_depth, expected, ulps(1.0, torch.float32, 8))  # normalised depths: ulps of 1


def test_scale_and_shift_keep_millimetres():
    # Without rotation, a bigger cube and a moved centre describe the same 3D point.
    depth, uvd, crop = _scene()
    _, moved_uvd, moved_crop = augment_crop(
        depth, uvd, crop, torch.zeros(1), torch.tensor([1.3]), torch.tensor([[0.1, 0.2, -0.1]])
    )
    before = crop_uvd_to_xyz(normalized_to_uvd(uvd, crop, 33), crop)
    after = crop_uvd_to_xyz(normalized_to_uvd(moved_uvd, moved_crop, 33), moved_crop)
    # float32 mm of a point 500 mm away, through two different crops: a few ulps of 600 mm
    assert_close(after, before, ulps(600.0, torch.float32, 16))
