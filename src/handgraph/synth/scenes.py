"""Whole synthetic frames for the hand localiser: a hand on its arm, a person, a room, a depth camera.

Each frame draws a depth camera (Kinect v1 as in NYU, Kinect v2, RealSense SR300 and SR305, with their
intrinsics jittered), and then one of four scenes:

- a person facing the camera, one hand raised beside the head in front of the body, as people stand before a
  depth camera;
- a hand anywhere in view on its arm (forearm, elbow, upper arm, shoulder), with the torso, neck and head of
  its person behind or beside it wherever the arm leads, sometimes the other hand on the other arm;
- an arm entering from outside the frame over a desk, as a seated user or an egocentric camera sees it;
- no hand at all: a person with the arms out of view, a desk, walls, clutter, or nothing in range;
- (``egocentric_fraction`` of the hand frames, none by default) the user's own hands seen by a head- or
  chest-mounted camera looking forward and down: arms entering from the bottom and side edges with the
  shoulders out of view, hands 200-700 mm away, palm down or turned as in a grasp, often both, over a table or
  resting on it.

Walls, floors and clutter at the hand's own depth are added, then a sensor model (noise, holes at depth edges,
dropouts, the depth unit and the working range). Some frames are mirrored (as a Kinect v2 writes them), some
have their missing depth filled with one far value (as NYU's frames do), some keep only the hand and forearm
(as ICVL's and MSRA's frames are segmented).

Frames are rendered directly on the localiser's canvas (``preprocess.canvas``): the camera's field of view
limits what the canvas sees, which is what resampling a real frame does. Rendering at that resolution is
what makes training fast; the sensor's edge effects are scaled down to canvas pixels.

Frame ``i`` of seed ``s`` comes from its own generator ``numpy.random.default_rng([s, i])``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, xyz_to_uvd
from handgraph.geometry.kinematics import chain_joints, hand_to_camera
from handgraph.geometry.rotations import axis_angle_to_matrix
from handgraph.preprocess.canvas import Canvas, frame_to_canvas, sampling_indices
from handgraph.synth import body
from handgraph.synth.grasps import rest_on_plane, resting_rotation, sample_grasp, sample_table_up
from handgraph.synth.labels import hand_centre
from handgraph.synth.objects import HandObject, sample_object
from handgraph.synth.poses import (
    sample_egocentric_rotation,
    sample_gesture_articulation,
    sample_shape,
    sample_uniform_articulation,
)
from handgraph.synth.poses import sample_view_rotation as view_rotation
from handgraph.synth.raycast import nearest_depth, render_depth, render_objects, render_planes
from handgraph.synth.sensor import SENSOR_PRESETS, SensorModel
from handgraph.synth.surface import RoundCones, hand_cones

MAX_HANDS = 2
CANVAS_EDGE_SCALE = 0.35
"""A canvas pixel spans about five frame pixels, so a frame's one-pixel edge effects touch fewer of them."""
EDGE_SCALE_MAX = 1.0
"""A frame's edge effects at full strength on the canvas: a sensor at the canvas's own resolution."""


_FAMILIES = ("egocentric_fraction", "object_fraction", "surface_fraction")


