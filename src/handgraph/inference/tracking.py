"""Following a hand through a sequence: the next crop from the last frame's joints, the localiser when the hand
is lost, and optional smoothing of the joints with the One Euro filter.

The One Euro filter (Casiez, Roussel & Vogel, "1 Euro Filter: A Simple Speed-based Low-pass Filter for Noisy
Input in Interactive Systems", CHI 2012) is an exponential smoother whose cut-off frequency rises with speed:

    alpha(fc) = 1 / (1 + tau / T),  tau = 1 / (2 pi fc),  T the time since the last sample
    dx_hat = alpha(d_cutoff) dx + (1 - alpha(d_cutoff)) dx_hat_prev,   dx = (x - x_hat_prev) / T
    fc = min_cutoff + beta |dx_hat|
    x_hat = alpha(fc) x + (1 - alpha(fc)) x_hat_prev

so a still hand is smoothed hard (jitter gone) and a moving one lightly (little lag). Here x is a joint's
position (mm): its velocity is filtered as a vector, and the length of the filtered velocity (mm/s) sets that
joint's cut-off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, xyz_to_uvd

SMOOTHING_MIN_CUTOFF_HZ = 0.5
SMOOTHING_BETA_S_PER_MM = 0.02
"""The One Euro filter's parameters for ``--smooth``, chosen by ``bench/tracking.py`` on its tuning sequences:
of a grid, the pair with the least jitter among those that add at most 1 mm to the mean joint error of
unsmoothed tracking (bench/results/tracking.json at commit 169d9d0, seven kinds of sequence: on the benchmark
sequences at 30 frames/s it halved the jitter, 7.6 to 3.5 m/s^2, for 0.6 mm more mean joint error; the run
before, on six kinds, had chosen 2 Hz)."""

KEEP_SCORE = 0.5
"""While a hand is tracked, a localiser's answer on it still sees it from this share of the threshold up."""


def smoothing_factor(cutoff_hz: np.ndarray | float, period_s: float) -> np.ndarray | float:
    """alpha = 1 / (1 + tau / T) with tau = 1 / (2 pi fc)."""
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff_hz))
    return 1.0 / (1.0 + tau / period_s)


class OneEuroFilter:
    """The One Euro filter on (J, 3) joints in mm: ``filter(xyz, t)`` with t in seconds, increasing."""

    def __init__(self, min_cutoff_hz: float = SMOOTHING_MIN_CUTOFF_HZ, beta: float = SMOOTHING_BETA_S_PER_MM,
                 derivative_cutoff_hz: float = 1.0):  # fmt: skip
        if min_cutoff_hz <= 0 or beta < 0 or derivative_cutoff_hz <= 0:
            raise HandgraphError(
                f"One Euro filter: min cutoff and derivative cutoff must be positive and beta >= 0, got "
                f"{min_cutoff_hz}, {derivative_cutoff_hz}, {beta}"
            )
        self.min_cutoff_hz, self.beta, self.derivative_cutoff_hz = min_cutoff_hz, beta, derivative_cutoff_hz
        self.reset()

    def reset(self) -> None:
        """Forget the past (the hand was lost): the next sample passes unchanged."""
        self.value: np.ndarray | None = None
        self.velocity: np.ndarray | None = None
        self.time: float | None = None

    def __call__(self, value: np.ndarray, time_s: float) -> np.ndarray:
        value = np.asarray(value, dtype=np.float64)
        if self.value is None:
            self.value, self.velocity, self.time = value, np.zeros_like(value), time_s
            return value
        period = time_s - self.time
        if period <= 0:
            raise HandgraphError(f"One Euro filter: time must increase, got {time_s} s after {self.time} s")
        velocity = (value - self.value) / period  # (J, 3) mm/s
        self.velocity = self.velocity + smoothing_factor(self.derivative_cutoff_hz, period) * (velocity - self.velocity)
        speed = np.linalg.norm(self.velocity, axis=-1)  # (J,) of the filtered velocity
        alpha = smoothing_factor(self.min_cutoff_hz + self.beta * speed, period)[..., None]
        self.value = self.value + alpha * (value - self.value)
        self.time = time_s
        return self.value


