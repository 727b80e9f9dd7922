"""Labelled synthetic sequences: a person before a depth camera moves a hand, frame after frame, for measuring
how well tracking follows it (``bench/tracking.py``).

A sequence is a person facing the camera with the right hand raised before the body, on its arm, in a room
(or, in the ``egocentric`` kind, the wearer's own hand seen from the head). The hand's position, rotation and
pose follow smooth trajectories: a sum of slow sines for the position and the wrist's rotation, and finger poses
that blend from one gesture (or any pose within the joint limits) to the next with a smoothstep. Every sequence
is one of seven kinds, each a way tracking fails or a setting it must work in:

- ``steady``: only the smooth motion (up to about 0.6 m/s);
- ``flicks``: two or three fast moves of 150-300 mm in 0.1-0.2 s (up to 3 m/s), with a turn of the wrist;
- ``leaves``: the hand leaves the camera's view, stays out for 0.5-1 s and comes back;
- ``occluded``: the hand sweeps behind a pole standing between it and the camera;
- ``crossing``: the other hand passes in front of it;
- ``holding``: the hand holds an object (a grasp as ``synth.grasps`` makes it, kept through the sequence) and
  moves and turns it, seen from the side or the back of the hand; the object hides some joints;
- ``egocentric``: the same seen by a head-mounted camera looking down at a table (the wearer's right hand,
  ``EGOCENTRIC_MM`` away, in the lower part of the view, from behind and above as
  ``poses.sample_egocentric_rotation`` turns it), the forearm running back to an elbow below the camera,
  and one to three other objects standing on the table.

Frames are rendered at the camera's full resolution by the exact ray caster, then read by the sensor model
(``synth.sensor``): noise, holes at depth edges, dropouts, the depth unit and range. A sequence is written as
a recording of ``handgraph live`` (``io.recordings``: a ``.npy`` stack of raw units and its ``.json``), so
``handgraph predict --input seq.npy`` reads it with its camera; its labels go beside it in ``_labels.npz``.

Sequence ``i`` of seed ``s`` comes from its own generator ``numpy.random.default_rng([s, i])``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry import anatomy
from handgraph.geometry.camera import Intrinsics, xyz_to_uvd
from handgraph.geometry.kinematics import chain_joints, hand_to_camera
from handgraph.geometry.rotations import axis_angle_to_matrix
from handgraph.io.files import atomic_writer
from handgraph.io.reading import read_npy
from handgraph.io.recordings import Recorder, read_recording_info
from handgraph.synth import body
from handgraph.synth.grasps import sample_grasp
from handgraph.synth.labels import hand_centre
from handgraph.synth.objects import HandObject, sample_object
from handgraph.synth.poses import (
    PALM_VIEW,
    clip_to_limits,
    sample_egocentric_rotation,
    sample_gesture_articulation,
    sample_shape,
    sample_uniform_articulation,
)
from handgraph.synth.raycast import nearest_depth, render_depth, render_objects, render_planes
from handgraph.synth.sensor import SENSOR_PRESETS
from handgraph.synth.surface import RoundCones, hand_cones

KINDS = ("steady", "flicks", "leaves", "occluded", "crossing", "holding", "egocentric")
EGOCENTRIC_MM = (350.0, 650.0)
"""An egocentric sequence's mean hand distance: a hand at work on a table before the eyes."""
EGOCENTRIC_TURNS = (0.0, 0.5, -0.5)
"""An egocentric sequence's hand turned about its fingers by one of these (rad): never palm up, which would lift
its object between it and the camera."""
HELD = ("holding", "egocentric")
"""The kinds whose hand holds an object."""
VISIBLE_SHARE = 0.3
"""A hand counts as visible when at least this share of its pixels (and 6) are seen, as for the localiser."""


