"""Pseudo-labels: what a pose model, the kinematic hand and the depth say together about unlabelled frames.

Every sequence is tracked as ``predict`` tracks it (``inference.tracking``); the network's joints of every hand
found are fitted with the kinematic hand (one shape per sequence) and the fit is moved against the frame's depth
(``fitting.refine``): the refined hand's joints are the frame's pseudo-label. With it come the measures by which
``selection`` decides whether the frame may teach (none of them needs a label):

- ``residual_mm``, ``explained``: how well the refined hand's surface explains the observed points
  (``fitting.agreement``);
- ``support``: the share of the network's joints that the frame's depth supports (``predictor.joint_support``);
- ``moved_mm``: how far the refinement moved the joints from the network's (mean over joints): the network and
  the depth disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from handgraph.adaptation.frames import FrameSet
from handgraph.errors import HandgraphError
from handgraph.fitting.frames import FrameCrop, refine_fits
from handgraph.fitting.result import fit_layout_joints, mirrored_model
from handgraph.inference.predictor import Predictor
from handgraph.inference.tracking import HandTracker
from handgraph.io.files import atomic_writer

MEASURES = ("residual_mm", "explained", "support", "moved_mm")


@dataclass
class PseudoLabels:
    """The hands found in a set of frames, their pseudo-labels and measures. Arrays are per hand, (N, ...)."""

    names: list[str]
    """The frame of each hand."""
    centre_xyz: np.ndarray
    """(N, 3) mm: the centre of the crop the network saw."""
    network_xyz: np.ndarray
    """(N, J, 3) mm: the network's joints, in its layout."""
    xyz: np.ndarray
    """(N, J, 3) mm: the refined kinematic hand's joints in the same layout: the pseudo-labels."""
    residual_mm: np.ndarray
    explained: np.ndarray
    support: np.ndarray
    moved_mm: np.ndarray
    frames: int
    """Frames read, with a hand or without."""
    skipped: list[str] = field(default_factory=list)
    """One message per frame that could not be read."""

    def __len__(self) -> int:
        return len(self.names)

    def measures(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in MEASURES}

    @staticmethod
    def empty(joints: int, frames: int, skipped: list[str]) -> PseudoLabels:
        """No hand in ``frames`` frames (``skipped`` of them unreadable)."""
        points, measure = np.zeros((0, joints, 3)), np.zeros(0)
        return PseudoLabels([], np.zeros((0, 3)), points, points.copy(), *(measure.copy() for _ in MEASURES),
                            frames=frames, skipped=list(skipped))  # fmt: skip

    @staticmethod
    def joined(parts: list[PseudoLabels]) -> PseudoLabels:
        """The labels of several sets of frames (sequences) as one, in their order."""
        found = [part for part in parts if len(part)] or parts[:1]  # an empty part's arrays lend no dtype
        arrays = {name: np.concatenate([getattr(part, name) for part in found])
                  for name in ("centre_xyz", "network_xyz", "xyz", *MEASURES)}  # fmt: skip
        return PseudoLabels([name for part in parts for name in part.names], **arrays,
                            frames=sum(part.frames for part in parts),
                            skipped=[message for part in parts for message in part.skipped])  # fmt: skip

    def save(self, path: str | Path) -> None:
        """One ``.npz`` (arrays, and the names and skipped frames as JSON), written atomically."""
        arrays = {name: getattr(self, name) for name in ("centre_xyz", "network_xyz", "xyz", *MEASURES)}
        text = json.dumps({"names": self.names, "frames": self.frames, "skipped": self.skipped})
        with atomic_writer(Path(path), binary=True) as file:
            np.savez(file, text=np.array(text), **arrays)

    @staticmethod
    def load(path: str | Path) -> PseudoLabels:
        try:
            with np.load(path, allow_pickle=False) as stored:
                text = json.loads(str(stored["text"]))
                arrays = {name: stored[name] for name in ("centre_xyz", "network_xyz", "xyz", *MEASURES)}
            return PseudoLabels(text["names"], **arrays, frames=text["frames"], skipped=text["skipped"])
        except (OSError, KeyError, TypeError, ValueError, EOFError) as error:
            raise HandgraphError(f"{path}: not the pseudo-labels of 'handgraph adapt' ({error}); delete it to "
                                 "label the frames again") from None  # fmt: skip