@dataclass
class TrackedFrame:
    """One frame of a sequence: the prediction (None: no hand), and how its crop was found."""

    prediction: object | None
    source: str
    """"tracked" (from the last frame's joints), "localizer" (found afresh) or "given" (a centre was given)."""


class HandTracker:
    """Runs a ``Predictor`` along a sequence of frames of one camera, never losing a frame to tracking.

    While the hand is found, the next frame's crop is centred where the hand is expected: its last centre (the
    centroid of its joints) moved on by its velocity over the last two frames, so that a fast hand stays inside
    its crop (one network pass, no localiser); when the joints come out more than ``recentre`` of the cube's side
    from that centre, the crop is cut again around them and the network runs once more. The tracked prediction
    is kept only if it holds:

    - the frame's depth supports its joints (at least ``min_support`` of them on a surface, see
      ``predictor.joint_support``);
    - its joints' centroid lies within ``max_offset`` of the cube's side from the crop's centre (a hand at the
      crop's edge is half outside it, and its joints are guesses);
    - the crop holds depth within its cube in at least ``min_fill`` of its pixels (a crop that the hand has left
      holds little or none; one with none is an error of the predictor, caught here).

    Otherwise the same frame goes to the localiser: losing the hand never costs the frame, and a hand that was
    lost is looked for afresh in every frame until the localiser finds it.

    The localiser's network (a fraction of a pose pass) also checks every tracked frame, since a tracker can
    follow another hand passing in front, the arm, or an object, with its joints on a surface. Where the
    localiser's centre lies farther than ``max_offset`` of the cube's side from the tracked joints' centroid,
    the hand it points at is predicted as well (both passes): it is the answer when it lies nearer the
    localiser's centre than the tracked one, or when the localiser's centre is farther than ``other_hand`` of
    the cube's side (100 mm for a 250 mm cube) from the tracked hand. When the localiser has seen no hand for
    ``no_hand_frames`` tracked frames in a row, there is none (a single miss of the localiser does not drop a
    hand that tracking holds). Its threshold starts a track; a lower one keeps it (hysteresis, as trackers built
    on a detector do): an answer below the threshold still sees the tracked hand when its score is at least
    ``keep_score`` of the threshold and its centre lies within ``max_offset`` of the cube's side from the tracked
    joints' centroid (a hand half hidden by the object it holds, or cut by the frame's edge, scores lower).
    """

    def __init__(self, predictor, smoother: OneEuroFilter | None = None, min_support: float = 0.5,
                 max_offset: float = 0.2, min_fill: float = 0.02, other_hand: float = 0.4,
                 no_hand_frames: int = 3, recentre: float = 0.1, keep_score: float = KEEP_SCORE):  # fmt: skip
        if no_hand_frames < 1:
            raise HandgraphError(f"no_hand_frames must be at least 1, got {no_hand_frames}")
        self.predictor, self.smoother = predictor, smoother
        self.min_support, self.max_offset, self.min_fill = min_support, max_offset, min_fill
        self.other_hand, self.no_hand_frames, self.recentre = other_hand, no_hand_frames, recentre
        localizer = getattr(predictor, "localizer", None)  # None: the blob heuristic, which has no score
        self.keep_below = None if localizer is None else keep_score * localizer.config.threshold
        self.reset()

    def __call__(
        self, depth_mm: np.ndarray, camera: Intrinsics, time_s: float, centre_xyz=None, left: bool = False
    ) -> TrackedFrame:
        if centre_xyz is not None:
            frame = TrackedFrame(self.predictor(depth_mm, camera, centre_xyz, left=left), "given")
        else:
            frame = self._track(depth_mm, camera, time_s, left)
        if frame.prediction is None or frame.prediction.support < self.min_support:
            self.reset()
            return frame
        self.path = [*self.path[-1:], (time_s, frame.prediction.xyz.mean(axis=0))]
        if self.smoother is not None:
            xyz = self.smoother(frame.prediction.xyz, time_s)
            frame.prediction = replace(frame.prediction, xyz=xyz, uvd=xyz_to_uvd(xyz, camera))
        return frame

    def reset(self) -> None:
        """Forget the hand: the next frame is localised afresh and smoothing starts over."""
        self.path: list[tuple[float, np.ndarray]] = []
        """(time, centre) of the last one or two frames with the hand: where it is and how fast it moves."""
        self.unseen = 0
        """Tracked frames in a row in which the localiser saw no hand."""
        if self.smoother is not None:
            self.smoother.reset()

    def expected_centre(self, time_s: float) -> np.ndarray | None:
        """Where the hand's centre should be at ``time_s``: the last centre moved on at the last velocity (no
        further than half the crop's cube), or None when the hand is not being followed."""
        if not self.path:
            return None
        last_time, last = self.path[-1]
        if len(self.path) < 2 or time_s <= last_time:
            return last
        (first_time, first), reach = self.path[0], 0.5 * self.predictor.cube_mm
        step = (last - first) / (last_time - first_time) * (time_s - last_time)
        length = float(np.linalg.norm(step))
        return last + (step if length <= reach else step * reach / length)

    def holds(self, prediction) -> bool:
        """Whether a tracked prediction can be kept (see the class's text)."""
        offset = float(np.linalg.norm(prediction.xyz.mean(axis=0) - prediction.centre_xyz))
        return (
            prediction.support >= self.min_support
            and offset <= self.max_offset * self.predictor.cube_mm
            and prediction.fill >= self.min_fill
        )

    def _track(self, depth_mm: np.ndarray, camera: Intrinsics, time_s: float, left: bool) -> TrackedFrame:
        expected = self.expected_centre(time_s)
        if expected is not None:
            try:
                tracked = self.predictor(depth_mm, camera, expected, left=left, refine=False)
                if np.linalg.norm(tracked.xyz.mean(axis=0) - expected) > self.recentre * self.predictor.cube_mm:
                    tracked = self.predictor(depth_mm, camera, tracked.xyz.mean(axis=0), left=left, refine=False)
            except HandgraphError:  # no depth at all in the crop: the hand has left it
                tracked = None
            if tracked is not None and self.holds(tracked):
                return self._verified(tracked, depth_mm, camera, left)
        self.unseen = 0
        return TrackedFrame(self.predictor(depth_mm, camera, left=left), "localizer")

    def _verified(self, tracked, depth_mm: np.ndarray, camera: Intrinsics, left: bool) -> TrackedFrame:
        """The tracked prediction, checked by the localiser's network (see the class's text)."""
        detection = self.predictor.locate(depth_mm, camera)
        seen = detection.centre_xyz
        offset = np.inf if seen is None else float(np.linalg.norm(seen - tracked.xyz.mean(axis=0)))
        on_the_hand = offset <= self.max_offset * self.predictor.cube_mm
        kept = self.keep_below is not None and detection.score >= self.keep_below and on_the_hand
        if not detection.found and not kept:
            self.unseen += 1
            return TrackedFrame(None if self.unseen >= self.no_hand_frames else tracked, "tracked")
        self.unseen = 0
        if on_the_hand:
            return TrackedFrame(tracked, "tracked")
        found = self.predictor(depth_mm, camera, detection.centre_xyz, left=left, refine=True)
        nearer = np.linalg.norm(found.xyz.mean(axis=0) - detection.centre_xyz) < offset
        if offset <= self.other_hand * self.predictor.cube_mm and not nearer:
            return TrackedFrame(tracked, "tracked")
        return TrackedFrame(replace(found, score=detection.score), "localizer")