@dataclass(frozen=True)
class SequenceConfig:
    """How synthetic sequences are drawn."""

    sensor: str = "sr305"
    """The depth camera (``synth.sensor`` preset): its intrinsics, resolution, noise and range."""
    frames: int = 150
    """Frames per sequence."""
    fps: float = 30.0
    """The camera's frame rate."""
    distance_mm: tuple[float, float] = (450.0, 850.0)
    """Range of the hand's mean distance from the camera."""
    kinds: tuple[str, ...] = KINDS
    """Sequence ``i`` is of kind ``kinds[i % len(kinds)]``."""
    hand_scale: tuple[float, float] = anatomy.SCALE_RANGE
    """Range of the hand's global scale (1: the average adult hand). Outside the default, hands the shipped
    models never saw: ``bench/adapt.py`` draws larger ones for its domain shift."""

    def __post_init__(self) -> None:
        if self.sensor not in SENSOR_PRESETS:
            raise HandgraphError(f"sequence config: unknown sensor {self.sensor!r}; known: {', '.join(SENSOR_PRESETS)}")
        unknown = [kind for kind in self.kinds if kind not in KINDS]
        if unknown or not self.kinds:
            raise HandgraphError(f"sequence config: unknown kinds {unknown}; known: {', '.join(KINDS)}")
        if not 0.5 <= self.hand_scale[0] <= self.hand_scale[1] <= 2.0:
            raise HandgraphError(f"sequence config: hand_scale must be a range within [0.5, 2], got {self.hand_scale}")
        if self.frames < 2 or not self.fps > 0:
            raise HandgraphError(f"sequence config: frames must be at least 2 and fps positive, got {self.frames}, "
                                 f"{self.fps}")  # fmt: skip
        low, high = SENSOR_PRESETS[self.sensor].range_mm
        if not low + 150.0 <= self.distance_mm[0] <= self.distance_mm[1] <= high - 300.0:
            raise HandgraphError(f"sequence config: distance_mm {self.distance_mm} must lie within the "
                                 f"{self.sensor}'s range {low + 150.0:g}-{high - 300.0:g} mm")  # fmt: skip

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Sequence:
    """One rendered sequence and its labels (T frames of H x W)."""

    kind: str
    camera: Intrinsics
    depth_scale_mm: float
    fps: float
    raw: np.ndarray
    """(T, H, W) uint16: the sensor's raw units (mm = raw * depth_scale_mm)."""
    xyz: np.ndarray
    """(T, 21, 3) mm, the canonical joints in the camera's frame."""
    visible: np.ndarray
    """(T,) bool: the hand is in view and enough of it is seen."""

    @property
    def uvd(self) -> np.ndarray:
        return xyz_to_uvd(self.xyz, self.camera)

    @property
    def time_s(self) -> np.ndarray:
        return np.arange(len(self.raw)) / self.fps


