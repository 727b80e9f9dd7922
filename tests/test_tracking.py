import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset
from handgraph.geometry.numerics import ulps
from handgraph.inference.localizing import HandDetection
from handgraph.inference.tracking import HandTracker, OneEuroFilter


def _one_euro_reference(samples, times, min_cutoff, beta, derivative_cutoff):
    """The filter of Casiez et al. for one scalar signal, written out step by step."""

    def alpha(cutoff, period):
        return 1.0 / (1.0 + 1.0 / (2 * math.pi * cutoff) / period)

    value, derivative, out = samples[0], 0.0, [samples[0]]
    for k in range(1, len(samples)):
        period = times[k] - times[k - 1]
        derivative = derivative + alpha(derivative_cutoff, period) * ((samples[k] - value) / period - derivative)
        value = value + alpha(min_cutoff + beta * abs(derivative), period) * (samples[k] - value)
        out.append(value)
    return np.array(out)


def test_one_euro_filter_equals_the_reference():
    rng = np.random.default_rng(0)
    times = np.cumsum(rng.uniform(0.02, 0.05, 40))
    signal = 100 * np.sin(times * 3) + rng.normal(0, 2, 40)  # one joint moving along x
    joints = np.zeros((40, 1, 3))
    joints[:, 0, 0] = signal
    smoother = OneEuroFilter(min_cutoff_hz=1.5, beta=0.02, derivative_cutoff_hz=1.0)
    got = np.array([smoother(joints[k], times[k])[0, 0] for k in range(40)])
    # the same float64 recursion written twice: a few roundings per step on values below 110, over 40 steps
    expected = _one_euro_reference(signal, times, 1.5, 0.02, 1.0)
    assert_close(got, expected, ulps(np.abs(signal).max(), np.float64, 16 * 40))
    with pytest.raises(AssertionError):  # a speed coefficient 0.1 % off is caught
        assert_close(
            got, _one_euro_reference(signal, times, 1.5, 0.02002, 1.0), ulps(np.abs(signal).max(), np.float64, 640)
        )
    assert np.abs(np.diff(got)).sum() < np.abs(np.diff(signal)).sum()  # it smooths


def test_one_euro_filter_resets_and_checks_time():
    smoother = OneEuroFilter()
    smoother(np.zeros((21, 3)), 0.0)
    with pytest.raises(HandgraphError, match="time must increase"):
        smoother(np.ones((21, 3)), 0.0)
    smoother.reset()
    np.testing.assert_array_equal(smoother(np.ones((21, 3)), 0.0), np.ones((21, 3)))
    with pytest.raises(HandgraphError, match="must be positive"):
        OneEuroFilter(min_cutoff_hz=0)


@dataclass
class _Prediction:
    xyz: np.ndarray
    support: float
    centre_xyz: np.ndarray
    uvd: np.ndarray = None
    fill: float = 0.3
    score: float | None = None


class _FakePredictor:
    """Records how it was called; the hand is at ``hand`` (mm), supported by the frame while ``supported`` says
    so. A crop centred more than ``reach`` mm from the hand holds no depth (the predictor's error), one nearer
    answers with the hand where it is."""

    cube_mm = 250.0

    def __init__(self):
        self.calls, self.centres, self.supported = [], [], True
        self.hand, self.reach = np.array([0.0, 0.0, 500.0]), 200.0
        self.localizer_sees = None  # where the localiser sees the hand: None where it is, False nowhere
        self.score = 0.9  # the localiser's score; a hand is found at 0.5 or more

    def __call__(self, depth, camera, centre_xyz=None, left=False, refine=None):
        self.calls.append("localizer" if centre_xyz is None else "centre")
        centre = self.hand if centre_xyz is None else np.asarray(centre_xyz, dtype=float)
        self.centres.append(centre)
        if np.linalg.norm(centre - self.hand) > self.reach:
            raise HandgraphError(f"no depth within the 250 mm cube around the hand centre {centre.tolist()}")
        xyz = np.tile(self.hand, (21, 1))
        return _Prediction(xyz, 1.0 if self.supported else 0.1, centre, xyz)

    def locate(self, depth, camera):
        self.calls.append("locate")
        seen = self.hand if self.localizer_sees is None else self.localizer_sees
        found = self.localizer_sees is not False and self.score >= 0.5
        return HandDetection(found, self.score, None, None if seen is False else seen)


