import numpy as np

from handgraph.synth.splits import frontal_views


def test_frontal_views_are_palm_or_back_within_60_degrees_of_the_line_of_sight():
    pose = np.zeros((5, 26))
    pose[0, :3] = [np.pi, 0, 0]  # palm normal (0, 0, -1): the palm faces the camera
    pose[1, :3] = [0, 0, 0]  # normal (0, 0, 1): the back faces the camera
    pose[2, :3] = [0, np.pi / 2, 0]  # normal along x: seen edge-on
    pose[3, :3] = [np.radians(55), 0, 0]  # 55 degrees from facing
    pose[4, :3] = [np.radians(65), 0, 0]  # 65 degrees
    centre = np.tile([0.0, 0.0, 500.0], (5, 1))
    assert frontal_views(pose, centre).tolist() == [True, True, False, True, False]
    # the line of sight, not the optical axis: a hand far to the side, facing along z, is seen at an angle
    side = np.array([[1000.0, 0.0, 500.0]])
    assert not frontal_views(pose[1:2], side)[0]
