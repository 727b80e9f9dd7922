"""Depth frames in, prediction records out: what ``handgraph predict`` does, from Python.

    from handgraph import predict_frames

    predictions = predict_frames("../shared/data/real/nyu/depth_1_0000001.png", camera="nyu")
    for frame in predictions["frames"]:
        print(frame["file"], frame["hand"], frame.get("xyz"))

The answer is the record ``handgraph predict`` writes to predictions.json (``io.predictions`` gives its schema).
One frame's way: read it (``io.depth_images``), find the hand or follow it from the last frame
(``inference.tracking``, ``inference.localizing``), crop, run the network and crop again around its joints
(``inference.predictor``), then, with ``fit``, the kinematic hand (``fitting``) and, with ``out``, the overlays.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, camera_preset, cube_side_px, xyz_to_uvd
from handgraph.inference.localizing import why_no_hand
from handgraph.inference.predictor import Predictor
from handgraph.inference.tracking import (
    SMOOTHING_BETA_S_PER_MM,
    SMOOTHING_MIN_CUTOFF_HZ,
    HandTracker,
    OneEuroFilter,
    TrackedFrame,
)
from handgraph.io.depth_images import depth_files, frame_readers, frame_stem
from handgraph.io.overlay import write_overlay
from handgraph.io.predictions import frame_record
from handgraph.io.recordings import read_recording_info
from handgraph.io.result_files import read_joint_text


class Predictions(dict):
    """The predictions.json record (a plain dict, as written), and the seconds spent predicting its frames
    (localising, both passes or tracking; no file reading or drawing)."""

    def __init__(self, record: dict, seconds: float):
        super().__init__(record)
        self.seconds = seconds

    def summary(self) -> str:
        """One line: how many frames had a hand, none, or an error, and the frames per second."""
        frames = self["frames"]
        errors = sum("error" in frame for frame in frames)
        hands = sum(frame["hand"] for frame in frames)
        rate = (len(frames) - errors) / self.seconds if self.seconds > 0 else float("nan")
        counts = f"hands in {hands} of {len(frames)} frame(s), no hand in {len(frames) - hands - errors}"
        return (
            f"{counts}, errors in {errors}; {rate:.1f} frames/s (localising, both passes or tracking, no file "
            "reading or drawing)"
        )


@dataclass
class _Run:
    """What the frames of one call share, and what they gave."""

    readers: list
    camera: Intrinsics
    predictor: Predictor
    out: Path | None
    log: Callable[[str], None]
    frames: list[dict] = field(default_factory=list)
    busy_s: float = 0.0
    hands: list[tuple[int, int, TrackedFrame]] = field(default_factory=list)
    """(position in ``frames``, frame index, tracked result) of every hand found."""


def predict_frames(
    source: str | os.PathLike,
    camera: str | Intrinsics | None = None,
    *,
    checkpoint: str | os.PathLike | None = None,
    backend: str = "torch",
    threads: int | None = None,
    localizer: str | os.PathLike | None = None,
    depth_scale: float | None = None,
    centre: Sequence[float] | None = None,
    centres: str | os.PathLike | Sequence | None = None,
    left: bool = False,
    track: bool = True,
    smooth: bool = False,
    fps: float | None = None,
    min_cutoff: float = SMOOTHING_MIN_CUTOFF_HZ,
    beta: float = SMOOTHING_BETA_S_PER_MM,
    fit: bool = False,
    refine: bool = True,
    mesh_format: str = "ply",
    out: str | os.PathLike | None = None,
    overlays: bool = True,
    log: Callable[[str], None] | None = None,
) -> Predictions:
    """The joints of the hand in every depth frame of ``source``: a depth file (16-bit PNG, NYU's RGB PNG,
    ``.npy``), a folder of them, or a ``.npy`` stack (frames, height, width), such as a recording of
    ``handgraph live``. Returns the predictions.json record (``io.predictions``), a dict, whose ``summary()``
    counts the hands and the frames per second; nothing is written to disk
    unless ``out`` is given (overlay PNGs there, and meshes with ``fit``; predictions.json is the caller's).

    ``camera``: a preset name (``geometry.camera.CAMERA_PRESETS``) or ``Intrinsics``; None takes a recording's
    own. ``depth_scale``: mm per stored unit (default: a recording's own, else 1). ``checkpoint``,
    ``backend``, ``threads``, ``localizer``: the networks (default: the shipped ones, PyTorch). ``centre``
    (x, y, z mm) for every frame, or ``centres`` (one per frame, or a file of 'x y z' lines) skip localisation.
    A folder or stack is a sequence and is tracked unless ``track`` is False; ``smooth`` filters its joints
    (One Euro: ``min_cutoff`` Hz, ``beta`` s/mm, at ``fps``, default a recording's own, else 30). ``left``:
    the frames show a left hand. ``fit``: the kinematic hand of every prediction (``refine`` against the depth,
    meshes of ``mesh_format`` in ``out``). ``log`` gets one line per event (``print`` for the command's output).
    """
    log = log or (lambda line: None)
    camera = _camera(camera, source)
    fps = _given_or_recorded(source, fps, "--fps", 2, 30.0)
    scale = _given_or_recorded(source, depth_scale, "--depth-scale", 1, 1.0)
    readers = frame_readers(depth_files(source), scale)
    given = _centres(centre, centres, [name for name, _ in readers], log)
    predictor = _predictor(checkpoint, backend, threads, localizer, fit)
    sequence = len(readers) > 1 and track
    tracker = HandTracker(predictor, OneEuroFilter(min_cutoff, beta) if smooth and sequence else None)
    run = _Run(readers, camera, predictor, None if out is None else Path(out), log)
    _track(run, tracker, given, fps, sequence, left, overlays=overlays and not fit)
    if all("error" in frame for frame in run.frames):  # nothing to return: the error is the answer
        first = run.frames[0]["error"]
        raise HandgraphError(first if len(readers) == 1 else f"no frame of {source} could be read; {first}")
    if fit and run.hands:
        _fit_hands(run, left, sequence, refine, mesh_format, overlays)
    smoothing = {"min_cutoff_hz": min_cutoff, "beta": beta, "fps": fps} if smooth else None
    return Predictions(_record(run, scale, left, sequence, smoothing), seconds=run.busy_s)


def _predictor(checkpoint, backend: str, threads: int | None, localizer, fit: bool) -> Predictor:
    """The networks, on ``threads`` threads; with ``fit``, a model whose joints the kinematic hand can fit."""
    if threads is not None and threads < 1:
        raise HandgraphError(f"--threads must be at least 1, got {threads}")
    if threads and backend == "torch":
        import torch

        torch.set_num_threads(threads)
    predictor = Predictor(checkpoint, backend=backend, threads=threads, localizer=localizer)
    if fit:
        from handgraph.fitting.targets import check_fittable

        check_fittable(predictor.layout, f"--fit with {predictor.network.source}")
    return predictor


def _record(run: _Run, depth_scale: float, left: bool, tracking: bool, smoothing: dict | None) -> dict:
    """The predictions.json record (``io.predictions``) of a run."""
    predictor = run.predictor
    return {
        "checkpoint": str(predictor.network.source),
        "backend": predictor.backend,
        "model": predictor.network.name,
        "localizer": "blob" if predictor.localizer is None else str(predictor.localizer.source),
        "localizer_backend": None if predictor.localizer is None else predictor.localizer.backend,
        "joints": list(predictor.layout.joint_names),
        "camera": run.camera.to_dict(),
        "depth_scale": depth_scale,
        "cube_mm": predictor.cube_mm,
        "left": bool(left),
        "tracking": tracking,
        "smoothing": smoothing,
        "frames": run.frames,
    }


def _camera(camera: str | Intrinsics | None, source) -> Intrinsics:
    if isinstance(camera, Intrinsics):
        return camera
    if camera is not None:
        return camera_preset(camera)
    recording = read_recording_info(source)
    if recording is None:  # only a recording of 'handgraph live' knows its camera
        raise HandgraphError("the camera is unknown: give --camera NAME or all of --fx --fy --cx --cy")
    return recording[0]


def _given_or_recorded(source, given: float | None, flag: str, field: int, default: float) -> float:
    """A positive value given, else the recording's own (field ``field`` of ``read_recording_info``), else
    ``default``."""
    if given is None:
        recording = read_recording_info(source)
        return recording[field] if recording is not None else default
    if given <= 0:
        raise HandgraphError(f"{flag} must be positive, got {given}")
    return float(given)


def _centres(centre, centres, names: list[str], log) -> list:
    """One centre (or None: localise) per frame: ``centre`` for all, or ``centres``, a sequence or a file. NYU
    frames (files named ``depth_1_0000005.png``) take the line of their number from a file of more lines, such
    as the test set's 8252 refined centres; other frames the lines in order."""
    from handgraph.datasets.nyu import frame_index

    count = len(names)
    if centre is not None:
        return [np.asarray(centre, dtype=np.float64)] * count
    if centres is None:
        return [None] * count
    if not isinstance(centres, (str, os.PathLike)):
        if len(centres) != count:
            raise HandgraphError(f"{len(centres)} centres for {count} frames; expected one per frame")
        return [np.asarray(value, dtype=np.float64) for value in centres]
    rows = read_joint_text(centres, 1)[:, 0]  # one (x, y, z) per line, with the same checks
    numbers = [frame_index(name) for name in names]
    if len(rows) > count and None not in numbers:
        if max(numbers) >= len(rows):
            last = names[numbers.index(max(numbers))]
            raise HandgraphError(f"{centres}: {len(rows)} centres, but {last} is NYU frame {max(numbers) + 1}; "
                                 "expected a line for each frame's number")  # fmt: skip
        log(f"{centres}: {len(rows)} centres; each NYU frame takes the line of its number")
        return [rows[number] for number in numbers]
    if len(rows) < count:
        raise HandgraphError(f"{centres}: {len(rows)} centres for {count} frames; expected one line per frame")
    if len(rows) > count:
        log(f"{centres}: {len(rows)} centres for {count} frame(s); using the first {count}")
    return list(rows[:count])


def _track(run: _Run, tracker: HandTracker, centres: list, fps: float, sequence: bool, left: bool,
           overlays: bool) -> None:  # fmt: skip
    """Every frame through the tracker, into ``run``; the overlays of the hands found, when ``overlays``."""
    for index, ((name, read), centre) in enumerate(zip(run.readers, centres, strict=True)):
        try:
            depth = read()
            started = time.perf_counter()
            tracked = tracker(depth, run.camera, index / fps, centre, left=left)
            run.busy_s += time.perf_counter() - started
        except HandgraphError as error:
            message = str(error) if name in str(error) else f"{name}: {error}"
            if len(run.readers) > 1:
                run.log(f"skipped {message}")
            tracker.reset()
            run.frames.append({"file": name, "hand": False, "error": message})
            continue
        if not sequence:
            tracker.reset()  # unrelated frames: every one is localised afresh
        run.frames.append(frame_record(name, tracked.prediction, tracked.source))
        if tracked.prediction is None:
            reason = why_no_hand(depth)
            if reason:
                run.frames[-1]["note"] = reason
            run.log(f"{name}: no hand" + (f" ({reason})" if reason else ""))
            continue
        run.hands.append((len(run.frames) - 1, index, tracked))
        if overlays and run.out is not None:
            _write_overlay(run, name, depth, tracked)


def _fit_hands(run: _Run, left: bool, sequence: bool, refine: bool, mesh_format: str, overlays: bool) -> None:
    """The kinematic fit of every predicted hand, in place in ``run.frames``, with its mesh and overlay."""
    from handgraph.fitting.frames import FrameCrop, refine_fits, write_meshes
    from handgraph.fitting.result import fit_layout_joints, mirrored_model

    started, camera, predictor = time.perf_counter(), run.camera, run.predictor
    joints = np.stack([tracked.prediction.xyz for _, _, tracked in run.hands])
    mirrored = mirrored_model(left, camera.fx, camera.fy)
    fits = fit_layout_joints(joints, predictor.layout, mirrored, sequence, source="the predicted joints")
    solved = time.perf_counter()
    if refine:

        def crop_of(k: int) -> FrameCrop:
            _, reader, tracked = run.hands[k]
            return FrameCrop(run.readers[reader][1](), camera, tracked.prediction.centre_xyz, predictor.cube_mm)

        fits = refine_fits(fits, crop_of, progress=len(run.hands) > 16)
    refined = time.perf_counter()
    names = [run.readers[reader][0] for _, reader, _ in run.hands]
    paths = [None if run.out is None else run.out / f"{frame_stem(name)}_hand.{mesh_format}" for name in names]
    write_meshes(fits, paths, progress=len(run.hands) > 16)
    meshed = time.perf_counter()
    for k, (position, reader, tracked) in enumerate(run.hands):
        run.frames[position]["fit"] = fits.record(k, mesh=None if paths[k] is None else paths[k].name)
        if overlays and run.out is not None:
            _write_overlay(run, names[k], run.readers[reader][1](), tracked, _fit_drawing(fits, k, camera))
    count = len(run.hands)
    run.log(
        f"fitted {count} hand(s): inverse kinematics {1000 * (solved - started) / count:.1f} ms/hand"
        + ("" if not refine else f", refinement against the depth {1000 * (refined - solved) / count:.0f} ms/frame")
        + f", meshes {1000 * (meshed - refined) / count:.0f} ms/hand ({mesh_format})"
    )


def _fit_drawing(fits, k: int, camera: Intrinsics):
    from handgraph.fitting.mesh import hand_mesh
    from handgraph.io.overlay import FitDrawing

    mesh = hand_mesh(fits.x[k], bool(fits.mirrored[k]), spacing_mm=4.0)
    xyz = fits.xyz[k]
    return FitDrawing(
        uvd=xyz_to_uvd(xyz, camera), xyz=xyz, vertices=np.asarray(mesh.vertices), faces=np.asarray(mesh.faces),
        fx=camera.fx, fy=camera.fy, cx=camera.cx, cy=camera.cy, angles_deg=fits.record(k)["angles_deg"],
    )  # fmt: skip


def _write_overlay(run: _Run, name: str, depth: np.ndarray, tracked: TrackedFrame, fit=None) -> None:
    """``out/<frame>_overlay.png``: the joints on the depth, the crop, and the fitted hand when there is one."""
    prediction, predictor = tracked.prediction, run.predictor
    path = run.out / f"{frame_stem(name)}_overlay.png"
    centre_uvd = xyz_to_uvd(prediction.centre_xyz, run.camera)
    box = cube_side_px(run.camera, predictor.cube_mm, prediction.centre_xyz[2])
    title = f"{path.stem.removesuffix('_overlay')}: {predictor.network.name}, crop {tracked.source}"
    write_overlay(path, depth, prediction.uvd, centre_uvd, box, predictor.layout, title, fit)
    run.log(f"{name}: wrote {path}")
