import numpy as np
import pytest

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset
from handgraph.io.depth_images import read_depth
from handgraph.preprocess.localize import localize_hand
from handgraph.synth.generator import SynthConfig, generate_frames


def test_finds_synthetic_hands_in_full_frames():
    # The centre of mass of hand and forearm pixels lands on the hand, though not on the joints' centroid:
    # the forearm pulls it towards the wrist, and surface points lie 10-23 mm in front of the joints. The
    # predictor's second pass recentres on the predicted joints.
    config = SynthConfig(preset="clean", size=None, background_probabilities=(1.0, 0.0, 0.0), view_cone_deg=60.0)
    frames = generate_frames(config, seed=4, indices=range(6))
    for k in range(6):
        centre = localize_hand(frames["depth"][k] * 0.1, config.sensor.camera)
        assert np.linalg.norm(frames["xyz"][k] - centre, axis=-1).min() < 50.0
        assert np.linalg.norm(frames["xyz"][k].mean(axis=0) - centre) < 100.0


def test_real_nyu_frame(shared_data):
    depth = read_depth(shared_data / "real/nyu/depth_1_0000001.png")
    centre = localize_hand(depth, camera_preset("nyu"))
    refined = np.loadtxt(shared_data / "real/nyu/center_test_refined.txt", max_rows=1)
    assert np.linalg.norm(centre - refined) < 40.0


def test_frames_without_a_hand():
    with pytest.raises(HandgraphError, match="no hand found: the frame has 0 pixels with depth"):
        localize_hand(np.zeros((48, 64)), camera_preset("icvl"))
    speckle = np.zeros((48, 64))
    speckle[::7, ::9] = 500.0  # isolated pixels, no blob
    with pytest.raises(HandgraphError, match="no blob of 30 pixels"):
        localize_hand(speckle, camera_preset("icvl"))