def smoothstep(x: np.ndarray) -> np.ndarray:
    """0 below 0, 1 above 1, and 3x^2 - 2x^3 between: a move that starts and stops at rest."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _sines(rng: np.random.Generator, time_s: np.ndarray, amplitude: np.ndarray, hz: tuple[float, float]) -> np.ndarray:
    """(T, 3): per axis, the sum of three sines of random frequency and phase, with ``amplitude`` (3,) in all."""
    total = np.zeros((len(time_s), 3))
    for _ in range(3):
        frequency, phase = rng.uniform(*hz, 3), rng.uniform(0.0, 2.0 * np.pi, 3)
        total += np.sin(2.0 * np.pi * frequency * time_s[:, None] + phase) * amplitude / 3.0
    return total


def _moves(rng: np.random.Generator, time_s: np.ndarray, count: int, distance: tuple, seconds: tuple) -> np.ndarray:
    """(T, 3): ``count`` fast moves in the image plane (mostly), each ``distance`` mm over ``seconds``."""
    total = np.zeros((len(time_s), 3))
    starts = np.sort(rng.uniform(0.1, 0.85, count)) * time_s[-1]
    for start in starts:
        direction = body.unit(rng.normal(0.0, 1.0, 3) * [1.0, 1.0, 0.3])
        total += smoothstep((time_s - start) / rng.uniform(*seconds))[:, None] * direction * rng.uniform(*distance)
    return total - total.mean(axis=0)  # about the same place on average


def _leaving(rng: np.random.Generator, time_s: np.ndarray, centre: np.ndarray, camera: Intrinsics) -> np.ndarray:
    """(T, 3): out of the view sideways (past the nearer image edge) and back again."""
    u = centre[0] * camera.fx / centre[2] + camera.cx
    side = -1.0 if u < camera.cx else 1.0
    edge_u = -150.0 if side < 0 else camera.width + 150.0  # a hand's width beyond the edge
    distance = abs((edge_u - camera.cx) * centre[2] / camera.fx - centre[0]) + 120.0
    leave = rng.uniform(0.2, 0.4) * time_s[-1]
    out_s, move_s = rng.uniform(0.5, 1.0), rng.uniform(0.3, 0.5)
    back = leave + move_s + out_s
    away = smoothstep((time_s - leave) / move_s) - smoothstep((time_s - back) / move_s)
    return away[:, None] * np.array([side * distance, 0.0, 0.0])


def _articulations(rng: np.random.Generator, time_s: np.ndarray) -> np.ndarray:
    """(T, 5, 4) deg: poses that blend from one key pose to the next every 0.8-1.5 s."""
    keys, key_times = [], [0.0]
    while key_times[-1] < time_s[-1]:
        key_times.append(key_times[-1] + rng.uniform(0.8, 1.5))
    for _ in key_times:
        keys.append(
            sample_gesture_articulation(rng, 8.0)[1] if rng.uniform() < 0.6 else sample_uniform_articulation(rng)
        )
    poses = np.empty((len(time_s), 5, 4))
    for k in range(len(key_times) - 1):
        span = (time_s >= key_times[k]) & (time_s <= key_times[k + 1])
        blend = smoothstep((time_s[span] - key_times[k]) / (key_times[k + 1] - key_times[k]))[:, None, None]
        poses[span] = (1.0 - blend) * keys[k] + blend * keys[k + 1]
    return clip_to_limits(poses)


@dataclass
class _Draw:
    """A sequence before rendering."""

    rng: np.random.Generator
    kind: str
    time_s: np.ndarray
    centre: np.ndarray  # (T, 3) hand centre
    rotvec: np.ndarray  # (T, 3) wrist rotation about the base rotation
    articulation: np.ndarray  # (T, 5, 4) deg
    base: np.ndarray  # (3, 3) hand rotation at rest: palm to the camera, fingers up (egocentric: as seen from above)
    camera: Intrinsics


def _draw(config: SequenceConfig, seed: int, index: int) -> _Draw:
    rng = np.random.default_rng([seed, index])
    kind = config.kinds[index % len(config.kinds)]
    camera = SENSOR_PRESETS[config.sensor].camera
    time_s = np.arange(config.frames) / config.fps
    depth = rng.uniform(*config.distance_mm)
    u, v = rng.uniform(0.35, 0.65) * camera.width, rng.uniform(0.35, 0.6) * camera.height
    if kind == "egocentric":  # nearer, in the lower part of the view (further draws: the other kinds' stay)
        depth = rng.uniform(*EGOCENTRIC_MM)
        u, v = rng.uniform(0.3, 0.7) * camera.width, rng.uniform(0.5, 0.75) * camera.height
    mean = np.array([(u - camera.cx) * depth / camera.fx, (v - camera.cy) * depth / camera.fy, depth])
    centre = mean + _sines(rng, time_s, np.array([110.0, 80.0, 50.0]), (0.15, 0.8))
    rotvec = _sines(rng, time_s, np.array([0.5, 0.5, 0.4]), (0.1, 0.5))
    if kind == "flicks":
        centre += _moves(rng, time_s, int(rng.integers(2, 4)), (150.0, 300.0), (0.1, 0.2))
        rotvec += _moves(rng, time_s, 2, (0.4, 0.8), (0.1, 0.2))
    elif kind == "leaves":
        centre += _leaving(rng, time_s, mean, camera)
    elif kind == "occluded":  # a wide sweep across the pole (placed in _scene, in front of the path's middle)
        centre[:, 0] = mean[0] + 160.0 * np.sin(2.0 * np.pi * rng.uniform(0.3, 0.5) * time_s + rng.uniform(0, 6.3))
    roll = axis_angle_to_matrix(np.array([0.0, 0.0, rng.uniform(-0.3, 0.3)]))
    if kind == "holding":  # the object held before the palm would hide the hand: turn the palm aside
        roll = roll @ axis_angle_to_matrix(np.array([0.0, rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 2.4), 0.0]))
    if kind == "egocentric":  # held from above, the palm down or turned a little: the object below the hand
        base = sample_egocentric_rotation(rng, 1.0, EGOCENTRIC_TURNS)
        rotvec *= 0.5  # a hand at work on a table turns less than one waved before a camera
    else:
        base = roll @ PALM_VIEW
    return _Draw(rng, kind, time_s, centre, rotvec, _articulations(rng, time_s), base, camera)


def _hand(draw: _Draw, shape) -> tuple[RoundCones, np.ndarray, np.ndarray, np.ndarray]:
    """The main hand's cones (frame t's in frame t), its joints (T, 21, 3) mm in the camera's frame, and its
    placement: rotation (T, 3, 3) and translation (T, 3) (``kinematics.hand_to_camera``)."""
    count = len(draw.time_s)
    rotation = np.stack([axis_angle_to_matrix(vector) @ draw.base for vector in draw.rotvec])
    shapes = replace(shape, **{name: np.repeat(getattr(shape, name), count, axis=0) for name in _SHAPE_FIELDS})
    joints_hand = chain_joints(np.radians(draw.articulation), shapes.bone_lengths, shapes.root_offsets)
    right = np.zeros(count)
    at_origin = hand_to_camera(joints_hand, rotation, np.zeros((count, 3)), right)
    translation = draw.centre - hand_centre(at_origin)
    cones = hand_cones(joints_hand, shapes, rotation, translation, right)
    return cones, at_origin + translation[:, None], rotation, translation


def _grasp(draw: _Draw, shape) -> HandObject:
    """A ``holding`` sequence's object: the hand's pose becomes the grasp's in every frame."""
    for _ in range(GRASP_TRIES):
        grasp = sample_grasp(draw.rng, shape)
        if grasp is not None:
            draw.articulation[:] = grasp.articulation_deg
            return grasp.held
    raise HandgraphError(f"holding sequence: no grasp left the hand outside its object in {GRASP_TRIES} draws")


