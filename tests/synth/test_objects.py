"""Objects a hand holds: their exact rendering and distance, and grasps that touch without passing through."""

import numpy as np
import pytest
from tolerance import assert_close

from handgraph.geometry import anatomy
from handgraph.geometry.numerics import ulps
from handgraph.geometry.rotations import axis_angle_to_matrix
from handgraph.synth.grasps import CONTACT_MM, hand_clearance, rest_on_plane, sample_grasp
from handgraph.synth.objects import BOX, CYLINDER, OBJECT_KINDS, HandObject, Solids, sample_object
from handgraph.synth.poses import sample_shape, sample_uniform_articulation
from handgraph.synth.raycast import render_solids
from handgraph.synth.surface import RoundCones


def _placed(kind: str, seed: int) -> HandObject:
    rng = np.random.default_rng(seed)
    return sample_object(rng, kind).moved(axis_angle_to_matrix(rng.normal(0.0, 1.0, 3)), np.array([5.0, -8.0, 420.0]))


def _inside_reference(solids: Solids, directions: np.ndarray, step: float = 0.25) -> np.ndarray:
    """The depth of the first point inside any solid along each ray (x, y, 1), by stepping and bisecting on the
    inside test of the part's own frame (|q| <= h, and not in the hollow): slow and obviously right, blind
    only to slivers thinner than ``step`` along the ray."""
    from handgraph.synth.objects import _solid_distance

    def inside(points: np.ndarray) -> np.ndarray:
        return np.min([_solid_distance(solids, k, points) for k in range(len(solids.kind))], axis=0) < 0

    depths = np.arange(250.0, 650.0, step)
    found = np.zeros(len(directions))
    for r, direction in enumerate(directions):
        hits = inside(depths[:, None] * direction)
        if not hits.any():
            continue
        low, high = depths[hits.argmax()] - step, depths[hits.argmax()]
        for _ in range(40):
            middle = 0.5 * (low + high)
            low, high = (low, middle) if inside(middle * direction[None])[0] else (middle, high)
        found[r] = high
    return found


@pytest.mark.parametrize("kind, seed", [("box", 1), ("can", 2), ("cup", 3), ("cup", 4), ("phone", 5)])
def test_boxes_and_cylinders_render_as_an_inside_test_finds_them(kind, seed):
    placed = _placed(kind, seed)
    size, focal = 28, 40.0
    depth = render_solids(placed.solids, np.array([[focal, focal, 13.5, 13.5]]), size, size)[0].ravel()
    v, u = np.mgrid[0:size, 0:size].astype(float)
    directions = np.stack([(u - 13.5) / focal, (v - 13.5) / focal, np.ones_like(u)], -1).reshape(-1, 3)
    reference = _inside_reference(placed.solids, directions)
    both = (depth > 0) & (reference > 0)
    assert both.sum() > 20
    # bisection to 0.25 / 2^40 mm; the intervals' roots in float64 lose ulps of the 650 mm depths
    assert_close(depth[both], reference[both], ulps(650.0, np.float64, 256) + 1e-9)
    # a ray the renderer hits and the stepping missed grazes an edge: its hit is on the surface
    grazing = (depth > 0) & (reference == 0)
    assert grazing.sum() <= 3
    for r in np.flatnonzero(grazing):
        assert abs(placed.distance(depth[r] * directions[r][None])[0]) < 1e-6
    assert not ((reference > 0) & (depth == 0)).any()  # nothing the inside test finds is missed


