"""A live depth camera: read frames, track the hand, draw the skeleton in a window, record what was seen.

Sources are anything with ``camera``, ``depth_scale_mm``, ``fps`` and ``frames()`` (raw uint16 frames):
:class:`RealSenseSource` reads an Intel RealSense through ``pyrealsense2`` (the optional extra
``pip install 'handgraph[realsense]'``); :class:`ReplaySource` plays back a recording, which is how the loop is
tested without a camera. A recording is a ``.npy`` stack (frames, height, width) of the camera's raw depth
units with a ``.json`` beside it (intrinsics, depth scale, frame rate), so ``handgraph predict --input
rec.npy`` reads it back with its camera.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics
from handgraph.inference.tracking import TrackedFrame
from handgraph.io.recordings import Recorder, read_recording_info, recording_sidecar


@dataclass
class ReplaySource:
    """A recording played back as a camera (at its frame rate with ``paced``, else as fast as it is read)."""

    path: Path
    paced: bool = False

    def __post_init__(self) -> None:
        if not Path(self.path).is_file():
            raise HandgraphError(f"{self.path}: no such recording")
        info = read_recording_info(self.path)
        if info is None:
            raise HandgraphError(f"{self.path}: no {recording_sidecar(self.path).name} beside it; not a recording")
        self.camera, self.depth_scale_mm, self.fps = info

    def frames(self) -> Iterator[np.ndarray]:
        from handgraph.io.depth_images import frame_readers

        for _, read in frame_readers([Path(self.path)]):
            if self.paced:
                time.sleep(1.0 / self.fps)
            yield read().astype(np.uint16)


class RealSenseSource:
    """An Intel RealSense depth stream through pyrealsense2 (z16 frames, the device's own depth scale)."""

    def __init__(self, width: int = 640, height: int = 480, fps: float = 30.0):
        try:
            import pyrealsense2 as realsense
        except ImportError as error:
            raise HandgraphError(
                f"reading a RealSense needs pyrealsense2 ({error}): pip install 'handgraph[realsense]', which on "
                "Linux needs libusb too (apt-get install libusb-1.0-0); or replay a recording with --replay FILE.npy"
            ) from None
        self._rs = realsense
        if len(realsense.context().query_devices()) == 0:
            raise HandgraphError("no RealSense camera is connected (or it is busy in another program)")
        self._pipeline = realsense.pipeline()
        config = realsense.config()
        config.enable_stream(realsense.stream.depth, width, height, realsense.format.z16, int(fps))
        try:
            profile = self._pipeline.start(config)
        except RuntimeError as error:
            message = f"the RealSense refused a {width}x{height} depth stream at {fps:g} frames/s: {error}"
            raise HandgraphError(message) from None
        self.depth_scale_mm = 1000.0 * profile.get_device().first_depth_sensor().get_depth_scale()
        intrinsics = profile.get_stream(realsense.stream.depth).as_video_stream_profile().get_intrinsics()
        self.camera = Intrinsics(
            intrinsics.fx, intrinsics.fy, intrinsics.ppx, intrinsics.ppy, intrinsics.width, intrinsics.height
        )
        self.fps = fps

    def frames(self) -> Iterator[np.ndarray]:
        try:
            while True:
                try:
                    frame = self._pipeline.wait_for_frames().get_depth_frame()
                except RuntimeError as error:  # pyrealsense2's time-out: unplugged, or the stream stopped
                    raise HandgraphError(f"the RealSense stopped sending frames ({error})") from None
                if frame:
                    yield np.asanyarray(frame.get_data()).copy()
        finally:
            self._pipeline.stop()


class SkeletonWindow:
    """A matplotlib window showing the depth frame and the skeleton, redrawn in place for every frame."""

    def __init__(self, layout, title: str = "handgraph live"):
        import matplotlib.pyplot as plt

        from handgraph.io.overlay import bone_colour

        try:
            plt.switch_backend(os.environ.get("HANDGRAPH_LIVE_BACKEND", "TkAgg"))
            self.figure, self.axes = plt.subplots(figsize=(8, 6))
        except Exception as error:  # no display, or no Tk: say so instead of a traceback
            raise HandgraphError(f"cannot open a window ({type(error).__name__}: {error}); use --no-window") from None
        self._plt = plt
        plt.ion()
        self.figure.canvas.manager.set_window_title(title)
        self.axes.set_axis_off()
        self.image = None
        self.layout = layout
        self.lines = [
            self.axes.plot([], [], color=bone_colour(layout, child), linewidth=2)[0] for _, child in layout.bones
        ]
        self.text = self.axes.text(5, 20, "", color="white", fontsize=10)

    def show(self, depth_mm: np.ndarray, uvd: np.ndarray | None, status: str) -> bool:
        """Draw one frame; False once the window has been closed."""
        from handgraph.io.overlay import depth_display

        shown = depth_display(depth_mm, 200.0, 1500.0)
        if self.image is None:
            self.image = self.axes.imshow(shown, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        else:
            self.image.set_data(shown)
        for line, (parent, child) in zip(self.lines, self.layout.bones, strict=True):
            line.set_data(([], []) if uvd is None else (uvd[[parent, child], 0], uvd[[parent, child], 1]))
        self.text.set_text(status)
        self._plt.pause(0.001)
        return self._plt.fignum_exists(self.figure.number)


@dataclass
class LiveSummary:
    frames: int
    hands: int
    seconds: float


def run_live(source, tracker, window=None, recorder: Recorder | None = None, max_frames: int | None = None,
             on_frame=None) -> LiveSummary:  # fmt: skip
    """Track the hand through ``source``'s frames until it ends, ``max_frames`` are read, the window closes,
    or Ctrl-C; every frame goes to ``recorder`` (raw) and to ``on_frame(index, tracked)``. ``tracker`` is a
    ``tracking.HandTracker`` (called with depth, camera and time, and ``reset()``)."""
    count, hands, started = 0, 0, time.perf_counter()
    try:
        for raw in source.frames():
            if recorder is not None:
                recorder.add(raw)
            depth = raw.astype(np.float64) * source.depth_scale_mm
            try:
                tracked = tracker(depth, source.camera, count / source.fps)
            except HandgraphError:  # a frame the predictor refuses (say, nothing in the crop): no hand there
                tracker.reset()
                tracked = TrackedFrame(None, "error")
            hands += tracked.prediction is not None
            if on_frame is not None:
                on_frame(count, tracked)
            count += 1
            if window is not None:
                elapsed = time.perf_counter() - started
                uvd = None if tracked.prediction is None else tracked.prediction.uvd
                found = "no hand" if uvd is None else f"hand ({tracked.source})"
                status = f"{count / elapsed:.1f} frames/s, {found}"
                if not window.show(depth, uvd, status):
                    break
            if max_frames is not None and count >= max_frames:
                break
    except KeyboardInterrupt:
        pass
    finally:
        if recorder is not None:
            recorder.close()
    return LiveSummary(count, hands, time.perf_counter() - started)
