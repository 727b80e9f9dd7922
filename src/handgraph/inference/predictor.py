"""Running a trained model on depth frames from any camera: localise, crop, predict, map back to the frame."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, xyz_to_uvd
from handgraph.inference.localizing import HandDetection, Localizer
from handgraph.inference.networks import load_network
from handgraph.preprocess.crop import frame_crops, intrinsics_tensor
from handgraph.preprocess.localize import localize_hand
from handgraph.weights import LOCALIZER, POSE_MODEL, shipped


@dataclass
class Prediction:
    """One frame's result, mm in the camera's frame and pixels of the frame."""

    xyz: np.ndarray  # (J, 3)
    uvd: np.ndarray  # (J, 3)
    centre_xyz: np.ndarray  # (3,)
    crop: np.ndarray  # (6,) the crop the model saw
    support: float = 1.0
    """Share of joints that the frame's depth supports (see :func:`joint_support`)."""
    score: float | None = None
    """The localiser's score, when it found the centre."""
    fill: float = 1.0
    """Share of the crop's pixels holding depth within its cube."""


SUPPORT_BAND_MM = (-25.0, 60.0)
"""A joint lies behind the surface it is seen through: 0-30 mm on NYU's labels, more for a finger seen edge-on."""


def joint_support(depth_mm: np.ndarray, uvd: np.ndarray) -> float:
    """The share of joints (J, 3) whose pixel holds a depth at most 25 mm behind and 60 mm in front of the
    joint: near 1 for a skeleton on a hand, near 0 for one on a wall or on nothing."""
    height, width = depth_mm.shape
    u = np.clip(np.rint(uvd[:, 0]).astype(int), 0, width - 1)
    v = np.clip(np.rint(uvd[:, 1]).astype(int), 0, height - 1)
    inside = (uvd[:, 0] >= 0) & (uvd[:, 0] < width) & (uvd[:, 1] >= 0) & (uvd[:, 1] < height)
    behind = uvd[:, 2] - depth_mm[v, u]
    near, far = SUPPORT_BAND_MM
    return float(np.mean(inside & (depth_mm[v, u] > 0) & (behind >= near) & (behind <= far)))