@dataclass(frozen=True)
class SceneConfig:
    """How whole frames for the localiser are drawn."""

    canvas: Canvas = field(default_factory=Canvas)
    """The localiser's input camera: frames are rendered on it."""
    sensors: tuple[str, ...] = ("kinect", "kinect2", "sr305", "realsense")
    """Depth cameras drawn from (``synth.sensor`` presets), each equally often."""
    hand_fraction: float = 0.8
    """Share of frames with a hand."""
    facing_fraction: float = 0.35
    """Share of hand frames showing a person who faces the camera and raises a hand beside the head."""
    person_fraction: float = 0.7
    """Share of the other hand frames whose arm belongs to a person in view; the rest show an arm over a desk."""
    second_hand_fraction: float = 0.2
    """Share of person frames in which the other arm ends in a hand too."""
    distance_mm: tuple[float, float] = (250.0, 1100.0)
    """Range of the hand centre's distance, within the sensor's range; a facing person's hand goes up to
    1500 mm, and clutter where a hand could be, in frames without one, up to 3000 mm."""
    mirror_fraction: float = 0.5
    """Share of mirrored frames (a Kinect v2 writes its frames mirrored)."""
    far_fill_fraction: float = 0.1
    """Share of frames whose missing depth reads one far value, as NYU's frames do."""
    segmented_fraction: float = 0.05
    """Share of hand frames with only the hand and forearm kept, as ICVL and MSRA ship theirs."""
    intrinsics_jitter: float = 0.08
    """Relative deviation of the drawn camera's focal lengths from its preset."""
    egocentric_fraction: float = 0.0
    """Share of hand frames seen by a head- or chest-mounted camera (the user's own hands)."""
    object_fraction: float = 0.0
    """Share of hands that hold an object (``synth.objects``), and of frames without a hand that show loose
    objects instead (an object is not a hand); objects lie about on the tables of egocentric frames."""
    surface_fraction: float = 0.0
    """Share of egocentric frames whose first hand rests on, or presses on, the table. These three at 0 keep
    the stream of every other frame as it was: no random number is drawn for them."""
    edge_scale: tuple[float, float] = (CANVAS_EDGE_SCALE, CANVAS_EDGE_SCALE)
    """Range of the factor on the sensor's edge fattening and edge dropout, drawn per frame (uniformly when the
    two differ; one value draws nothing). How strong a real frame's edge effects are once it is resampled to
    the canvas depends on its resolution and its sensor: a localiser trained at one strength finds far fewer
    hands at another (``bench/families.py``, resampled frames), so training draws it from a range."""

    def __post_init__(self) -> None:
        unknown = [name for name in self.sensors if name not in SENSOR_PRESETS]
        if unknown or not self.sensors:
            raise HandgraphError(f"scene config: unknown sensors {unknown}; known: {', '.join(SENSOR_PRESETS)}")
        fractions = ("hand_fraction", "facing_fraction", "person_fraction", "second_hand_fraction")
        for name in (*fractions, "mirror_fraction", "far_fill_fraction", "segmented_fraction", *_FAMILIES):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise HandgraphError(f"scene config: {name} must be within [0, 1], got {getattr(self, name)}")
        if not 150.0 <= self.distance_mm[0] <= self.distance_mm[1]:
            raise HandgraphError(f"scene config: distance_mm must satisfy 150 <= low <= high, got {self.distance_mm}")
        if not 0.0 <= self.edge_scale[0] <= self.edge_scale[1] <= EDGE_SCALE_MAX:
            raise HandgraphError(
                f"scene config: edge_scale must satisfy 0 <= low <= high <= {EDGE_SCALE_MAX:g}, got {self.edge_scale}"
            )
        if not 0.0 <= self.intrinsics_jitter <= 0.3:
            raise HandgraphError(
                f"scene config: intrinsics_jitter must be within [0, 0.3], got {self.intrinsics_jitter}"
            )

    def to_dict(self) -> dict:
        return asdict(self)


SCENE_FAMILIES: dict[str, dict] = {
    "facing": {"hand_fraction": 1.0, "facing_fraction": 1.0},
    "desk": {"hand_fraction": 1.0, "facing_fraction": 0.0, "person_fraction": 0.0},
    "person": {"hand_fraction": 1.0, "facing_fraction": 0.0, "person_fraction": 1.0},
    "egocentric": {"hand_fraction": 1.0, "egocentric_fraction": 1.0},
    "holding": {"hand_fraction": 1.0, "egocentric_fraction": 0.5, "object_fraction": 1.0},
    "on a surface": {"hand_fraction": 1.0, "egocentric_fraction": 1.0, "surface_fraction": 1.0},
    "no hand": {"hand_fraction": 0.0, "object_fraction": 0.5},
}
"""One kind of scene each, as overrides of a ``SceneConfig``: a person facing the camera, an arm over a desk,
a hand anywhere on a person's arm, a wearer's own hands, hands holding things (half of them egocentric), hands
resting on a table, and no hand (half of those with objects lying about). The benchmarks score the localiser
on each apart."""


def scene_family(name: str, base: SceneConfig | None = None) -> SceneConfig:
    """``base`` (the default config when None) showing only the scenes of family ``name``."""
    if name not in SCENE_FAMILIES:
        raise HandgraphError(f"unknown scene family {name!r}; known: {', '.join(SCENE_FAMILIES)}")
    return replace(base or SceneConfig(), **SCENE_FAMILIES[name])


