import dataclasses

import numpy as np
import pytest
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.numerics import ulps
from handgraph.synth.scenes import SceneConfig, generate_scenes

CONFIG = SceneConfig()


def test_frames_do_not_depend_on_the_batch():
    together = generate_scenes(CONFIG, 5, [3, 4, 5])
    alone = generate_scenes(CONFIG, 5, [4])
    for key in together:
        np.testing.assert_array_equal(together[key][1], alone[key][0])


def test_labelled_hands_lie_on_hand_pixels():
    frames = generate_scenes(dataclasses.replace(CONFIG, mirror_fraction=0.5), 1, range(48))
    assert frames["hand_present"].any(axis=1).mean() > 0.5
    for depth, uvd, present in zip(frames["depth"], frames["hand_uvd"], frames["hand_present"], strict=True):
        for (u, v, d), shown in zip(uvd, present, strict=True):
            if shown:
                window = depth[max(0, int(v) - 3) : int(v) + 4, max(0, int(u) - 3) : int(u) + 4]
                # the joints' centroid lies inside the hand, up to about 50 mm behind its visible surface
                assert (np.abs(window[window > 0] - d) < 90).any(), (u, v, d)


def test_mirrored_frames_mirror_their_labels():
    plain = generate_scenes(dataclasses.replace(CONFIG, mirror_fraction=0.0), 2, range(8))
    mirrored = generate_scenes(dataclasses.replace(CONFIG, mirror_fraction=1.0), 2, range(8))
    np.testing.assert_array_equal(mirrored["depth"], plain["depth"][:, :, ::-1])
    width = CONFIG.canvas.width
    # u stored in float32 on both sides, mirrored as width - 1 - u: a rounding of each, ulps of the width
    assert_close(mirrored["hand_uvd"][..., 0], width - 1 - plain["hand_uvd"][..., 0], ulps(width, np.float32, 4))


def test_frames_without_hands():
    frames = generate_scenes(dataclasses.replace(CONFIG, hand_fraction=0.0), 3, range(16))
    assert not frames["hand_present"].any()
    assert (frames["depth"] > 0).any(axis=(1, 2)).mean() > 0.5  # people, desks, walls are still there


def test_bad_config():
    with pytest.raises(HandgraphError, match="unknown sensors"):
        SceneConfig(sensors=("kinect", "webcam"))


def test_egocentric_hands_are_seen_from_behind_and_above():
    """A head-mounted camera: the hands below the middle of the view, often two, within arm's reach."""
    config = dataclasses.replace(CONFIG, egocentric_fraction=1.0, hand_fraction=1.0, mirror_fraction=0.0)
    frames = generate_scenes(config, 4, range(40))
    present = frames["hand_present"]
    assert present.sum(axis=1).max() == 2 and present.any(axis=1).mean() > 0.6
    z = frames["hand_xyz"][..., 2][present]
    assert z.min() >= 200.0 and z.max() <= 700.0 + 60.0  # centres drawn at 200-700 mm (the centroid, not the palm)
    assert np.median(frames["hand_uvd"][..., 1][present]) > CONFIG.canvas.height / 2
