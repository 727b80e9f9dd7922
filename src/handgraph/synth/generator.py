"""Synthetic depth frames with labels: sample a hand, place it before a camera, ray-cast, add sensor effects.

Beside a free hand seen from anywhere, three families can be mixed in (none by default): a hand holding an
object (``synth.objects``, closed on it by ``synth.grasps``; the object hides what it hides, and the labels
keep every joint with its visibility), a hand resting on or pressing on a table, and the view of a head- or
chest-mounted camera (the wearer's own hand, from behind and above).

Frame ``i`` of seed ``s`` is drawn from its own generator, ``numpy.random.default_rng([s, i])``, and all
batched arithmetic is elementwise per frame, so a frame is the same bit for bit whichever batch, shard or
worker makes it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

import numpy as np
from scipy.spatial.transform import Rotation

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, crop_intrinsics, cube_side_px, xyz_to_uvd
from handgraph.geometry.kinematics import HandShape, chain_joints, hand_to_camera
from handgraph.synth import labels as label_points
from handgraph.synth.background import sample_background
from handgraph.synth.grasps import rest_on_plane, resting_rotation, sample_grasp, sample_table_up
from handgraph.synth.objects import OBJECT_KINDS, HandObject
from handgraph.synth.poses import (
    GESTURES_DEG,
    sample_egocentric_rotation,
    sample_gesture_articulation,
    sample_shape,
    sample_uniform_articulation,
    sample_view_rotation,
)
from handgraph.synth.raycast import nearest_depth, render_depth, render_objects, render_planes
from handgraph.synth.sensor import SENSOR_PRESETS, SensorModel, sensor_preset
from handgraph.synth.surface import RoundCones, hand_cones

GESTURE_NAMES = tuple(GESTURES_DEG)
"""Index -> gesture name for the ``gesture`` label; -1 marks a pose sampled uniformly within the limits."""


@dataclass(frozen=True)
class SynthConfig:
    """How synthetic frames are drawn. Every field has a default that suits training at 128 x 128."""

    preset: str = "kinect"
    """Sensor model and camera: clean, kinect or realsense."""
    size: int | None = 128
    """Side of the square crop rendered around the hand; None renders the camera's full frame."""
    cube_mm: float = 250.0
    """Side of the 3D cube around the hand centre that the crop spans."""
    distance_mm: tuple[float, float] = (250.0, 800.0)
    """Range of the hand centre's distance from the camera."""
    placement: float = 0.7
    """The hand centre projects into the middle fraction of the frame (perspective varies with it)."""
    view_cone_deg: float = 100.0
    """Largest tilt of the view away from the palm (or back) facing the camera; 180 covers the sphere."""
    back_view_fraction: float = 0.5
    """Share of views centred on the back of the hand rather than the palm."""
    roll_deg: float = 180.0
    """Largest in-plane rotation about the optical axis."""
    left_fraction: float = 0.5
    """Share of left hands."""
    gesture_fraction: float = 0.5
    """Share of named gestures (perturbed); the rest is uniform within the joint limits."""
    gesture_noise_deg: float = 8.0
    """Deviation of the per-angle perturbation of gestures."""
    background: bool = True
    """Draw desks, torsos and clutter behind the hand."""
    background_probabilities: tuple[float, float, float] | None = None
    """Chances of a desk plane, a torso and clutter in a frame; None takes the preset's."""
    centre_jitter_mm: float = 0.0
    """Deviation of the crop centre from the hand centre, per axis: real crops come from a localiser that
    misses the centre by some millimetres. Zero draws nothing, so frames stay as they were."""
    object_fraction: float = 0.0
    """Share of frames whose hand holds an object (a bottle, can, cup, box, phone, ball, handle, tool or pen)."""
    surface_fraction: float = 0.0
    """Share of the other frames whose hand rests on or presses on a table (which replaces the desk)."""
    egocentric_fraction: float = 0.0
    """Share of frames seen as a head- or chest-mounted camera sees its wearer's hand: from behind and above,
    fingers pointing away, 200-700 mm away. The three fractions at zero draw nothing: the stream is as it was."""

    def __post_init__(self) -> None:
        if self.preset not in SENSOR_PRESETS:
            raise HandgraphError(f"synth config: unknown preset {self.preset!r}; known: {', '.join(SENSOR_PRESETS)}")
        if self.size is not None and (not isinstance(self.size, int) or not 8 <= self.size <= 4096):
            raise HandgraphError(f"synth config: size must be an integer from 8 to 4096, got {self.size!r}")
        low, high = self.distance_mm
        if not 100.0 <= low <= high:
            raise HandgraphError(f"synth config: distance_mm must satisfy 100 <= low <= high, got {self.distance_mm}")
        _check_range("cube_mm", self.cube_mm, 50.0, 1000.0)
        _check_range("placement", self.placement, 0.0, 1.0)
        _check_range("view_cone_deg", self.view_cone_deg, 0.0, 180.0)
        _check_range("roll_deg", self.roll_deg, 0.0, 180.0)
        _check_range("gesture_noise_deg", self.gesture_noise_deg, 0.0, 45.0)
        _check_range("centre_jitter_mm", self.centre_jitter_mm, 0.0, 100.0)
        families = ("object_fraction", "surface_fraction", "egocentric_fraction")
        for name in ("back_view_fraction", "left_fraction", "gesture_fraction", *families):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        if self.background_probabilities is not None:
            if len(self.background_probabilities) != 3:
                raise HandgraphError("synth config: background_probabilities needs three values: desk, torso, clutter")
            for value in self.background_probabilities:
                _check_range("each background probability", value, 0.0, 1.0)

    @property
    def sensor(self) -> SensorModel:
        preset = sensor_preset(self.preset)
        if self.background_probabilities is None:
            return preset
        desk, torso, clutter = self.background_probabilities
        return replace(preset, desk_probability=desk, torso_probability=torso, clutter_probability=clutter)

    @property
    def image_shape(self) -> tuple[int, int]:
        camera = self.sensor.camera
        return (self.size, self.size) if self.size else (camera.height, camera.width)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> SynthConfig:
        """From plain data (JSON, YAML), with the types and errors of ``configs.override``."""
        from handgraph.io.configs import override

        return override(cls(), values)


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or not low <= value <= high:
        raise HandgraphError(f"synth config: {name} must be within [{low}, {high}], got {value!r}")