def test_tracker_follows_the_hand_and_relocalises_when_lost():
    predictor = _FakePredictor()
    tracker = HandTracker(predictor)
    frame, camera = np.zeros((480, 640)), camera_preset("nyu")
    sources = [tracker(frame, camera, k / 30).source for k in range(3)]
    assert sources == ["localizer", "tracked", "tracked"]
    assert predictor.calls == ["localizer", "centre", "locate", "centre", "locate"]  # checked by the localiser
    predictor.supported = False  # the hand leaves: the tracked crop holds no hand, the localiser is asked
    assert tracker(frame, camera, 0.2).source == "localizer" and predictor.calls[-2:] == ["centre", "localizer"]
    predictor.supported = True
    assert tracker(frame, camera, 0.3).source == "localizer"  # lost last frame: found afresh
    assert tracker(frame, camera, 0.4).source == "tracked"


def test_the_localiser_checks_every_tracked_frame():
    predictor = _FakePredictor()
    tracker = HandTracker(predictor, no_hand_frames=3)
    frame, camera = np.zeros((480, 640)), camera_preset("nyu")
    sources = [tracker(frame, camera, k / 30).source for k in range(4)]
    assert sources == ["localizer"] + ["tracked"] * 3 and predictor.calls.count("locate") == 3
    predictor.localizer_sees = False  # the tracker follows something the localiser does not take for a hand
    kept = [tracker(frame, camera, k / 30).prediction is not None for k in range(4, 7)]
    assert kept == [True, True, False]  # one or two misses of the localiser do not drop the hand; three do
    predictor.localizer_sees = None
    assert [tracker(frame, camera, k / 30).source for k in range(7, 9)] == ["localizer", "tracked"]
    predictor.localizer_sees = predictor.hand + [150.0, 0.0, 0.0]  # the localiser sees a hand elsewhere
    switched = tracker(frame, camera, 9 / 30)
    assert switched.source == "localizer" and predictor.centres[-1][0] == predictor.hand[0] + 150.0


def test_a_tracked_hand_is_kept_while_the_localiser_scores_it_above_half_its_threshold():
    predictor = _FakePredictor()
    predictor.localizer = SimpleNamespace(config=SimpleNamespace(threshold=0.5))
    tracker = HandTracker(predictor, no_hand_frames=1, keep_score=0.5)
    frame, camera = np.zeros((480, 640)), camera_preset("nyu")
    assert [tracker(frame, camera, k / 30).source for k in range(2)] == ["localizer", "tracked"]
    predictor.score = 0.3  # under the threshold, over half of it, on the tracked hand: kept
    assert all(tracker(frame, camera, k / 30).prediction is not None for k in range(2, 6))
    predictor.localizer_sees = predictor.hand + [60.0, 0.0, 0.0]  # as sure, but more than 50 mm off: not this hand
    assert tracker(frame, camera, 6 / 30).prediction is None
    predictor.localizer_sees, predictor.score = None, 0.9
    assert [tracker(frame, camera, k / 30).source for k in range(7, 9)] == ["localizer", "tracked"]
    predictor.score = 0.2  # under half the threshold: no hand
    assert tracker(frame, camera, 9 / 30).prediction is None
    blob = _FakePredictor()  # the blob heuristic has no score: no second threshold
    assert HandTracker(blob).keep_below is None


def test_a_hand_that_left_its_crop_is_found_in_the_same_frame():
    predictor = _FakePredictor()
    tracker = HandTracker(predictor)
    frame, camera = np.zeros((480, 640)), camera_preset("nyu")
    assert tracker(frame, camera, 0.0).source == "localizer"
    predictor.hand = predictor.hand + [400.0, 0.0, 0.0]  # a flick: the tracked crop holds no depth at all
    found = tracker(frame, camera, 1 / 30)
    assert found.source == "localizer" and predictor.calls[-2:] == ["centre", "localizer"]
    np.testing.assert_array_equal(found.prediction.xyz[0], predictor.hand)


def test_a_tracked_crop_off_the_hand_is_cut_again_around_it():
    predictor = _FakePredictor()
    tracker = HandTracker(predictor, recentre=0.1)
    frame, camera = np.zeros((480, 640)), camera_preset("nyu")
    tracker(frame, camera, 0.0)
    predictor.hand = predictor.hand + [0.0, 30.0, 0.0]  # 30 mm off the expected centre: more than 0.1 x 250 mm
    before = len(predictor.centres)
    assert tracker(frame, camera, 1 / 30).source == "tracked"
    assert len(predictor.centres) == before + 2  # two crops (the localiser's check adds no crop)
    np.testing.assert_allclose(predictor.centres[-1], predictor.hand)  # the second, around the joints
    predictor.hand = predictor.hand + [0.0, 10.0, 0.0]  # 10 mm from the expected centre: one crop is enough
    before = len(predictor.centres)
    tracker(frame, camera, 2 / 30)
    assert len(predictor.centres) == before + 1