@dataclass
class _Scene:
    """One frame before rendering: its camera, hands (cones and centres) and everything else."""

    rng: np.random.Generator
    sensor: SensorModel
    camera: Intrinsics
    hands: list[RoundCones] = field(default_factory=list)
    centres: list[np.ndarray] = field(default_factory=list)
    objects: list[body.Cone] = field(default_factory=list)
    planes: list[tuple[np.ndarray, float]] = field(default_factory=list)
    things: list[HandObject] = field(default_factory=list)
    """Objects held or lying about (``synth.objects``), in frame 0."""
    segmented: bool = False


def _camera(rng: np.random.Generator, sensor: SensorModel, jitter: float) -> Intrinsics:
    preset = sensor.camera
    focal = 1.0 + rng.normal(0.0, jitter)
    shift = rng.normal(0.0, 0.02, 2) * [preset.width, preset.height]
    return replace(preset, fx=preset.fx * focal, fy=preset.fy * focal, cx=preset.cx + shift[0], cy=preset.cy + shift[1])


def _point_in_view(rng: np.random.Generator, window: np.ndarray, canvas: Canvas, depth: float) -> np.ndarray:
    """A camera-frame point at ``depth`` whose projection is a random pixel of the camera's view."""
    rows, columns = np.nonzero(window)
    pick = rng.integers(len(rows))
    u, v = columns[pick] + rng.uniform(-0.5, 0.5), rows[pick] + rng.uniform(-0.5, 0.5)
    camera = canvas.camera
    return np.array([(u - camera.cx) * depth / camera.fx, (v - camera.cy) * depth / camera.fy, depth])


def _hand(
    rng: np.random.Generator, left: bool, rotation: np.ndarray, place, scene: _Scene | None = None, touch: str = ""
) -> tuple[RoundCones, np.ndarray, float]:
    """A random hand with ``rotation``; ``place(joints_at_origin)`` returns its translation. With ``touch``
    "object" it holds one (added to ``scene``), with "table" it rests on a level table, turned to lie on it
    (``rotation`` is not used; the table is added to ``scene`` when the camera sees its upper side). Returns
    its cones, its joints (21, 3) and its scale."""
    if rng.uniform() < 0.5:
        articulation = sample_gesture_articulation(rng, 10.0)[1]
    else:
        articulation = sample_uniform_articulation(rng)
    shape = sample_shape(rng)
    grasp, table = None, None
    if touch == "object":
        grasp = sample_grasp(rng, shape)
        articulation = grasp.articulation_deg if grasp is not None else articulation
    elif touch == "table":
        articulation, *table = rest_on_plane(rng, shape, articulation)
        rotation = resting_rotation(rng, table[0], left, sample_table_up(rng))
    joints_hand = chain_joints(np.radians(articulation)[None], shape.bone_lengths, shape.root_offsets)
    flag = np.array([float(left)])
    at_origin = hand_to_camera(joints_hand, rotation[None], np.zeros((1, 3)), flag)[0]
    translation = place(at_origin)
    cones = hand_cones(joints_hand, shape, rotation[None], translation[None], flag)
    if grasp is not None:
        scene.things.append(grasp.held.in_camera(rotation, translation, left, 0))
    if table:  # n.p = offset in the hand frame -> n'.x = offset + n'.t in the camera's
        normal = rotation @ np.diag([-1.0 if left else 1.0, 1.0, 1.0]) @ table[0]
        offset = table[1] + normal @ translation
        if offset < -20.0:  # the camera lies on the hand's side of the table
            scene.planes.append((normal, float(offset)))
    return cones, at_origin + translation, float(shape.scale[0])


def _touch(rng: np.random.Generator, config: SceneConfig) -> str:
    """Whether a hand holds an object: "object" or ""; draws nothing when ``object_fraction`` is 0."""
    return "object" if config.object_fraction > 0 and rng.uniform() < config.object_fraction else ""


def _aligned_rotation(rng: np.random.Generator, along: np.ndarray) -> np.ndarray:
    """A random hand rotation whose fingers' direction (the hand's +y) is ``along`` (3,)."""
    rotation = view_rotation(rng, 180.0, 0.5, 180.0)
    current = rotation[:, 1]
    axis = np.cross(current, along)
    angle = np.arctan2(np.linalg.norm(axis), current @ along)
    if np.linalg.norm(axis) < 1e-9:
        return rotation
    return axis_angle_to_matrix(axis / np.linalg.norm(axis) * angle) @ rotation