@dataclass
class _Draw:
    """Everything sampled for one frame before the batched geometry."""

    rng: np.random.Generator
    left: bool
    gesture: int
    articulation_deg: np.ndarray
    shape: HandShape
    rotation: np.ndarray
    centre: np.ndarray
    """Where the hand centre (the joints' centroid) is placed."""
    crop_centre: np.ndarray
    """Where the crop is centred: the hand centre, jittered."""
    held: HandObject | None = None
    """The object the hand holds, in the hand frame of a right hand."""
    surface: tuple[np.ndarray, float] | None = None
    """The table the hand rests on, {p : n.p = offset} in the hand frame of a right hand."""


def _draw(config: SynthConfig, seed: int, index: int) -> _Draw:
    rng = np.random.default_rng([seed, index])
    left = bool(rng.uniform() < config.left_fraction)
    if rng.uniform() < config.gesture_fraction:
        name, articulation = sample_gesture_articulation(rng, config.gesture_noise_deg)
        gesture = GESTURE_NAMES.index(name)
    else:
        articulation, gesture = sample_uniform_articulation(rng), -1
    shape = sample_shape(rng)
    rotation = sample_view_rotation(rng, config.view_cone_deg, config.back_view_fraction, config.roll_deg)
    camera = config.sensor.camera
    depth = rng.uniform(*config.distance_mm)
    margin = (1.0 - config.placement) / 2.0
    u = rng.uniform(margin, 1.0 - margin) * (camera.width - 1)
    v = rng.uniform(margin, 1.0 - margin) * (camera.height - 1)
    centre = np.array([(u - camera.cx) * depth / camera.fx, (v - camera.cy) * depth / camera.fy, depth])
    crop_centre = centre + rng.normal(0.0, config.centre_jitter_mm, 3) if config.centre_jitter_mm > 0 else centre
    draw = _Draw(rng, left, gesture, articulation, shape, rotation, centre, crop_centre)
    _draw_families(config, draw, (u, v))
    return draw


