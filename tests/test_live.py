"""The live loop with a recorded stream standing in for the camera, and the RealSense source against a stand-in
of pyrealsense2's API (no camera is attached to these machines)."""

import json
import sys
import types

import numpy as np
import pytest
from tolerance import assert_close

from handgraph.cli import main
from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset
from handgraph.geometry.numerics import ulps
from handgraph.inference.live import RealSenseSource, ReplaySource, run_live
from handgraph.io.depth_images import read_depth
from handgraph.io.recordings import Recorder

SEQUENCE = "real/sr305/20210326-231615"


@pytest.fixture(scope="module")
def recording(shared_data, tmp_path_factory):
    """Four frames of the real SR305 sequence as a recording of 'handgraph live' (raw 0.125 mm units)."""
    path = tmp_path_factory.mktemp("rec") / "rec.npy"
    recorder = Recorder(path, camera_preset("sr305"), 0.125, 30.0)
    frames = [read_depth(shared_data / SEQUENCE / f"{k}.png").astype(np.uint16) for k in (0, 20, 40, 60)]
    for frame in frames:
        recorder.add(frame)
    recorder.close()
    return path, np.stack(frames)


def test_a_recording_is_a_npy_stack_with_its_camera(recording):
    path, frames = recording
    np.testing.assert_array_equal(np.load(path), frames)
    info = json.loads(path.with_suffix(".json").read_text())
    assert info["depth_scale_mm"] == 0.125 and info["camera"]["fx"] == 476.0068
    assert sorted(item.name for item in path.parent.iterdir()) == ["rec.json", "rec.npy"]  # no temporary left


def test_recorder_refuses_a_frame_of_another_size(tmp_path):
    recorder = Recorder(tmp_path / "r.npy", camera_preset("sr305"), 0.125, 30.0)
    recorder.add(np.zeros((4, 6), dtype=np.uint16))
    with pytest.raises(HandgraphError, match=r"frame 1 is \(4, 5\), expected \(4, 6\)"):
        recorder.add(np.zeros((4, 5), dtype=np.uint16))
    recorder.close()


def test_live_replays_records_and_predict_reads_the_recording_back(recording, tmp_path, capsys):
    path, frames = recording
    again = tmp_path / "again.npy"
    arguments = ["live", "--replay", str(path), "--no-window", "--record", str(again), "--out", str(tmp_path)]
    assert main([*arguments, "--frames", "3"]) == 0
    assert "3 frame(s), a hand in 3" in capsys.readouterr().out
    np.testing.assert_array_equal(np.load(again), frames[:3])
    live = json.loads((tmp_path / "predictions.json").read_text())["frames"]
    assert live[0]["found_by"] == "localizer" and all(frame["hand"] for frame in live)
    # predict takes the recording's camera and depth scale from again.json and tracks the same way
    assert main(["predict", "--input", str(again), "--out", str(tmp_path / "p"), "--no-overlays"]) == 0
    assert "hands in 3 of 3 frame(s)" in capsys.readouterr().out
    predicted = json.loads((tmp_path / "p" / "predictions.json").read_text())["frames"]
    # the same frames through the same network and tracking; 3 decimals in predictions.json may round a few
    # float32 ulps (at coordinates below 1000 mm) apart to neighbouring thousandths
    assert_close(predicted[2]["xyz"], live[2]["xyz"], 1e-3 + ulps(1000.0, np.float32, 8))