def _add_person_arm_and_hand(scene: _Scene, config: SceneConfig, window: np.ndarray) -> None:
    """The main hand at a random place in view, its arm, and (sometimes) the person it belongs to."""
    rng, canvas = scene.rng, config.canvas
    near = max(config.distance_mm[0], scene.sensor.range_mm[0] + 100.0)
    far = max(near, min(config.distance_mm[1], scene.sensor.range_mm[1] - 150.0))
    centre = _point_in_view(rng, window, canvas, rng.uniform(near, far))
    left = bool(rng.uniform() < 0.5)
    side = -1.0 if left else 1.0  # a right hand's body lies towards +x (the person faces the camera)
    forearm = _forearm_direction(rng, side)  # from the wrist to the elbow
    rotation = _aligned_rotation(rng, body.random_turn(rng, -forearm, 0.5))  # fingers on, bent at the wrist
    place = lambda at_origin: centre - hand_centre(at_origin)  # noqa: E731
    cones, joints, scale = _hand(rng, left, rotation, place, scene, _touch(rng, config))
    scene.hands.append(cones)
    scene.centres.append(hand_centre(joints))
    wrist = joints[0]
    elbow = wrist + forearm * body.FOREARM_MM * scale
    if rng.uniform() < config.segmented_fraction:
        scene.objects += body.arm_cones(wrist, wrist + forearm * 120.0 * scale, None, scale)
        scene.segmented = True
        return
    if rng.uniform() >= config.person_fraction:
        upper = body.random_turn(rng, forearm, 0.9)
        scene.objects += body.arm_cones(wrist, elbow, elbow + upper * body.UPPER_ARM_MM * scale, scale)
        _add_desk(scene, centre)
        return
    upper = body.unit(rng.normal(0.0, 0.5, 3) + [0.5 * side, -0.7, 0.6])
    shoulder = elbow + upper * body.UPPER_ARM_MM * scale
    turn = rng.uniform(-0.8, 0.8)
    across = np.array([side * np.cos(turn), 0.0, np.sin(turn)])
    up = body.random_turn(rng, np.array([0.0, -1.0, 0.0]), 0.25)
    scene.objects += body.arm_cones(wrist, elbow, shoulder, scale) + body.person_cones(shoulder, across, up, scale)
    _add_other_arm(scene, config, body.other_shoulder(shoulder, across, scale), not left, scale)


def _add_facing_person(scene: _Scene, config: SceneConfig, window: np.ndarray) -> None:
    """A person facing the camera with one hand raised beside the head, in front of the body: what people do
    before a depth camera (the RealSense and NYU frames of ../shared/data/real)."""
    rng, canvas, sensor = scene.rng, config.canvas, scene.sensor
    near = max(config.distance_mm[0], sensor.range_mm[0] + 100.0)
    centre = _point_in_view(rng, window, canvas, rng.uniform(near, max(near, min(1500.0, sensor.range_mm[1] - 300.0))))
    scale, turn = rng.uniform(0.85, 1.15), rng.uniform(-0.5, 0.5)
    across = np.array([np.cos(turn), 0.0, np.sin(turn)])  # the person's right shoulder to the left one
    up = body.random_turn(rng, np.array([0.0, -1.0, 0.0]), 0.15)
    left = bool(rng.uniform() < 0.5)
    outward = across if left else -across
    offset = outward * rng.uniform(-50.0, 250.0) + up * rng.uniform(-50.0, 300.0) + [0, 0, -rng.uniform(120, 450)]
    shoulder = centre - scale * offset  # the raised arm's shoulder, behind the hand
    right_shoulder = shoulder - across * 380.0 * scale if left else shoulder
    scene.objects += body.person_cones(right_shoulder, across, up, scale)
    rotation = _aligned_rotation(rng, body.random_turn(rng, up, 0.6))  # fingers up, more or less
    place = lambda at_origin: centre - hand_centre(at_origin)  # noqa: E731
    cones, joints, hand_scale = _hand(rng, left, rotation, place, scene, _touch(rng, config))
    scene.hands.append(cones)
    scene.centres.append(hand_centre(joints))
    forearm = body.random_turn(rng, -rotation[:, 1], 0.4)  # from the wrist down to the elbow
    elbow = joints[0] + forearm * body.FOREARM_MM * hand_scale
    scene.objects += body.arm_cones(joints[0], elbow, shoulder, hand_scale)
    other = right_shoulder if left else body.other_shoulder(right_shoulder, across, scale)
    _add_other_arm(scene, config, other, not left, scale)