GRASP_TRIES = 10


_SHAPE_FIELDS = ("bone_lengths", "root_offsets", "joint_radii", "scale", "thickness", "forearm_length")


def _scene(draw: _Draw, joints: np.ndarray, scale: float, carried: list) -> tuple[list, list, list]:
    """Per frame, everything but the main hand (the arm, the person, the pole, the other hand), the room's
    planes (the same in every frame) and objects standing still (none here)."""
    rng, mean = draw.rng, draw.centre.mean(axis=0)
    across = np.array([1.0, 0.0, 0.0])  # the person's right shoulder to the left one, facing the camera
    up = np.array([0.0, -1.0, 0.0])
    shoulder = mean + np.array([rng.uniform(150.0, 250.0), rng.uniform(150.0, 250.0), rng.uniform(250.0, 400.0)])
    person = body.person_cones(shoulder, across, up, scale)
    still = list(person)
    if draw.kind == "occluded":
        top, bottom = mean + [0.0, -400.0, -rng.uniform(150.0, 250.0)], mean + [0.0, 400.0, 0.0]
        bottom[2] = top[2]
        radius = rng.uniform(35.0, 60.0)
        still.append((top, bottom, radius, radius))
    other_path = _other_hand_path(draw) if draw.kind == "crossing" else None
    frames = []
    for t, frame_joints in enumerate(joints):
        wrist = frame_joints[0]
        forearm = body.unit(body.unit(wrist - frame_joints[9]) + np.array([0.2, 0.9, 0.4]))
        elbow = wrist + forearm * body.FOREARM_MM * scale
        cones = list(still) + body.arm_cones(wrist, elbow, shoulder, scale)
        if other_path is not None:
            cones += _other_hand_cones(other_path[t], scale)
        frames.append(cones)
    wall = rng.uniform(mean[2] + 900.0, mean[2] + 1800.0)
    return frames, [(np.array([0.0, 0.0, -1.0]), -wall)], []