def label_frames(
    frames: FrameSet, predictor: Predictor, left: bool = False, progress: bool = True, parts: Path | None = None
) -> PseudoLabels:
    """Track, fit and refine every sequence of ``frames`` with ``predictor``'s networks; see the module's text.

    With ``parts``, a folder, each sequence's labels are written there as soon as the sequence is done
    (``00003.npz`` for the fourth) and read back instead of made again: a pass killed midway resumes at its
    first unfinished sequence. The caller keeps a folder to one ``predictor`` and one set of frames."""
    labelled = []
    with tqdm(total=len(frames), desc="finding and predicting hands", unit="frame", disable=not progress) as bar:
        for number, sequence in enumerate(frames.sequences):
            path = None if parts is None else Path(parts) / f"{number:05d}.npz"
            if path is not None and path.is_file():
                part = PseudoLabels.load(path)
                bar.update(part.frames)
            else:
                part = _label_sequence(sequence, frames, predictor, left, bar, progress)
                if path is not None:
                    part.save(path)
            labelled.append(part)
    labels = PseudoLabels.joined(labelled)
    if not len(labels):
        raise HandgraphError(
            f"no hand was found in any of the {len(frames)} frame(s) ({len(labels.skipped)} unreadable): nothing to "
            "adapt on; check --camera and --depth-scale with 'handgraph predict' on a few of them"
        )
    return labels


def _label_sequence(sequence, frames: FrameSet, predictor: Predictor, left: bool, bar, progress: bool) -> PseudoLabels:
    """One sequence tracked as ``predict`` tracks it, and the hands found fitted and refined."""
    tracker = HandTracker(predictor)
    hands: list[tuple[str, object]] = []  # (frame name, prediction)
    skipped: list[str] = []
    count = 0
    for index, (name, read) in enumerate(sequence):
        bar.update(1)
        count += 1
        try:
            depth = read()
            _check_size(name, depth, frames)
            tracked = tracker(depth, frames.camera, index / frames.fps, left=left)
        except _WrongSize:
            raise
        except HandgraphError as error:  # an unreadable frame (a recording cut short): said, then skipped
            skipped.append(str(error) if name in str(error) else f"{name}: {error}")
            tracker.reset()
            continue
        if tracked.prediction is not None:
            hands.append((name, tracked.prediction))
    if not hands:
        return PseudoLabels.empty(predictor.layout.num_joints, count, skipped)
    return _refined(hands, frames, predictor, left, count, skipped, progress)


class _WrongSize(HandgraphError):
    """A frame of another size than the camera's: another camera's, never skipped."""


def _check_size(name: str, depth: np.ndarray, frames: FrameSet) -> None:
    camera = frames.camera
    if camera.width and camera.height and depth.shape != (camera.height, camera.width):
        raise _WrongSize(f"{name}: the frame is {depth.shape[1]}x{depth.shape[0]} but the camera is "
                         f"{camera.width}x{camera.height}; adapt on one camera's frames at a time")  # fmt: skip


def _refined(hands: list, frames: FrameSet, predictor: Predictor, left: bool, count: int, skipped: list,
             progress: bool) -> PseudoLabels:  # fmt: skip
    """The fits of one sequence's ``hands`` (frame name, prediction), one shape for all, refined against their
    frames."""
    camera = frames.camera
    joints = np.stack([prediction.xyz for _, prediction in hands])
    fits = fit_layout_joints(joints, predictor.layout, mirrored_model(left, camera.fx, camera.fy), sequence=True,
                             source="the predicted joints")  # fmt: skip

    def crop_of(k: int) -> FrameCrop:
        name, prediction = hands[k]
        return FrameCrop(frames.reader(name)(), camera, prediction.centre_xyz, predictor.cube_mm)

    fits = refine_fits(fits, crop_of, progress=progress)
    return PseudoLabels(
        names=[name for name, _ in hands],
        centre_xyz=np.stack([prediction.centre_xyz for _, prediction in hands]),
        network_xyz=fits.joints,
        xyz=fits.xyz,
        residual_mm=fits.agreement.residual_mm,
        explained=fits.agreement.explained,
        support=np.array([prediction.support for _, prediction in hands]),
        moved_mm=np.linalg.norm(fits.xyz - fits.joints, axis=-1).mean(axis=1),
        frames=count,
        skipped=skipped,
    )