def _add_egocentric(scene: _Scene, config: SceneConfig, window: np.ndarray) -> None:
    """The user's own hands seen by a head- or chest-mounted camera looking forward and down: one or both, in
    the lower two thirds of the view, 200-700 mm away, their forearms running back to elbows 350-500 mm below
    the camera (the upper arms and shoulders out of view); over a table, resting on it, or in free space."""
    rng, sensor = scene.rng, scene.sensor
    near, far = max(200.0, sensor.range_mm[0] + 50.0), min(700.0, sensor.range_mm[1] - 100.0)
    lower = window.copy()
    lower[: lower.shape[0] // 3] = False
    hands = [False, True] if rng.uniform() < 0.5 else [bool(rng.uniform() < 0.5)]
    resting = config.surface_fraction > 0 and rng.uniform() < config.surface_fraction
    for k, left in enumerate(hands):
        centre = _point_in_view(rng, lower, config.canvas, rng.uniform(near, max(near, far)))
        side = -1.0 if left else 1.0  # the user's left hand is on the camera's left (-x)
        place = lambda at, centre=centre: centre - hand_centre(at)  # noqa: E731 (this hand's centre)
        touch = "table" if resting and k == 0 else _touch(rng, config)
        cones, joints, scale = _hand(rng, left, sample_egocentric_rotation(rng, side), place, scene, touch)
        scene.hands.append(cones)
        scene.centres.append(hand_centre(joints))
        wrist = joints[0]
        elbow = np.array([side * rng.uniform(150.0, 260.0), rng.uniform(350.0, 500.0), rng.uniform(100.0, 300.0)])
        forearm = body.unit(elbow - wrist)
        scene.objects += body.arm_cones(wrist, wrist + forearm * max(body.FOREARM_MM * scale, 250.0), None, scale)
    choice, lowest = rng.uniform(), max(scene.centres[-len(hands) :], key=lambda centre: centre[1])
    if not resting and choice < 0.4:  # a hand just above the table (a resting hand brought its own)
        _add_desk(scene, lowest, (15.0, 45.0))
    elif not resting and choice < 0.8:
        _add_desk(scene, lowest)
    if scene.planes and config.object_fraction > 0:
        _add_loose_objects(scene, config, window, on_table=True)


def _forearm_direction(rng: np.random.Generator, side: float) -> np.ndarray:
    """Wrist to elbow: mostly down and away from the camera (a raised hand), sometimes straight away from it
    (the arm pointing at the camera), sometimes anywhere but towards it."""
    choice = rng.uniform()
    if choice < 0.6:
        return body.unit(rng.normal(0.0, 0.45, 3) + [0.15 * side, 0.8, 0.35])
    if choice < 0.75:
        return body.unit(rng.normal(0.0, 0.3, 3) + [0.0, 0.2, 1.0])
    direction = body.unit(rng.normal(size=3))
    return direction * [1.0, 1.0, -1.0] if direction[2] < -0.2 else direction


def _add_other_arm(scene: _Scene, config: SceneConfig, shoulder: np.ndarray, left: bool, scale: float) -> None:
    """The person's other arm hangs down or reaches forward; with a hand at its end, or cut off out of view."""
    rng = scene.rng
    down = np.array([0.0, 1.0, 0.0])
    elbow = shoulder + body.random_turn(rng, down, 0.6) * body.UPPER_ARM_MM * scale
    wrist = elbow + body.random_turn(rng, body.unit(down + [0.0, 0.0, -rng.uniform(0, 2)]), 0.5) * (
        body.FOREARM_MM * scale
    )
    if rng.uniform() >= config.second_hand_fraction:
        scene.objects += body.arm_cones(wrist + (wrist - elbow), elbow, shoulder, scale)  # runs out of view
        return
    scene.objects += body.arm_cones(wrist, elbow, shoulder, scale)
    rotation = _aligned_rotation(rng, body.unit(wrist - elbow))
    cones, joints, _ = _hand(rng, left, rotation, lambda at_origin: wrist - at_origin[0])
    scene.hands.append(cones)
    scene.centres.append(hand_centre(joints))


def _add_handless_scene(scene: _Scene, config: SceneConfig, window: np.ndarray) -> None:
    """No hand: a person with the arms out of view, and clutter where a hand could be."""
    rng = scene.rng
    if rng.uniform() < 0.7:
        far = min(3000.0, scene.sensor.range_mm[1])
        chest = _point_in_view(rng, window, config.canvas, rng.uniform(500.0, max(far, 600.0)))
        scale = rng.uniform(0.85, 1.15)
        turn = rng.uniform(-0.8, 0.8)
        across = np.array([np.cos(turn), 0.0, np.sin(turn)])
        shoulder = chest + [0.0, -150.0 * scale, 0.0] - across * 190.0 * scale
        scene.objects += body.person_cones(shoulder, across, np.array([0.0, -1.0, 0.0]), scale)
    if rng.uniform() < 0.4:
        _add_desk(scene, _point_in_view(rng, window, config.canvas, rng.uniform(*config.distance_mm)))
    if config.object_fraction > 0 and rng.uniform() < config.object_fraction:
        _add_loose_objects(scene, config, window, on_table=bool(scene.planes))


def _add_loose_objects(scene: _Scene, config: SceneConfig, window: np.ndarray, on_table: bool) -> None:
    """One to three things a hand could hold, standing on the table (``on_table``: on the scene's last plane)
    or anywhere at a hand's distance, never within 120 mm of a hand's centre (across the view)."""
    rng = scene.rng
    for _ in range(rng.integers(1, 4)):
        held = sample_object(rng)
        position = _point_in_view(rng, window, config.canvas, rng.uniform(*config.distance_mm))
        if any(np.linalg.norm((position - centre)[:2]) < 120.0 for centre in scene.centres):
            continue
        if on_table:
            normal, offset = scene.planes[-1]
            scene.things.append(held.standing_on(normal, offset, position, rng.uniform(0.0, 2.0 * np.pi)))
        else:
            scene.things.append(held.moved(axis_angle_to_matrix(rng.normal(size=3)), position))


def _add_desk(scene: _Scene, above: np.ndarray, below_mm: tuple[float, float] = (40.0, 300.0)) -> None:
    """A desk (a plane, seen from above at up to 60 degrees) ``below_mm`` below the point ``above``."""
    rng = scene.rng
    tilt = np.radians(rng.uniform(0.0, 60.0))
    normal = body.random_turn(rng, np.array([0.0, -np.cos(tilt), -np.sin(tilt)]), 0.15)
    point = above + [0.0, rng.uniform(*below_mm), 0.0]
    scene.planes.append((normal, float(normal @ point)))


def _add_room(scene: _Scene, config: SceneConfig, window: np.ndarray) -> None:
    """A wall behind, and clutter: some at a hand's depth (the hard cases), some anywhere."""
    rng = scene.rng
    if rng.uniform() < 0.6:
        normal = body.random_turn(rng, np.array([0.0, 0.0, -1.0]), 0.6)
        nearest = max([centre[2] for centre in scene.centres] + [600.0]) + 300.0
        distance = rng.uniform(nearest, max(nearest, 4500.0))
        scene.planes.append((normal, float(normal @ [0.0, 0.0, distance])))
    for _ in range(rng.integers(0, 5)):
        depth = rng.uniform(*config.distance_mm) if rng.uniform() < 0.6 else rng.uniform(400.0, 3000.0)
        position = _point_in_view(rng, window, config.canvas, depth)
        if any(np.linalg.norm((position - centre)[:2]) < 160.0 for centre in scene.centres):
            continue  # not on top of a hand
        radius = rng.uniform(20.0, 100.0) * min(1.0, depth / 1000.0)
        extent = rng.normal(0.0, 1.0, 3) * rng.uniform(0.0, 150.0) * min(1.0, depth / 1000.0)
        scene.objects.append((position - extent, position + extent, radius, radius * rng.uniform(0.5, 1.0)))


def _sample_scene(config: SceneConfig, seed: int, index: int) -> tuple[_Scene, np.ndarray]:
    rng = np.random.default_rng([seed, index])
    sensor = SENSOR_PRESETS[config.sensors[rng.integers(len(config.sensors))]]
    camera = _camera(rng, sensor, config.intrinsics_jitter)
    window = sampling_indices(camera, (camera.height, camera.width), config.canvas) >= 0
    scene = _Scene(rng, sensor, camera)
    if rng.uniform() < config.hand_fraction:
        if config.egocentric_fraction > 0 and rng.uniform() < config.egocentric_fraction:
            _add_egocentric(scene, config, window)
        elif rng.uniform() < config.facing_fraction:
            _add_facing_person(scene, config, window)
        else:
            _add_person_arm_and_hand(scene, config, window)
    else:
        _add_handless_scene(scene, config, window)
    if not scene.segmented:
        _add_room(scene, config, window)
    return scene, window


def _objects_depth(scenes: list[_Scene], canvas: Canvas) -> np.ndarray:
    """Everything but the hands, (B, H', W')."""
    intrinsics = np.tile(_intrinsics_row(canvas), (len(scenes), 1))
    cones = [(k, cone) for k, scene in enumerate(scenes) for cone in scene.objects]
    objects = RoundCones(
        start=np.array([cone[0] for _, cone in cones]).reshape(-1, 3),
        end=np.array([cone[1] for _, cone in cones]).reshape(-1, 3),
        start_radius=np.array([cone[2] for _, cone in cones]),
        end_radius=np.array([cone[3] for _, cone in cones]),
        frame=np.array([k for k, _ in cones], dtype=np.int64),
    )
    depth = render_depth(objects, intrinsics, canvas.height, canvas.width)
    things = [thing.in_frame(k) for k, scene in enumerate(scenes) for thing in scene.things]
    if things:
        depth = nearest_depth(depth, render_objects(things, intrinsics, canvas.height, canvas.width))
    for slot in range(max((len(scene.planes) for scene in scenes), default=0)):
        having = [k for k, scene in enumerate(scenes) if len(scene.planes) > slot]
        normals = np.stack([scenes[k].planes[slot][0] for k in having])
        offsets = np.array([scenes[k].planes[slot][1] for k in having])
        planes = render_planes(normals, offsets, intrinsics[having], canvas.height, canvas.width)
        depth[having] = nearest_depth(depth[having], planes)
    return depth


def _hands_depth(scenes: list[_Scene], canvas: Canvas) -> np.ndarray:
    """Each hand alone, (B, MAX_HANDS, H', W'), 0 where a frame has fewer hands."""
    parts = [
        replace(cones, frame=np.full(len(cones.frame), k * MAX_HANDS + slot))
        for k, scene in enumerate(scenes)
        for slot, cones in enumerate(scene.hands)
    ]
    merged = RoundCones.concatenate(parts)
    intrinsics = np.tile(_intrinsics_row(canvas), (len(scenes) * MAX_HANDS, 1))
    depth = render_depth(merged, intrinsics, canvas.height, canvas.width)
    return depth.reshape(len(scenes), MAX_HANDS, canvas.height, canvas.width)


def _intrinsics_row(canvas: Canvas) -> np.ndarray:
    camera = canvas.camera
    return np.array([[camera.fx, camera.fy, camera.cx, camera.cy]])


def _sensor_reading(scene: _Scene, exact: np.ndarray, window: np.ndarray, config: SceneConfig) -> np.ndarray:
    sensor = scene.sensor
    low, high = config.edge_scale
    scale = scene.rng.uniform(low, high) if high > low else low
    on_canvas = replace(sensor, edge_fattening=sensor.edge_fattening * scale, edge_dropout=sensor.edge_dropout * scale)
    reading = on_canvas.apply(exact, scene.rng).astype(np.float32) * np.float32(sensor.depth_unit_mm)
    if not scene.segmented and scene.rng.uniform() < config.far_fill_fraction:
        reading[reading == 0] = scene.rng.uniform(1500.0, 3000.0)
    reading[~window] = 0.0
    return reading


def generate_scenes(config: SceneConfig, seed: int, indices: np.ndarray | list[int]) -> dict[str, np.ndarray]:
    """Frames ``indices`` of the scene stream ``seed`` on the canvas, with their hands.

    Keys (B frames, K = 2 hand slots, H' x W' the canvas): ``depth`` (B, H', W') float32 mm, 0 = nothing;
    ``hand_uvd`` (B, K, 3) canvas pixels and mm of each hand's centre (the centroid of its 21 joints);
    ``hand_xyz`` (B, K, 3) the same in mm in the canvas camera's frame; ``hand_present`` (B, K): the slot
    holds a hand whose centre projects into the canvas and of whose pixels at least 30 % (and 6) are seen
    within the sensor's range; ``sensor`` (B,) index into ``config.sensors``;
    ``mirrored`` (B,); ``index`` (B,).
    """
    indices = np.asarray(indices, dtype=np.int64)
    canvas = config.canvas
    drawn = [_sample_scene(config, seed, int(index)) for index in indices]
    scenes = [scene for scene, _ in drawn]
    hands = _hands_depth(scenes, canvas)  # (B, K, H', W')
    scene_depth = _objects_depth(scenes, canvas)
    for slot in range(MAX_HANDS):
        scene_depth = nearest_depth(hands[:, slot], scene_depth)
    count = len(scenes)
    hand_xyz = np.zeros((count, MAX_HANDS, 3))
    present = np.zeros((count, MAX_HANDS), dtype=bool)
    depth = np.zeros((count, canvas.height, canvas.width), dtype=np.float32)
    mirrored = np.zeros(count, dtype=bool)
    for k, (scene, window) in enumerate(drawn):
        for slot, centre in enumerate(scene.centres):
            hand_xyz[k, slot] = centre
            low, high = scene.sensor.range_mm
            seen = (hands[k, slot] >= low) & (hands[k, slot] <= high) & (hands[k, slot] == scene_depth[k]) & window
            present[k, slot] = seen.sum() >= max(6, 0.3 * (hands[k, slot] > 0).sum())
        depth[k] = _sensor_reading(scene, scene_depth[k], window, config)
        mirrored[k] = scene.rng.uniform() < config.mirror_fraction
    hand_uvd = _centres_uvd(hand_xyz, canvas)
    depth[mirrored] = depth[mirrored][:, :, ::-1]
    hand_uvd[mirrored, :, 0] = canvas.width - 1 - hand_uvd[mirrored, :, 0]
    hand_xyz[mirrored, :, 0] *= -1.0  # the canvas camera is centred, so mirroring u mirrors x
    inside = (hand_uvd[..., 0] >= 0) & (hand_uvd[..., 0] <= canvas.width - 1)
    inside &= (hand_uvd[..., 1] >= 0) & (hand_uvd[..., 1] <= canvas.height - 1)
    present &= inside
    return {
        "depth": depth,
        "hand_uvd": hand_uvd.astype(np.float32),
        "hand_xyz": hand_xyz.astype(np.float32),
        "hand_present": present,
        "sensor": np.array([config.sensors.index(scene.sensor.name) for scene in scenes], dtype=np.int64),
        "mirrored": mirrored,
        "index": indices,
    }


def _centres_uvd(hand_xyz: np.ndarray, canvas: Canvas) -> np.ndarray:
    """Hand centres (B, K, 3) in mm to canvas pixels and mm; an empty slot (z = 0) projects from (0, 0, 1)."""
    return xyz_to_uvd(np.where(hand_xyz[..., 2:] > 0, hand_xyz, [0.0, 0.0, 1.0]), canvas.camera)


def upsampled_canvas(canvas: Canvas, factor: int) -> Canvas:
    """``canvas`` at ``factor`` times its resolution: the same field of view, as a camera's full frame."""
    return replace(
        canvas, focal_px=canvas.focal_px * factor, width=canvas.width * factor, height=canvas.height * factor
    )


def generate_resampled_scenes(
    config: SceneConfig, seed: int, indices: np.ndarray | list[int], factor: int
) -> dict[str, np.ndarray]:
    """The scenes of :func:`generate_scenes` rendered at ``factor`` times the canvas's resolution (a camera's
    full frame, the sensor's edge effects as ``config.edge_scale`` gives them) and resampled to the canvas as
    ``predict`` resamples a frame (``preprocess.canvas``). The same keys, on ``config.canvas``; the scenes are
    not the same frames as those rendered on the canvas (a hand's place is drawn among the frame's pixels)."""
    canvas = config.canvas
    frame = upsampled_canvas(canvas, factor)
    scenes = generate_scenes(replace(config, canvas=frame), seed, indices)
    pattern = sampling_indices(frame.camera, (frame.height, frame.width), canvas)
    scenes["depth"] = np.stack([frame_to_canvas(depth, frame.camera, canvas, pattern) for depth in scenes["depth"]])
    # both cameras centred on the same axis: the same centres in mm, projected by the canvas's camera
    scenes["hand_uvd"] = _centres_uvd(scenes["hand_xyz"].astype(np.float64), canvas).astype(np.float32)
    return scenes