class Predictor:
    """A trained network ready to run on frames: ``predictor(depth_mm, camera, centre_xyz=None)``.

    ``checkpoint`` is a checkpoint folder (default: the shipped one) or, with ``backend="onnx"``, an ``.onnx``
    file from ``handgraph export`` (see ``networks.load_network``); ``device`` places a PyTorch network.

    Without a given centre the hand is found by ``localizer``: the shipped learned localiser (``None``), a
    localiser checkpoint folder or ``.onnx`` file, or ``"blob"`` (the nearest blob, ``preprocess.localize``).
    Models are trained on crops around the centroid of the joints (with some jitter), so the predictor then
    runs twice (or ``refinements + 1`` times): the next crop is centred on the joints just predicted.
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike | None = None,
        backend: str = "torch",
        refinements: int = 1,
        threads: int | None = None,
        device: str = "cpu",
        localizer: str | os.PathLike | None = None,
    ):
        self.checkpoint = Path(checkpoint) if checkpoint else shipped(POSE_MODEL)
        self.network = load_network(self.checkpoint, backend, threads, device)
        self.backend = backend
        self.contract = self.network.contract
        self.cube_per_frame = self.contract.cube_per_frame  # trained on a dataset's per-frame cubes
        self.cube_mm = self.contract.cube_mm  # for frames that bring no cube of their own
        self.size = self.contract.input_size
        self.layout = self.network.layout
        self.refinements = refinements
        self.localizer = None if str(localizer) == "blob" else _localizer(localizer, backend, threads)

    def locate(self, depth_mm: np.ndarray, camera: Intrinsics) -> HandDetection:
        """Where the hand is (or that there is none), by the learned localiser or the blob heuristic."""
        if self.localizer is not None:
            return self.localizer(depth_mm, camera)
        try:
            centre = localize_hand(depth_mm, camera)
        except HandgraphError:  # the heuristic's "no hand found"
            return HandDetection(False, 0.0, None, None)
        return HandDetection(True, 1.0, xyz_to_uvd(centre, camera), centre)

    @torch.no_grad()
    def __call__(
        self,
        depth_mm: np.ndarray,
        camera: Intrinsics,
        centre_xyz: np.ndarray | None = None,
        left: bool = False,
        refine: bool | None = None,
        cube_mm: float | None = None,
    ) -> Prediction | None:
        """Predict the joints of the hand in one (H, W) frame; without a centre, the hand is localised, and
        None is the answer "no hand in this frame". ``refine`` (default: only when localised) recentres the
        crop on the predicted joints and predicts again. ``cube_mm`` overrides the model's crop cube (a model
        trained on a dataset's per-frame cubes is given the frame's).

        Models are trained on right hands. For a left hand (``left``) the frame is mirrored, u -> W - 1 - u,
        which is a camera with cx -> W - 1 - cx looking at the scene mirrored in x: a right hand. Its joints
        are mirrored back, x -> -x.
        """
        if left:
            width = depth_mm.shape[1]
            mirrored_camera = replace(camera, cx=width - 1 - camera.cx)
            centre = None if centre_xyz is None else np.asarray(centre_xyz, dtype=np.float64) * [-1.0, 1.0, 1.0]
            mirrored = self(
                np.ascontiguousarray(depth_mm[:, ::-1]), mirrored_camera, centre, refine=refine, cube_mm=cube_mm
            )
            if mirrored is None:
                return None
            xyz = mirrored.xyz * [-1.0, 1.0, 1.0]
            centre = mirrored.centre_xyz * [-1.0, 1.0, 1.0]
            return replace(mirrored, xyz=xyz, uvd=xyz_to_uvd(xyz, camera), centre_xyz=centre)
        if depth_mm.ndim != 2:
            raise HandgraphError(f"expected a 2D depth frame, got shape {depth_mm.shape}")
        if camera.width and camera.height and depth_mm.shape != (camera.height, camera.width):
            raise HandgraphError(
                f"the frame is {depth_mm.shape[1]}x{depth_mm.shape[0]} but the camera is "
                f"{camera.width}x{camera.height}; check --camera or the intrinsics"
            )
        score = None
        if centre_xyz is None:
            detection = self.locate(depth_mm, camera)
            if not detection.found:
                return None
            centre, score = detection.centre_xyz, detection.score
        else:
            centre = np.asarray(centre_xyz, dtype=np.float64)
        frame = torch.tensor(depth_mm[None], dtype=torch.float32)
        cube = self.cube_mm if cube_mm is None else float(cube_mm)
        prediction = self._predict(frame, camera, centre, cube)
        for _ in range(self.refinements if (centre_xyz is None if refine is None else refine) else 0):
            prediction = self._predict(frame, camera, prediction.xyz.mean(axis=0), cube)
        return replace(prediction, support=joint_support(depth_mm, prediction.uvd), score=score)

    def crop_holds_depth(
        self, depth_mm: np.ndarray, camera: Intrinsics, centre_xyz: np.ndarray, cube_mm: float | None = None
    ) -> bool:
        """Whether the crop around ``centre_xyz`` (the model's cube unless ``cube_mm``) would hold any of the
        frame's depth: where it holds none (or the centre is not in front of the camera), predicting there is
        an error."""
        centre = np.asarray(centre_xyz, dtype=np.float64)
        if centre[2] <= 0:
            return False
        frame = torch.tensor(depth_mm[None], dtype=torch.float32)
        centre_tensor = torch.tensor(centre[None], dtype=torch.float32)
        cube = self.cube_mm if cube_mm is None else float(cube_mm)
        depth, _ = frame_crops(frame, intrinsics_tensor(camera), centre_tensor, cube, self.size)
        return _holds_depth(depth)

    def _predict(self, frame: torch.Tensor, camera: Intrinsics, centre: np.ndarray, cube_mm: float) -> Prediction:
        if centre[2] <= 0:
            raise HandgraphError(f"the hand centre must lie in front of the camera (z > 0), got {centre.tolist()}")
        centre_tensor = torch.tensor(centre[None], dtype=torch.float32)
        depth, crop = frame_crops(frame, intrinsics_tensor(camera), centre_tensor, cube_mm, self.size)
        if not _holds_depth(depth):
            raise HandgraphError(
                f"no depth within the {cube_mm:g} mm cube around the hand centre {np.round(centre, 1).tolist()}"
            )
        xyz = self.network(depth, crop)[0].astype(np.float64)
        fill = float((depth < 1).float().mean())
        return Prediction(xyz=xyz, uvd=xyz_to_uvd(xyz, camera), centre_xyz=centre, crop=crop[0].numpy(), fill=fill)


def _localizer(source, backend: str, threads: int | None) -> Localizer:
    """The learned localiser: an ``.onnx`` file runs in ONNX Runtime, and so does a folder's ``localizer.onnx``
    when the pose network does."""
    folder = Path(source) if source else shipped(LOCALIZER)
    use_onnx = folder.suffix == ".onnx" or (backend == "onnx" and (folder / "localizer.onnx").is_file())
    return Localizer(folder, "onnx" if use_onnx else "torch", threads)


def _holds_depth(crops: torch.Tensor) -> bool:
    """Whether normalised crops (``preprocess.crop``: 1 where there is no depth within the cube) hold any."""
    return not bool((crops >= 1).all())
