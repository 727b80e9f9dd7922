"""Depth-sensor models: what a real camera does to the exact depth of a scene.

In order: pixels just outside a nearer surface take its depth (the matching window of structured light and
stereo fattens foreground objects), pixels at depth discontinuities go missing (they cannot be matched), the
depth gets Gaussian noise whose deviation grows with the square of the distance (Khoshelham & Elberink,
"Accuracy and resolution of Kinect depth data", Sensors 12, 2012: about 1.4 mm at 1 m, 3.5 cm at 5 m), the
Kinect's disparity is quantised to 1/8 pixel, random pixels drop out, depth outside the working range reads
0, and the result is stored in the camera's integer depth unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, camera_preset


@dataclass(frozen=True)
class SensorModel:
    """A depth camera: intrinsics, depth unit, noise, missing data and the background it tends to see."""

    name: str
    camera: Intrinsics
    """Full-frame intrinsics, y down."""
    depth_unit_mm: float
    """Millimetres per step of the stored uint16 depth."""
    noise_base_mm: float = 0.0
    """Depth noise deviation at zero distance."""
    noise_quadratic: float = 0.0
    """Growth of the deviation with distance: sigma = base + quadratic * z^2 (z in mm)."""
    disparity_step: float | None = None
    """Focal length x baseline / sub-pixel step (mm): the depth is quantised as z = s / round(s / z)."""
    edge_fattening: float = 0.0
    """Chance that a pixel with a 4-neighbour nearer by more than ``edge_jump_mm`` reads that neighbour's depth."""
    edge_dropout: float = 0.0
    """Chance that a pixel next to a depth jump reads 0."""
    edge_jump_mm: float = 20.0
    """A neighbour this much nearer or farther (or missing) makes a pixel an edge pixel."""
    random_dropout: float = 0.0
    """Chance that any pixel reads 0."""
    range_mm: tuple[float, float] = (150.0, 3000.0)
    """Depth outside this range reads 0."""
    desk_probability: float = 0.0
    """Chance of a plane (desk or wall) behind the hand."""
    torso_probability: float = 0.0
    """Chance of a torso behind the hand."""
    clutter_probability: float = 0.0
    """Chance of 1-4 objects around the hand, behind it."""

    def apply(self, depth_mm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A sensor reading of one exact depth image: (H, W) float mm (0 = nothing) -> (H, W) uint16 units."""
        reading = depth_mm.copy()
        if self.edge_fattening > 0:
            nearer = _nearer_neighbour(reading, self.edge_jump_mm)
            taken = np.isfinite(nearer) & (rng.uniform(size=reading.shape) < self.edge_fattening)
            reading[taken] = nearer[taken]
        valid = reading > 0
        if self.edge_dropout > 0:
            reading[
                _edge_pixels(reading, self.edge_jump_mm) & (rng.uniform(size=reading.shape) < self.edge_dropout)
            ] = 0
        if self.noise_base_mm > 0 or self.noise_quadratic > 0:
            sigma = self.noise_base_mm + self.noise_quadratic * reading**2
            reading = np.where(reading > 0, reading + sigma * rng.standard_normal(reading.shape), 0.0)
        if self.disparity_step is not None:
            steps = np.rint(self.disparity_step / np.where(reading > 0, reading, np.inf))
            reading = np.where(steps > 0, self.disparity_step / np.maximum(steps, 1), 0.0)
        if self.random_dropout > 0:
            reading[rng.uniform(size=reading.shape) < self.random_dropout] = 0
        low, high = self.range_mm
        reading[~valid | (reading < low) | (reading > high)] = 0
        return np.rint(reading / self.depth_unit_mm).clip(0, 65535).astype(np.uint16)


def _nearer_neighbour(depth: np.ndarray, jump_mm: float) -> np.ndarray:
    """Per pixel, the nearest 4-neighbour depth that is more than ``jump_mm`` nearer (a missing pixel counts
    as infinitely far); inf where there is none."""
    padded = np.pad(depth, 1, mode="edge")
    centre = np.where(depth > 0, depth, np.inf)
    nearest = np.full(depth.shape, np.inf)
    for neighbour in (padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]):
        nearer = (neighbour > 0) & (neighbour < centre - jump_mm)
        nearest = np.where(nearer, np.minimum(nearest, neighbour), nearest)
    return nearest


def _edge_pixels(depth: np.ndarray, jump_mm: float) -> np.ndarray:
    """Pixels with a 4-neighbour more than ``jump_mm`` away in depth, or with a hit/miss change."""
    padded = np.pad(depth, 1, mode="edge")
    centre = padded[1:-1, 1:-1]
    edge = np.zeros(depth.shape, dtype=bool)
    for neighbour in (padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]):
        edge |= (np.abs(neighbour - centre) > jump_mm) & ((neighbour > 0) | (centre > 0))
    return edge


_KINECT_CAMERA = Intrinsics(fx=588.03, fy=587.07, cx=320.0, cy=240.0, width=640, height=480)
_SR300_CAMERA = Intrinsics(fx=475.065948, fy=475.065857, cx=315.944855, cy=245.287079, width=640, height=480)
# Kinect v2 depth camera: typical factory intrinsics; it writes its frames mirrored (see synth/scenes.py)
_KINECT2_CAMERA = Intrinsics(fx=365.5, fy=365.5, cx=257.5, cy=206.0, width=512, height=424)

SENSOR_PRESETS: dict[str, SensorModel] = {
    "clean": SensorModel(name="clean", camera=_KINECT_CAMERA, depth_unit_mm=0.1, range_mm=(1.0, 6500.0)),
    "kinect": SensorModel(
        name="kinect",
        camera=_KINECT_CAMERA,  # Kinect v1 as in NYU, y down
        depth_unit_mm=1.0,
        noise_base_mm=0.5,
        noise_quadratic=1.4e-6,
        disparity_step=580.0 * 75.0 * 8.0,  # IR focal length (px) x 75 mm baseline, 1/8 px disparity steps
        edge_fattening=0.5,  # NYU's frames show hands slightly grown at their outline, rarely holes there
        edge_dropout=0.25,
        random_dropout=0.003,
        range_mm=(200.0, 4000.0),
        desk_probability=0.35,
        torso_probability=0.35,
        clutter_probability=0.3,
    ),
    "realsense": SensorModel(
        name="realsense",
        camera=_SR300_CAMERA,  # RealSense SR300, the camera of BigHand2.2M / HANDS2017
        depth_unit_mm=0.125,
        noise_base_mm=0.3,
        noise_quadratic=2.0e-6,
        edge_dropout=0.4,
        random_dropout=0.005,
        range_mm=(150.0, 1500.0),
        desk_probability=0.35,
        torso_probability=0.25,
        clutter_probability=0.3,
    ),
    "sr305": SensorModel(
        name="sr305",
        camera=camera_preset(
            "sr305"
        ),  # RealSense SR305 (coded light, the SR300's successor), ../shared/data/real/sr305
        depth_unit_mm=0.125,
        # matched to the real frames of ../shared/data/real/sr305 by bench/realism.py: their hands are smooth
        # (0.25 mm median second difference along rows at 600 mm; the camera filters its depth) with few holes (2.5 %)
        noise_base_mm=0.05,
        noise_quadratic=2.5e-7,
        edge_dropout=0.4,  # the real frames lose the outline of hand and body, and shadow the body's side
        random_dropout=0.003,
        range_mm=(150.0, 1500.0),
    ),
    "kinect2": SensorModel(
        name="kinect2",
        camera=_KINECT2_CAMERA,  # Kinect v2 (time of flight): little quantisation, flying pixels at edges
        depth_unit_mm=1.0,
        noise_base_mm=1.0,
        noise_quadratic=1.0e-6,
        edge_fattening=0.3,
        edge_dropout=0.3,
        random_dropout=0.002,
        range_mm=(500.0, 4500.0),
    ),
}


def sensor_preset(name: str) -> SensorModel:
    """A sensor model by name: ``clean``, ``kinect`` or ``realsense``."""
    if name not in SENSOR_PRESETS:
        raise HandgraphError(f"unknown sensor preset {name!r}; known: {', '.join(SENSOR_PRESETS)}")
    return SENSOR_PRESETS[name]