def _draw_families(config: SynthConfig, draw: _Draw, pixel: tuple[float, float]) -> None:
    """A wearer's view, an object in the hand, a table under it: each drawn only when its fraction is not 0."""
    rng = draw.rng
    side = -1.0 if draw.left else 1.0
    if config.egocentric_fraction > 0 and rng.uniform() < config.egocentric_fraction:
        draw.rotation = sample_egocentric_rotation(rng, side)
        low, high = max(config.distance_mm[0], 200.0), min(config.distance_mm[1], 700.0)
        depth = rng.uniform(low, max(low, high))
        camera = config.sensor.camera
        shift = draw.crop_centre - draw.centre  # the crop's jitter, kept
        draw.centre = np.array([(pixel[0] - camera.cx) / camera.fx, (pixel[1] - camera.cy) / camera.fy, 1.0]) * depth
        draw.crop_centre = draw.centre + shift
    if config.object_fraction > 0 and rng.uniform() < config.object_fraction:
        grasp = sample_grasp(rng, draw.shape)
        if grasp is not None:
            draw.articulation_deg, draw.held, draw.gesture = grasp.articulation_deg, grasp.held, -1
    elif config.surface_fraction > 0 and rng.uniform() < config.surface_fraction:
        draw.articulation_deg, normal, offset = rest_on_plane(rng, draw.shape, draw.articulation_deg)
        draw.surface, draw.gesture = (normal, offset), -1
        up = sample_table_up(rng)
        draw.rotation = resting_rotation(rng, normal, draw.left, up)
        if up @ draw.centre > -30.0:  # the camera is not well above the table (the hand lies on it): leave it out
            draw.surface = None


def _stack_shapes(shapes: list[HandShape]) -> HandShape:
    return HandShape(*(np.concatenate([getattr(shape, f.name) for shape in shapes]) for f in fields(HandShape)))


def _image_camera(config: SynthConfig, centre: np.ndarray) -> Intrinsics:
    camera = config.sensor.camera
    if config.size is None:
        return camera
    u, v = camera.fx * centre[0] / centre[2] + camera.cx, camera.fy * centre[1] / centre[2] + camera.cy
    return crop_intrinsics(camera, u, v, cube_side_px(camera, config.cube_mm, centre[2]), config.size)


def generate_frames(config: SynthConfig, seed: int, indices: np.ndarray | list[int]) -> dict[str, np.ndarray]:
    """Frames ``indices`` of the stream ``seed``: depth images and every label, as a dict of arrays.

    Keys (B frames, J = 21 canonical joints, H x W the image): ``depth`` (B, H, W) uint16 in the preset's
    depth unit; ``xyz`` (B, J, 3) mm camera frame; ``uvd`` (B, J, 3) in the image's pixels and mm; ``visible``
    (B, J); ``pose`` (B, 26) (see ``kinematics.POSE_DOF_NAMES``); ``shape`` (B, 53); ``left`` (B,);
    ``gesture`` (B,) into ``GESTURE_NAMES`` or -1; ``held`` (B,) the held object's kind, an index into
    ``objects.OBJECT_KINDS``, or -1; ``surface`` (B,) whether the hand rests on a table; ``intrinsics`` (B, 4)
    fx, fy, cx, cy of the image; ``centre_xyz`` (B, 3), the centre of the crop; ``nyu14_xyz``, ``icvl16_xyz``,
    ``msra21_xyz``; ``index`` (B,).
    """
    indices = np.asarray(indices, dtype=np.int64)
    draws = [_draw(config, seed, int(index)) for index in indices]
    shape = _stack_shapes([draw.shape for draw in draws])
    left = np.array([draw.left for draw in draws], dtype=np.float64)
    rotation = np.stack([draw.rotation for draw in draws])
    articulation = np.radians(np.stack([draw.articulation_deg for draw in draws]))
    joints_hand = chain_joints(articulation, shape.bone_lengths, shape.root_offsets)  # (B, 21, 3)
    centre_hand = hand_to_camera(
        label_points.hand_centre(joints_hand)[:, None], rotation, np.zeros((len(draws), 3)), left
    )
    translation = np.stack([draw.centre for draw in draws]) - centre_hand[:, 0]
    xyz = hand_to_camera(joints_hand, rotation, translation, left)
    cameras = [_image_camera(config, draw.crop_centre) for draw in draws]
    intrinsics = np.array([[camera.fx, camera.fy, camera.cx, camera.cy] for camera in cameras])
    cones = hand_cones(joints_hand, shape, rotation, translation, left)
    height, width = config.image_shape
    hand_depth = render_depth(cones, intrinsics, height, width)
    scene_depth = _with_background(config, draws, cones, hand_depth, intrinsics) if config.background else hand_depth
    scene_depth = _with_things_touched(draws, rotation, translation, intrinsics, scene_depth)
    uvd = xyz_to_uvd(xyz, intrinsics)
    radii = np.concatenate([22.0 * (shape.scale * shape.thickness)[:, None], shape.joint_radii.reshape(-1, 20)], 1)
    frames = {
        "depth": np.stack([config.sensor.apply(scene_depth[k], draw.rng) for k, draw in enumerate(draws)]),
        "xyz": xyz,
        "uvd": uvd,
        "visible": label_points.joint_visibility(
            xyz_to_uvd(label_points.visibility_points(xyz, radii), intrinsics), radii, hand_depth, scene_depth
        ),
        "pose": np.concatenate(
            [Rotation.from_matrix(rotation).as_rotvec(), translation, articulation.reshape(-1, 20)], 1
        ),
        "shape": shape.vector(),
        "left": left.astype(bool),
        "gesture": np.array([draw.gesture for draw in draws], dtype=np.int64),
        "held": np.array([OBJECT_KINDS.index(draw.held.kind) if draw.held else -1 for draw in draws], dtype=np.int64),
        "surface": np.array([draw.surface is not None for draw in draws]),
        "intrinsics": intrinsics,
        "centre_xyz": np.stack([draw.crop_centre for draw in draws]),
        "index": indices,
    }
    for name, layout in label_points.CONVENTIONS.items():
        points = label_points.convention_joints(joints_hand, shape.scale, layout)
        frames[f"{name}_xyz"] = hand_to_camera(points, rotation, translation, left)
    return {
        key: value.astype(np.float32) if value.dtype == np.float64 and key != "intrinsics" else value
        for key, value in frames.items()
    }