def _egocentric_scene(draw: _Draw, joints: np.ndarray, scale: float, carried: list) -> tuple[list, list, list]:
    """An egocentric sequence's world: per frame the forearm, from the wrist back to an elbow below the camera;
    a table 20-120 mm below everything the hand and its object reach in any frame, seen from 30-70 degrees
    above, with a wall beyond it; and one to three objects standing on the table away from the hand's path."""
    rng = draw.rng
    elbow = np.array([rng.uniform(150.0, 260.0), rng.uniform(350.0, 500.0), rng.uniform(100.0, 300.0)])
    frames = []
    for frame_joints in joints:
        wrist = frame_joints[0]
        frames.append(body.arm_cones(wrist, wrist + body.unit(elbow - wrist) * body.FOREARM_MM * scale, None, scale))
    tilt = np.radians(rng.uniform(30.0, 70.0))
    normal = body.random_turn(rng, np.array([0.0, -np.cos(tilt), -np.sin(tilt)]), 0.1)  # up from the table
    reach = max([float(np.max(joints @ -normal)) + 12.0] + [held.lowest(-normal) for held in carried])
    offset = -(reach + rng.uniform(20.0, 120.0))  # normal . p = offset: everything above lies at normal . p > it
    camera, standing = draw.camera, []
    for _ in range(rng.integers(1, 4)):
        at = np.array([rng.uniform(0.1, 0.9) * camera.width, rng.uniform(0.4, 0.95) * camera.height])
        ray = np.array([(at[0] - camera.cx) / camera.fx, (at[1] - camera.cy) / camera.fy, 1.0])
        position = ray * offset / (normal @ ray) if normal @ ray < -1e-3 else None  # where the ray meets the table
        if position is None or np.linalg.norm(joints.mean(axis=1) - position, axis=-1).min() < 150.0:
            continue
        standing.append(sample_object(rng).standing_on(normal, offset, position, rng.uniform(0.0, 2.0 * np.pi)))
    wall = rng.uniform(1500.0, 2500.0)
    return frames, [(normal, offset), (np.array([0.0, 0.0, -1.0]), -wall)], standing


def _other_hand_path(draw: _Draw) -> np.ndarray:
    """(T, 3): the other hand's centre, 120-200 mm nearer the camera, passing across the main hand and back."""
    rng, time_s = draw.rng, draw.time_s
    nearer = rng.uniform(120.0, 200.0)
    sweep = 260.0 * np.cos(2.0 * np.pi * time_s / time_s[-1] * rng.uniform(0.8, 1.2) + rng.uniform(0.0, 0.5))
    path = draw.centre.copy()
    path[:, 0] = draw.centre.mean(axis=0)[0] + sweep
    path[:, 1] += rng.uniform(-40.0, 40.0)
    path[:, 2] -= nearer
    return path


def _other_hand_cones(centre: np.ndarray, scale: float) -> list[body.Cone]:
    """A fist-sized hand (palm and fingers as two cones) on its forearm, fingers up."""
    palm = [(centre + [0.0, 30.0, 0.0], centre + [0.0, -25.0, 0.0], 42.0 * scale, 38.0 * scale)]
    fingers = [(centre + [0.0, -25.0, 0.0], centre + [0.0, -85.0, 5.0], 30.0 * scale, 22.0 * scale)]
    return palm + fingers + body.arm_cones(centre + [0.0, 50.0, 0.0], centre + [-60.0, 290.0, 80.0], None, scale)


