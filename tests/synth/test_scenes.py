import dataclasses

import numpy as np
import pytest
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.numerics import ulps
from handgraph.synth.scenes import SceneConfig, _sample_scene, generate_resampled_scenes, generate_scenes

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


def test_resampled_frames_keep_their_hands_on_the_canvas():
    frames = generate_resampled_scenes(dataclasses.replace(CONFIG, mirror_fraction=0.5), 1, range(24), 3)
    assert frames["depth"].shape == (24, CONFIG.canvas.height, CONFIG.canvas.width)
    assert frames["hand_present"].any(axis=1).mean() > 0.5
    for depth, uvd, present in zip(frames["depth"], frames["hand_uvd"], frames["hand_present"], strict=True):
        for (u, v, d), shown in zip(uvd, present, strict=True):
            if shown:  # as in the canvas's own frames, now through the resampling
                window = depth[max(0, int(v) - 3) : int(v) + 4, max(0, int(u) - 3) : int(u) + 4]
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
    for edges in ((0.6, 0.4), (-0.1, 0.5), (0.5, 1.5)):
        with pytest.raises(HandgraphError, match="edge_scale"):
            SceneConfig(edge_scale=edges)


def test_edge_effects_follow_their_scale():
    # the same scenes (the scale is drawn after them), with edge dropout and fattening off and at full strength;
    # unmirrored, as the mirroring is drawn after the sensor's noise
    plain = dataclasses.replace(CONFIG, mirror_fraction=0.0)
    none, full = (generate_scenes(dataclasses.replace(plain, edge_scale=(s, s)), 4, range(16)) for s in (0.0, 1.0))
    np.testing.assert_array_equal(none["hand_xyz"], full["hand_xyz"])
    assert (full["depth"] == 0).sum() > (none["depth"] == 0).sum()  # edge pixels dropped
    drawn = generate_scenes(dataclasses.replace(plain, edge_scale=(0.0, 1.0)), 4, range(16))
    np.testing.assert_array_equal(drawn["hand_xyz"], full["hand_xyz"])  # drawn after the scene: same scenes


def test_egocentric_hands_are_seen_from_behind_and_above():
    """A head-mounted camera: the hands below the middle of the view, often two, within arm's reach."""
    config = dataclasses.replace(CONFIG, egocentric_fraction=1.0, hand_fraction=1.0, mirror_fraction=0.0)
    frames = generate_scenes(config, 4, range(40))
    present = frames["hand_present"]
    assert present.sum(axis=1).max() == 2 and present.any(axis=1).mean() > 0.6
    z = frames["hand_xyz"][..., 2][present]
    assert z.min() >= 200.0 and z.max() <= 700.0 + 60.0  # centres drawn at 200-700 mm (the centroid, not the palm)
    assert np.median(frames["hand_uvd"][..., 1][present]) > CONFIG.canvas.height / 2


def test_objects_with_no_hand_are_not_hands():
    config = dataclasses.replace(CONFIG, hand_fraction=0.0, object_fraction=1.0)
    frames = generate_scenes(config, 6, range(24))
    assert not frames["hand_present"].any()
    drawn = [_sample_scene(config, 6, index)[0] for index in range(24)]
    assert np.mean([len(scene.things) > 0 for scene in drawn]) > 0.8  # bottles, cups, balls... lying about


def test_hands_resting_on_a_table_touch_it_from_above_and_are_seen():
    config = dataclasses.replace(CONFIG, hand_fraction=1.0, egocentric_fraction=1.0, surface_fraction=1.0)
    checked = 0
    for index in range(24):
        scene, _ = _sample_scene(config, 9, index)
        if not scene.planes:
            continue  # the table's upper side faced away from the camera: none drawn
        (normal, offset), hand = scene.planes[0], scene.hands[0]
        lowest = np.minimum(hand.start @ normal - hand.start_radius, hand.end @ normal - hand.end_radius).min()
        # on it, pressed in by at most 3 mm (float64 on 1000 mm coordinates adds nothing visible here)
        assert -3.0 - 1e-6 <= lowest - offset <= 0.5
        assert offset < 0  # the camera sees the table's upper side
        checked += 1
    assert checked >= 12
    frames = generate_scenes(config, 9, range(24))
    assert frames["hand_present"][:, 0].mean() > 0.6