def _fake_pyrealsense2(frames, scale_m=0.000125):
    """A stand-in for pyrealsense2 with the calls RealSenseSource makes, serving ``frames``."""
    module = types.ModuleType("pyrealsense2")
    intrinsics = types.SimpleNamespace(fx=476.0, fy=476.5, ppx=313.7, ppy=242.8, width=640, height=480)
    profile = types.SimpleNamespace(
        get_device=lambda: types.SimpleNamespace(
            first_depth_sensor=lambda: types.SimpleNamespace(get_depth_scale=lambda: scale_m)
        ),
        get_stream=lambda stream: types.SimpleNamespace(
            as_video_stream_profile=lambda: types.SimpleNamespace(get_intrinsics=lambda: intrinsics)
        ),
    )
    served = iter(frames)

    class Pipeline:
        stopped = False

        def start(self, config):
            assert config.streams == [("depth", 640, 480, "z16", 30)]
            return profile

        def wait_for_frames(self):
            frame = next(served, None)
            if frame is None:
                raise RuntimeError("Frame didn't arrive within 5000")
            depth = types.SimpleNamespace(get_data=lambda: frame)
            return types.SimpleNamespace(get_depth_frame=lambda: depth)

        def stop(self):
            Pipeline.stopped = True

    class Config:
        def __init__(self):
            self.streams = []

        def enable_stream(self, *stream):
            self.streams.append(stream)

    module.pipeline, module.config, module.Pipeline = Pipeline, Config, Pipeline
    module.context = lambda: types.SimpleNamespace(query_devices=lambda: ["SR305"])
    module.stream = types.SimpleNamespace(depth="depth")
    module.format = types.SimpleNamespace(z16="z16")
    return module


def test_realsense_source_reads_intrinsics_scale_and_frames(monkeypatch, recording):
    _, frames = recording
    fake = _fake_pyrealsense2(list(frames[:2]))
    monkeypatch.setitem(sys.modules, "pyrealsense2", fake)
    source = RealSenseSource()
    # metres per unit (0.000125) times 1000: a float64 rounding of 0.125
    assert_close(source.depth_scale_mm, 0.125, ulps(0.125, np.float64, 2))
    assert source.camera.fy == 476.5
    seen = []

    class NoHand:
        def __call__(self, depth, camera, time_s):
            return types.SimpleNamespace(prediction=None)

        def reset(self):
            pass

    no_hand = NoHand()
    summary = run_live(source, no_hand, max_frames=2, on_frame=lambda index, tracked: seen.append(index))
    assert summary.frames == 2 and seen == [0, 1] and fake.Pipeline.stopped
    with pytest.raises(HandgraphError, match="the RealSense stopped sending frames"):  # unplugged mid-stream
        run_live(source, no_hand)


def test_realsense_without_the_package_or_a_camera(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyrealsense2", None)  # import fails as when it is not installed
    with pytest.raises(HandgraphError, match=r"pip install 'handgraph\[realsense\]'"):
        RealSenseSource()
    fake = _fake_pyrealsense2([])
    fake.context = lambda: types.SimpleNamespace(query_devices=lambda: [])
    monkeypatch.setitem(sys.modules, "pyrealsense2", fake)
    with pytest.raises(HandgraphError, match="no RealSense camera is connected"):
        RealSenseSource()


def test_replay_needs_a_recording(tmp_path):
    np.save(tmp_path / "plain.npy", np.zeros((2, 4, 4), dtype=np.uint16))
    with pytest.raises(HandgraphError, match="no plain.json beside it"):
        ReplaySource(tmp_path / "plain.npy")


def test_window_draws_the_skeleton(monkeypatch, recording):
    # Agg stands in for the screen: the same drawing code, no display needed
    monkeypatch.setenv("HANDGRAPH_LIVE_BACKEND", "Agg")
    import warnings

    from handgraph.geometry.skeleton import HAND
    from handgraph.inference.live import SkeletonWindow

    _, frames = recording
    window = SkeletonWindow(HAND)
    uvd = np.random.default_rng(0).uniform(100, 400, (21, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Agg says it cannot show a window
        assert window.show(frames[0] * 0.125, uvd, "30 frames/s")
    parent, child = HAND.bones[3]
    np.testing.assert_array_equal(np.asarray(window.lines[3].get_xdata()), uvd[[parent, child], 0])  # copied
    assert window.text.get_text() == "30 frames/s"
    window.show(frames[1] * 0.125, None, "no hand")
    assert len(window.lines[3].get_xdata()) == 0
    import matplotlib.pyplot as plt

    plt.close(window.figure)
    plt.switch_backend("Agg")
