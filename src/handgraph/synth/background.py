"""What a depth camera sees behind a hand: a desk or wall plane, a torso, clutter. All of it lies behind the
hand's farthest point, so it never hides the hand; the hand may still touch or pierce a tilted plane."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handgraph.geometry.rotations import axis_angle_to_matrix
from handgraph.synth.sensor import SensorModel


@dataclass
class Background:
    """One frame's background: round cones (M, ...) and optionally one plane n.x = offset."""

    start: np.ndarray
    end: np.ndarray
    start_radius: np.ndarray
    end_radius: np.ndarray
    plane: tuple[np.ndarray, float] | None


def sample_background(
    rng: np.random.Generator, sensor: SensorModel, centre: np.ndarray, farthest_z: float
) -> Background:
    """A random background for a hand centred at ``centre`` (3,) whose farthest surface is at ``farthest_z``."""
    starts, ends, radii = [], [], []
    if rng.uniform() < sensor.torso_probability:
        radius = rng.uniform(130.0, 180.0)
        middle = np.array([rng.uniform(-200, 200), rng.uniform(-100, 250), 0.0])
        middle[2] = farthest_z + rng.uniform(50.0, 400.0) + radius
        tilt = axis_angle_to_matrix(np.array([0.0, 0.0, rng.uniform(-0.3, 0.3)]))
        half = tilt @ np.array([0.0, rng.uniform(150.0, 250.0), 0.0])
        starts.append(middle - half)
        ends.append(middle + half)
        radii.append((radius, radius * rng.uniform(0.85, 1.0)))
    if rng.uniform() < sensor.clutter_probability:
        for _ in range(rng.integers(1, 5)):
            radius = rng.uniform(15.0, 60.0)
            position = centre + np.array([rng.uniform(-250, 250), rng.uniform(-250, 250), 0.0])
            position[2] = farthest_z + radius + rng.uniform(20.0, 500.0)
            extent = rng.normal(0.0, 1.0, 3) * rng.uniform(0.0, 80.0)
            starts.append(position - extent)
            ends.append(position + extent)
            radii.append((radius, radius * rng.uniform(0.5, 1.0)))
    plane = None
    if rng.uniform() < sensor.desk_probability:
        normal = axis_angle_to_matrix(_random_tilt(rng, np.radians(50.0))) @ np.array([0.0, 0.0, -1.0])
        point = np.array([centre[0], centre[1], farthest_z + rng.uniform(20.0, 300.0)])
        plane = (normal, float(normal @ point))
    return Background(
        start=np.array(starts).reshape(-1, 3),
        end=np.array(ends).reshape(-1, 3),
        start_radius=np.array([pair[0] for pair in radii]),
        end_radius=np.array([pair[1] for pair in radii]),
        plane=plane,
    )


def _random_tilt(rng: np.random.Generator, largest: float) -> np.ndarray:
    heading = rng.uniform(0.0, 2.0 * np.pi)
    return np.array([np.cos(heading), np.sin(heading), 0.0]) * rng.uniform(0.0, largest)