@pytest.mark.parametrize("kind", [BOX, CYLINDER])
def test_box_and_cylinder_distances_are_the_distance_to_their_surface(kind):
    """Against the nearest of a dense sample of the surface: within the sample's spacing outside, negative inside."""
    half = np.array([30.0, 20.0, 45.0]) if kind == BOX else np.array([25.0, 25.0, 40.0])
    solids = Solids(
        np.array([kind]), np.zeros((1, 3)), np.eye(3)[None], half[None], np.zeros((1, 3)), np.zeros(1),
        np.zeros(1, np.int64),
    )  # fmt: skip
    grid = np.linspace(-1.0, 1.0, 81)
    a, b = np.meshgrid(grid, grid, indexing="ij")
    if kind == BOX:
        faces = []
        for axis in range(3):
            for sign in (-1.0, 1.0):
                face = np.zeros((a.size, 3))
                others = [k for k in range(3) if k != axis]
                face[:, others[0]], face[:, others[1]] = a.ravel() * half[others[0]], b.ravel() * half[others[1]]
                face[:, axis] = sign * half[axis]
                faces.append(face)
        surface = np.concatenate(faces)
    else:
        angle, height = np.pi * a.ravel(), b.ravel() * half[2]
        side = np.stack([half[0] * np.cos(angle), half[0] * np.sin(angle), height], 1)
        radius, turn = (a.ravel() + 1.0) / 2.0 * half[0], np.pi * b.ravel()
        caps = [
            np.stack([radius * np.cos(turn), radius * np.sin(turn), np.full(a.size, z)], 1) for z in (-half[2], half[2])
        ]
        surface = np.concatenate([side, *caps])
    rng = np.random.default_rng(0)
    points = rng.uniform(-90.0, 90.0, (200, 3))
    distance = HandObject("box" if kind == BOX else "can", RoundCones.concatenate([]), solids).distance(points)
    nearest = np.min(np.linalg.norm(points[:, None] - surface[None], axis=-1), axis=1)
    inside = (
        np.all(np.abs(points) <= half, axis=1)
        if kind == BOX
        else ((np.linalg.norm(points[:, :2], axis=1) <= half[0]) & (np.abs(points[:, 2]) <= half[2]))
    )
    assert inside.any() and (~inside).any()
    assert (distance[inside] < 0).all() and (distance[~inside] > 0).all()
    # a point's foot on the surface lies within half a diagonal of a grid cell of a sample, so the nearest
    # sample is at most that much farther than the surface; the cells are at most (pi / 40 of the radius or
    # 1/40 of a side) on each edge, under 2.5 mm here; float64 rounding of 100 mm is far below it
    spacing = 2.0 / 80.0 * half.max() * np.pi * np.sqrt(2.0) / 2.0
    assert_close(np.abs(distance), nearest, spacing)


@pytest.mark.parametrize("kind", OBJECT_KINDS)
def test_grasped_fingers_touch_the_object_without_passing_through(kind):
    rng = np.random.default_rng(OBJECT_KINDS.index(kind))
    for _ in range(3):
        shape = sample_shape(rng)
        grasp = sample_grasp(rng, shape, kind)
        assert grasp is not None
        low, high = anatomy.JOINT_LIMITS_DEG[..., 0], anatomy.JOINT_LIMITS_DEG[..., 1]
        assert ((grasp.articulation_deg >= low - 1e-9) & (grasp.articulation_deg <= high + 1e-9)).all()
        # no part of the hand lies deeper in the object than the contact tolerance
        assert hand_clearance(shape, grasp.articulation_deg, grasp.held.distance) > -CONTACT_MM
        if grasp.held.grip == "pinch":
            assert grasp.touching[1] or grasp.touching[2]  # a fingertip meets the thumb's on the object
        else:
            assert grasp.touching.sum() >= 3  # wrapped round it


def test_a_hand_resting_on_a_table_touches_it_and_stays_above_it():
    rng = np.random.default_rng(7)
    for _ in range(10):
        shape = sample_shape(rng)
        articulation, normal, offset = rest_on_plane(rng, shape, sample_uniform_articulation(rng))

        def to_table(points, normal=normal, offset=offset):
            return points @ normal - offset

        clearance = hand_clearance(shape, articulation, to_table)
        assert -3.0 - 1e-9 <= clearance <= 0.5  # resting on it, pressed in by at most 3 mm
        assert abs(np.linalg.norm(normal) - 1.0) < 1e-12


@pytest.mark.parametrize("kind", OBJECT_KINDS)
def test_an_object_stands_on_its_table_and_reaches_no_further_than_its_bound(kind):
    rng = np.random.default_rng(OBJECT_KINDS.index(kind) + 50)
    normal = axis_angle_to_matrix(np.array([0.3, 0.0, 0.2])) @ np.array([0.0, -1.0, 0.0])  # up from the table
    offset = float(normal @ np.array([0.0, 200.0, 600.0]))  # the table through (0, 200, 600) mm
    standing = sample_object(rng, kind).standing_on(normal, offset, np.array([30.0, 180.0, 650.0]), 1.0)
    points = np.stack(np.meshgrid(*[np.arange(-200.0, 200.0, 4.0)] * 3, indexing="ij"), -1).reshape(-1, 3)
    points = points + np.array([30.0, 180.0, 650.0])
    inside = points[standing.distance(points) < 0.0]
    assert len(inside) > 0
    heights = inside @ normal - offset  # mm above the table
    assert heights.min() >= -0.5 - 4.0  # on it: the 0.5 mm search step, and the 4 mm grid
    assert heights.min() <= 4.0  # touching it, not floating above
    for down in (-normal, np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, -1.0])):
        assert (inside @ down).max() <= standing.lowest(down) + 1e-9  # an upper bound (float64 of ~1 m: exact)