def test_a_hand_at_the_crops_edge_goes_to_the_localiser():
    predictor = _FakePredictor()
    tracker = HandTracker(predictor, max_offset=0.2, recentre=1.0)  # no second crop: the first one decides
    frame, camera = np.zeros((480, 640)), camera_preset("nyu")
    tracker(frame, camera, 0.0)
    predictor.hand = predictor.hand + [0.0, 60.0, 0.0]  # 60 mm off the crop's centre: more than 0.2 x 250 mm
    assert tracker(frame, camera, 1 / 30).source == "localizer"
    predictor.hand = predictor.hand + [0.0, 40.0, 0.0]  # within 50 mm of where the last frame had it
    assert tracker(frame, camera, 2 / 30).source == "tracked"


def test_the_crop_follows_the_hands_velocity():
    predictor = _FakePredictor()
    tracker = HandTracker(predictor)
    frame, camera = np.zeros((480, 640)), camera_preset("nyu")
    for k in range(3):  # 30 mm a frame, at 30 frames/s: 0.9 m/s
        predictor.hand = np.array([30.0 * k, 0.0, 500.0])
        tracker(frame, camera, k / 30)
    np.testing.assert_allclose(predictor.centres[-1], [60.0, 0.0, 500.0])  # predicted from frames 0 and 1
    predictor.hand = np.array([300.0, 0.0, 500.0])
    tracker(frame, camera, 10 / 30)  # 7 frames later: moved on at most half the cube, 125 mm, from 60 mm
    np.testing.assert_allclose(predictor.centres[-2], [185.0, 0.0, 500.0])


@pytest.mark.slow
def test_tracking_never_loses_a_frame_the_localiser_finds(tmp_path):
    from handgraph.inference.prediction import predict_frames
    from handgraph.synth.sequences import SequenceConfig, generate_sequence, write_sequence

    config = SequenceConfig(frames=24, fps=3.0)  # every 10th frame of a 30 frames/s camera: the hand jumps
    for index in (1, 2):  # fast flicks; leaving the view and coming back
        path = write_sequence(generate_sequence(config, 23, index), tmp_path / f"seq{index}.npy")
        tracked = predict_frames(path)["frames"]
        afresh = predict_frames(path, track=False)["frames"]
        assert not any("error" in frame for frame in tracked), [frame["error"] for frame in tracked if "error" in frame]
        missed = [
            k for k, (one, other) in enumerate(zip(tracked, afresh, strict=True)) if other["hand"] and not one["hand"]
        ]
        assert not missed, f"{path.name}: frames {missed} have a hand for the localiser but not for the tracker"


def test_a_bad_frame_in_a_sequence_is_reported_and_tracking_recovers(tmp_path, shared_data):
    from PIL import Image

    from handgraph.inference.prediction import predict_frames

    folder = tmp_path / "frames"
    folder.mkdir()
    for number in (0, 20, 40, 60, 80, 100):
        source = shared_data / "real" / "sr305" / "20210326-231615" / f"{number}.png"
        (folder / f"{number}.png").write_bytes(source.read_bytes())
    (folder / "40.png").write_bytes((folder / "40.png").read_bytes()[:200])  # cut off: fails to decode
    small = Image.open(folder / "60.png").resize((320, 240))
    small.save(folder / "60.png")  # another camera's size midway
    frames = predict_frames(folder, "sr305", depth_scale=0.125)["frames"]
    assert ["error" in frame for frame in frames] == [False, False, True, True, False, False]
    assert "40.png" in frames[2]["error"] and "320x240" in frames[3]["error"]
    assert [frame["hand"] for frame in frames] == [True, True, False, False, True, True]
    assert frames[4]["found_by"] == "localizer"  # after a bad frame the hand is looked for afresh


def test_a_recording_cut_short_gives_the_frames_it_holds(tmp_path, shared_data):
    from handgraph.inference.prediction import predict_frames
    from handgraph.io.depth_images import read_depth
    from handgraph.io.recordings import Recorder

    recorder = Recorder(tmp_path / "rec.npy", camera_preset("sr305"), 0.125, 30.0)
    for number in (0, 20, 40):
        recorder.add(read_depth(shared_data / "real" / "sr305" / "20210326-231615" / f"{number}.png").astype(np.uint16))
    recorder.close()
    data = (tmp_path / "rec.npy").read_bytes()
    (tmp_path / "rec.npy").write_bytes(data[: len(data) - 1000])  # the writer killed in the last frame
    frames = predict_frames(tmp_path / "rec.npy")["frames"]
    assert [frame["hand"] for frame in frames] == [True, True, False]
    assert "cut short: holds 2 of the 3 frames its header promises" in frames[2]["error"]