def generate_sequence(config: SequenceConfig, seed: int, index: int) -> Sequence:
    """Sequence ``index`` of the stream ``seed``, rendered and read by the sensor, with its labels."""
    draw = _draw(config, seed, index)
    sensor = SENSOR_PRESETS[config.sensor]
    camera = sensor.camera
    shape = sample_shape(draw.rng, config.hand_scale)
    held = _grasp(draw, shape) if draw.kind in HELD else None
    hand, joints, rotation, translation = _hand(draw, shape)
    count, height, width = len(draw.time_s), camera.height, camera.width
    carried = [] if held is None else [held.in_camera(rotation[t], translation[t], False, t) for t in range(count)]
    scene = _egocentric_scene if draw.kind == "egocentric" else _scene
    objects, planes, standing = scene(draw, joints, float(shape.scale[0]), carried)
    intrinsics = np.tile([[camera.fx, camera.fy, camera.cx, camera.cy]], (count, 1))
    hand_depth = render_depth(hand, intrinsics, height, width)
    others = RoundCones(
        start=np.array([cone[0] for cones in objects for cone in cones]),
        end=np.array([cone[1] for cones in objects for cone in cones]),
        start_radius=np.array([cone[2] for cones in objects for cone in cones]),
        end_radius=np.array([cone[3] for cones in objects for cone in cones]),
        frame=np.array([t for t, cones in enumerate(objects) for _ in cones], dtype=np.int64),
    )
    scene_depth = nearest_depth(hand_depth, render_depth(others, intrinsics, height, width))
    things = carried + [thing.in_frame(t) for thing in standing for t in range(count)]  # held ones move with the hand
    if things:
        scene_depth = nearest_depth(scene_depth, render_objects(things, intrinsics, height, width))
    for normal, offset in planes:
        wall = render_planes(np.tile(normal, (count, 1)), np.full(count, offset), intrinsics, height, width)
        scene_depth = nearest_depth(scene_depth, wall)
    low, high = sensor.range_mm
    seen = ((hand_depth == scene_depth) & (hand_depth >= low) & (hand_depth <= high)).sum(axis=(1, 2))
    visible = seen >= np.maximum(6, VISIBLE_SHARE * (hand_depth > 0).sum(axis=(1, 2)))
    raw = np.stack([sensor.apply(frame, draw.rng) for frame in scene_depth])
    return Sequence(draw.kind, camera, sensor.depth_unit_mm, config.fps, raw, joints, visible)


def labels_path(recording: str | os.PathLike) -> Path:
    """Where a sequence's labels lie: ``seq.npy`` -> ``seq_labels.npz``."""
    recording = Path(recording)
    return recording.with_name(f"{recording.stem}_labels.npz")


def write_sequence(sequence: Sequence, path: str | os.PathLike) -> Path:
    """``path`` (``.npy``) and its ``.json`` as a recording of ``handgraph live``, and its labels beside it
    (``xyz`` (T, 21, 3) mm, ``visible`` (T,), ``kind``, ``fps``); every file written atomically."""
    recorder = Recorder(path, sequence.camera, sequence.depth_scale_mm, sequence.fps)
    for frame in sequence.raw:
        recorder.add(frame)
    recorder.close()
    with atomic_writer(labels_path(path), binary=True) as out:
        np.savez(out, xyz=sequence.xyz.astype(np.float32), visible=sequence.visible, kind=np.array(sequence.kind),
                 fps=np.array(sequence.fps))  # fmt: skip
    return Path(path)


def read_sequence(path: str | os.PathLike) -> Sequence:
    """A sequence written by :func:`write_sequence`, its labels checked against its frames."""
    info = read_recording_info(path)
    if info is None:
        raise HandgraphError(f"{path}: not a recording (a .npy stack with its .json beside it)")
    camera, scale, fps = info
    raw = read_npy(path)
    where = labels_path(path)
    if not where.is_file():
        raise HandgraphError(f"{where}: no labels beside {Path(path).name}")
    try:
        with np.load(where, allow_pickle=False) as archive:
            labels = {key: archive[key] for key in ("xyz", "visible", "kind")}
    except (OSError, ValueError, KeyError, EOFError) as error:
        raise HandgraphError(f"{where}: not readable sequence labels with xyz, visible and kind ({error})") from None
    count = len(raw)
    if raw.ndim != 3 or labels["xyz"].shape != (count, 21, 3) or labels["visible"].shape != (count,):
        shapes = f"xyz {labels['xyz'].shape} and visible {labels['visible'].shape}"
        raise HandgraphError(f"{where}: {shapes} do not fit the {raw.shape} frames of {Path(path).name}; expected "
                             f"({count}, 21, 3) and ({count},)")  # fmt: skip
    return Sequence(str(labels["kind"]), camera, scale, fps, raw, labels["xyz"].astype(np.float64), labels["visible"])
