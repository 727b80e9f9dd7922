import numpy as np
import pytest
from reference_renderer import reference_depth
from tolerance import assert_close

from handgraph.geometry.kinematics import chain_joints
from handgraph.geometry.numerics import ulps
from handgraph.synth.poses import sample_shape, sample_uniform_articulation, sample_view_rotation
from handgraph.synth.raycast import render_depth, render_planes
from handgraph.synth.surface import NUM_HAND_PRIMITIVES, RoundCones, hand_cones


def _single(start, end, start_radius, end_radius):
    return RoundCones(
        start=np.array([start], dtype=float),
        end=np.array([end], dtype=float),
        start_radius=np.array([start_radius], dtype=float),
        end_radius=np.array([end_radius], dtype=float),
        frame=np.zeros(1, dtype=np.int64),
    )


def _rays(size, focal):
    v, u = np.mgrid[0:size, 0:size].astype(float)
    centre = (size - 1) / 2
    directions = np.stack([(u - centre) / focal, (v - centre) / focal, np.ones_like(u)], -1)
    return directions / np.linalg.norm(directions, axis=-1, keepdims=True)


def test_a_ball_matches_its_closed_form():
    size, focal = 41, 60.0
    depth = render_depth(
        _single([10, -5, 300], [10, -5, 300], 40, 40), np.array([[focal, focal, 20.0, 20.0]]), size, size
    )
    directions = _rays(size, focal)
    along = directions @ np.array([10.0, -5.0, 300.0])
    chord = along**2 - (10**2 + 5**2 + 300**2 - 40**2)
    expected = np.where(chord >= 0, (along - np.sqrt(np.maximum(chord, 0))) * directions[..., 2], 0.0)
    # two formulas for the root of one quadratic: the chord loses float64 ulps of the squared distance
    # (9e4 mm^2), and its square root turns an error e into e / (2 sqrt(chord)), worst at the smallest chord
    smallest = np.sqrt(chord[chord > 0].min())
    assert_close(depth[0], expected, ulps(300.0**2, np.float64, 16) / (2 * smallest) + ulps(340.0, np.float64, 16))
    assert (depth[0] > 0).sum() > 100


def test_a_cylinder_seen_side_on_matches_its_closed_form():
    # Equal radii: the lateral surface is a cylinder along x at depth 400; a ray through (u, v) meets it where
    # (t dy)^2 + (t dz - 400)^2 = r^2, and the caps are balls.
    size, focal = 41, 80.0
    depth = render_depth(
        _single([-60, 0, 400], [60, 0, 400], 30, 30), np.array([[focal, focal, 20.0, 20.0]]), size, size
    )
    directions = _rays(size, focal)
    dy, dz = directions[..., 1], directions[..., 2]
    a, b, c = dy**2 + dz**2, -2 * 400 * dz, 400**2 - 30**2
    t = (-b - np.sqrt(np.maximum(b * b - 4 * a * c, 0))) / (2 * a)
    inside = (b * b - 4 * a * c >= 0) & (np.abs(t * directions[..., 0]) <= 60)
    # as for the ball: ulps of b^2 (about 6.4e5 mm^2) over sqrt(b^2 - 4ac), worst at the silhouette
    root = np.sqrt((b * b - 4 * a * c)[inside].min())
    assert_close(
        depth[0][inside], (t * dz)[inside], ulps(640000.0, np.float64, 16) / root + ulps(430.0, np.float64, 16)
    )


def test_planes_match_their_closed_form():
    normal = np.array([0.0, np.sin(0.3), -np.cos(0.3)])
    offset = normal @ np.array([0.0, 0.0, 700.0])
    depth = render_planes(normal[None], np.array([offset]), np.array([[100.0, 100.0, 15.0, 10.0]]), 21, 31)
    v, u = np.mgrid[0:21, 0:31].astype(float)
    points = depth[0][..., None] * np.stack([(u - 15) / 100, (v - 10) / 100, np.ones_like(u)], -1)
    # a plane 700 mm away: a few float64 roundings of the point's coordinates (|p| < 800 mm) and the dot product
    assert_close(points @ normal, offset, ulps(800.0, np.float64, 16))


@pytest.mark.parametrize("seed", [0, 1])
def test_hands_match_the_brute_force_reference(seed):
    rng = np.random.default_rng(seed)
    shape = sample_shape(rng)
    articulation = np.radians(sample_uniform_articulation(rng))[None]
    joints = chain_joints(articulation, shape.bone_lengths, shape.root_offsets)
    rotation = sample_view_rotation(rng, 180.0, 0.5, 180.0)[None]
    translation = np.array([[0.0, 0.0, 450.0]]) - joints.mean(1) @ rotation[0].T
    cones = hand_cones(joints, shape, rotation, translation, np.array([float(seed)]))
    assert len(cones.frame) == NUM_HAND_PRIMITIVES
    size = 40
    intrinsics = np.array([[size * 450 / 260, size * 450 / 260, (size - 1) / 2, (size - 1) / 2]])
    depth = render_depth(cones, intrinsics, size, size)[0]
    expected, converged = reference_depth(cones, 0, intrinsics[0], size, size, iterations=300)
    assert converged.mean() > 0.98
    np.testing.assert_array_equal(depth > 0, expected > 0)
    # not rounding but the reference's own accuracy: sphere tracing stops within 1e-6 mm of the surface, which
    # is 1e-6 / cos(theta) mm in depth for a ray meeting it at theta; 1e-4 allows rays up to 89.4 degrees
    assert_close(depth[converged], expected[converged], 1e-4)
    assert (depth > 0).sum() > 150


def test_cones_outside_or_behind_the_camera_and_several_frames():
    cones = RoundCones(
        start=np.array([[0, 0, 300.0], [5000, 0, 300], [0, 0, -300], [0, 0, 200]]),
        end=np.array([[0, 40, 300.0], [5000, 40, 300], [0, 40, -250], [0, 0, 200]]),
        start_radius=np.array([20.0, 20, 20, 10]),
        end_radius=np.array([15.0, 15, 15, 10]),
        frame=np.array([0, 0, 0, 1]),
    )
    depth = render_depth(cones, np.array([[100.0, 100, 15, 15], [100.0, 100, 15, 15]]), 31, 31)
    # the central ray runs along z: a few float64 roundings of the depth where it meets the first surface
    assert_close(depth[0, 15, 15], 280.0, ulps(300.0, np.float64, 8))  # only the first cone is in frame 0
    assert_close(depth[1, 15, 15], 190.0, ulps(200.0, np.float64, 8))
    assert depth[0, 0, 0] == 0.0
