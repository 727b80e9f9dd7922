"""The real NYU test frame 1 through the NYU reader and the crop, with line 1 of the test ground truth and of
the published refined centres."""

import numpy as np
import torch
from minis import write_one_frame_nyu

from handgraph.datasets import open_split
from handgraph.geometry.camera import xyz_to_uvd
from handgraph.geometry.layouts import NYU14_SUBSET
from handgraph.preprocess.crop import crop_depth, intrinsics_tensor, make_crops


def test_every_labelled_joint_lands_on_the_hand_in_the_crop(shared_data, tmp_path):
    write_one_frame_nyu(shared_data, tmp_path)
    frames = open_split("nyu:test", tmp_path)
    refined = np.loadtxt(shared_data / "real/nyu/center_test_refined.txt", max_rows=1) * [1, -1, 1]  # y up -> down
    camera = intrinsics_tensor(frames.camera)
    crop = make_crops(camera, torch.tensor(refined[None], dtype=torch.float32), float(frames.cube_mm[0]), 128)
    depth = crop_depth(torch.tensor(frames.depth(0)[None], dtype=torch.float32), camera, crop, 128)[0, 0].numpy()
    joints = xyz_to_uvd(frames.xyz[0][list(NYU14_SUBSET)], crop[0, :4].numpy())  # crop pixels, mm
    columns, rows = np.rint(joints[:, 0]).astype(int), np.rint(joints[:, 1]).astype(int)
    assert ((0 <= columns) & (columns < 128) & (0 <= rows) & (rows < 128)).all()
    behind = joints[:, 2] - depth[rows, columns]
    # NYU's joints lie 0-30 mm behind the surface at their pixel; nearest-neighbour resampling adds a little
    assert (behind > -5).all() and (behind < 40).all(), behind.round(1)