def _with_background(config, draws, cones: RoundCones, hand_depth: np.ndarray, intrinsics: np.ndarray) -> np.ndarray:
    """The scene's exact depth: the hand in front of whatever background each frame draws."""
    farthest = np.full(len(draws), -np.inf)
    np.maximum.at(
        farthest, cones.frame, np.maximum(cones.start[:, 2] + cones.start_radius, cones.end[:, 2] + cones.end_radius)
    )
    backgrounds = [sample_background(draw.rng, config.sensor, draw.centre, farthest[k]) for k, draw in enumerate(draws)]
    for background, draw in zip(backgrounds, draws, strict=True):
        if draw.surface is not None:
            background.plane = None  # the table the hand rests on is the desk
    counts = [len(background.start_radius) for background in backgrounds]
    objects = RoundCones(
        start=np.concatenate([background.start for background in backgrounds]),
        end=np.concatenate([background.end for background in backgrounds]),
        start_radius=np.concatenate([background.start_radius for background in backgrounds]),
        end_radius=np.concatenate([background.end_radius for background in backgrounds]),
        frame=np.repeat(np.arange(len(draws)), counts),
    )
    height, width = hand_depth.shape[1:]
    depth = render_depth(objects, intrinsics, height, width)
    with_plane = [k for k, background in enumerate(backgrounds) if background.plane is not None]
    if with_plane:
        normals = np.stack([backgrounds[k].plane[0] for k in with_plane])
        offsets = np.array([backgrounds[k].plane[1] for k in with_plane])
        depth[with_plane] = nearest_depth(
            depth[with_plane], render_planes(normals, offsets, intrinsics[with_plane], height, width)
        )
    return nearest_depth(hand_depth, depth)


def _with_things_touched(draws, rotation, translation, intrinsics, scene_depth: np.ndarray) -> np.ndarray:
    """The scene with each frame's held object and table. Shapes: rotation (B, 3, 3), translation (B, 3)."""
    height, width = scene_depth.shape[1:]
    held = [k for k, draw in enumerate(draws) if draw.held is not None]
    if held:
        objects = [draws[k].held.in_camera(rotation[k], translation[k], draws[k].left, k) for k in held]
        scene_depth = nearest_depth(render_objects(objects, intrinsics, height, width), scene_depth)
    tables = [k for k, draw in enumerate(draws) if draw.surface is not None]
    if tables:
        normals, offsets = [], []
        for k in tables:  # n.p = offset in the hand frame -> n'.x = offset + n'.t in the camera frame
            mirror = np.diag([-1.0 if draws[k].left else 1.0, 1.0, 1.0])
            normal = rotation[k] @ mirror @ draws[k].surface[0]
            normals.append(normal)
            offsets.append(draws[k].surface[1] + normal @ translation[k])
        planes = render_planes(np.stack(normals), np.array(offsets), intrinsics[tables], height, width)
        scene_depth[tables] = nearest_depth(planes, scene_depth[tables])
    return scene_depth
