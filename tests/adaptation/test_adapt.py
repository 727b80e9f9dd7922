"""`handgraph adapt` as a user runs it: on the real SR305 frames, resumed after a kill, and refusing what it
cannot learn from with a message that says why."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import handgraph.adaptation.self_training as adapt_module
from handgraph.adaptation import AdaptConfig, SelectionRule, adapt
from handgraph.adaptation.frames import open_frames
from handgraph.cli import main
from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset
from handgraph.io.depth_images import read_depth
from handgraph.io.recordings import Recorder

QUICK = AdaptConfig(rounds=1, steps=2, max_steps=2, batch_size=4, min_frames=2, eval_frames=8, workers=0)
"""Two training steps on four frames: the whole path in seconds."""
EVERY_FRAME = SelectionRule(min_support=0.0, max_moved_mm=1000.0, keep_share=1.0)
"""Every hand found teaches: for tests on a few frames, where the default rule may keep too few."""


def _sr305(shared_data: Path) -> Path:
    return shared_data / "real" / "sr305" / "20210326-231615"


def test_adapting_on_the_real_sr305_frames_writes_a_model_that_records_them(tmp_path, shared_data):
    out = tmp_path / "adapted"
    state = adapt([_sr305(shared_data)], out, camera="sr305", depth_scale_mm=0.125, config=QUICK, progress=False,
                  log=lambda line: None)  # fmt: skip
    frames = sorted(_sr305(shared_data).glob("*.png"), key=lambda path: int(path.stem))
    assert state["before"]["hands"] == len(frames) and state["after"]["hands"] == len(frames)
    assert 2 <= state["rounds"][0]["used"] <= len(frames)
    meta = json.loads((out / "model" / "checkpoint.json").read_text())
    recorded = meta["train"]["adapted"]["frames"]
    assert recorded["names"] == [str(path) for path in frames] and recorded["count"] == len(frames)
    assert recorded["sha256"] == hashlib.sha256("".join(f"{path}\n" for path in frames).encode()).hexdigest()
    assert meta["written_by"]["command"]
    with pytest.raises(HandgraphError, match="finished adaptation"):
        adapt([_sr305(shared_data)], out, camera="sr305", depth_scale_mm=0.125, config=QUICK, progress=False,
              log=lambda line: None)  # fmt: skip


def test_a_run_killed_in_training_resumes_without_labelling_again(tmp_path, shared_data, monkeypatch):
    out = tmp_path / "adapted"
    real_train = adapt_module.train

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(adapt_module, "train", killed)
    with pytest.raises(KeyboardInterrupt):
        adapt([_sr305(shared_data)], out, camera="sr305", depth_scale_mm=0.125, config=QUICK, progress=False,
              log=lambda line: None)  # fmt: skip
    assert (out / "round_1" / "labels.npz").is_file() and not list(out.rglob("*.tmp"))
    assert not (out / "round_1" / "labels_parts").exists()  # the sequences' parts go once the whole is written
    spent = json.loads((out / "adapt.json").read_text())["seconds"]
    labelled = []
    monkeypatch.setattr(adapt_module, "train", real_train)
    monkeypatch.setattr(adapt_module, "label_frames", lambda *args, **kwargs: labelled.append(1) or 1 / 0)
    with pytest.raises(ZeroDivisionError):  # the labels of round 1 are read back; only "after" labels again
        adapt([_sr305(shared_data)], out, camera="sr305", depth_scale_mm=0.125, config=QUICK, progress=False,
              log=lambda line: None)  # fmt: skip
    assert len(labelled) == 1 and (out / "round_1" / "train" / "model").is_dir()
    assert json.loads((out / "adapt.json").read_text())["seconds"] > spent  # the time adds up over the runs
    with pytest.raises(HandgraphError, match="other frames"):  # another request in the same folder
        adapt([_sr305(shared_data)], out, camera="sr305", depth_scale_mm=0.125, config=AdaptConfig(steps=3),
              progress=False, log=lambda line: None)  # fmt: skip


def test_each_round_continues_from_the_last_rounds_model_unless_told_to_start_again(tmp_path, shared_data,
                                                                                   monkeypatch):  # fmt: skip
    real_train, started_from = adapt_module.train, []

    def recorded(config, *args, **kwargs):
        started_from.append(config.init_from)
        return real_train(config, *args, **kwargs)

    monkeypatch.setattr(adapt_module, "train", recorded)
    out = tmp_path / "adapted"
    state = adapt([_sr305(shared_data)], out, camera="sr305", depth_scale_mm=0.125, progress=False,
                  config=replace(QUICK, rounds=2), log=lambda line: None)  # fmt: skip
    start = state["request"]["start"]
    assert started_from == [start, str(out / "round_1" / "train" / "model")]
    restart = replace(QUICK, continue_students=False)
    assert adapt_module._student_start(restart, Path(start), out / "round_1" / "train" / "model") == Path(start)


def test_a_round_trains_longer_when_more_frames_teach_up_to_the_most_steps(tmp_path, shared_data, monkeypatch):
    defaults = AdaptConfig()  # batches of 32, half of them real crops: 16 a step
    assert adapt_module.round_steps(defaults, 467) == 400  # 12 x 467 / 16 = 350.25 draws' worth: the least
    assert adapt_module.round_steps(defaults, 2000) == 1500  # 12 x 2000 / 16
    assert adapt_module.round_steps(defaults, 2001) == 1501  # 1500.75, rounded up
    assert adapt_module.round_steps(defaults, 4283) == 3000  # 3212.25, held at max_steps
    assert adapt_module.round_steps(replace(defaults, views=0.0), 4283) == 400
    assert adapt_module.round_steps(replace(defaults, real_fraction=0.25), 2000) == 3000  # 8 real crops a step
    with pytest.raises(HandgraphError, match="max_steps"):
        AdaptConfig(steps=500, max_steps=400)

    trained = []
    real_train = adapt_module.train
    monkeypatch.setattr(adapt_module, "train", lambda config, *a, **k: trained.append(config.steps) or real_train(
        config, *a, **k))  # fmt: skip
    config = replace(QUICK, views=1.0, max_steps=10, selection=EVERY_FRAME)  # 2 real crops a step: used / 2 steps
    state = adapt([_sr305(shared_data)], tmp_path / "adapted", camera="sr305", depth_scale_mm=0.125, config=config,
                  progress=False, log=lambda line: None)  # fmt: skip
    assert state["rounds"][0]["used"] == 11 and trained == [6] and state["rounds"][0]["steps"] == 6  # 5.5 -> 6


def test_a_labelling_pass_killed_midway_resumes_at_the_next_sequence(tmp_path, shared_data, monkeypatch):
    import handgraph.adaptation.pseudo_labels as labelling
    from handgraph.inference.predictor import Predictor
    from handgraph.weights import POSE_MODEL

    raw = _raw_sr305(shared_data, 6)
    paths = [_recording(tmp_path / "a.npy", raw[:3]), _recording(tmp_path / "b.npy", raw[3:])]
    frames, predictor = open_frames(paths), Predictor(POSE_MODEL)
    whole = labelling.label_frames(frames, predictor, progress=False)
    real_sequence, calls = labelling._label_sequence, []

    def killed_in_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_sequence(*args, **kwargs)

    monkeypatch.setattr(labelling, "_label_sequence", killed_in_the_second)
    parts = tmp_path / "parts"
    with pytest.raises(KeyboardInterrupt):
        labelling.label_frames(frames, predictor, progress=False, parts=parts)
    assert sorted(path.name for path in parts.iterdir()) == ["00000.npz"]  # the first sequence, whole
    calls.clear()
    resumed = labelling.label_frames(frames, predictor, progress=False, parts=parts)
    assert len(calls) == 1  # only the second sequence was labelled again
    assert resumed.names == whole.names and resumed.frames == whole.frames == 6
    for name in ("centre_xyz", "network_xyz", "xyz", *labelling.MEASURES):
        # the same computation on the same machine, one part read back from its file: bitwise
        np.testing.assert_array_equal(getattr(resumed, name), getattr(whole, name), err_msg=name)


def _recording(path: Path, frames: np.ndarray, camera="sr305", scale: float = 0.125) -> Path:
    recorder = Recorder(path, camera_preset(camera), scale, 30.0)
    for frame in frames:
        recorder.add(frame)
    recorder.close()
    return path


def _raw_sr305(shared_data: Path, count: int) -> np.ndarray:
    frames = sorted(_sr305(shared_data).glob("*.png"), key=lambda path: int(path.stem))[:count]
    return np.stack([np.round(read_depth(path, 0.125) / 0.125).astype(np.uint16) for path in frames])


def test_frames_without_a_hand_say_so(tmp_path):
    wall = np.full((3, 480, 640), 2000 * 8, dtype=np.uint16)  # a wall 2 m away, in 0.125 mm units
    path = _recording(tmp_path / "wall.npy", wall)
    with pytest.raises(HandgraphError, match="no hand was found in any of the 3 frame"):
        adapt([path], tmp_path / "out", config=QUICK, progress=False, log=lambda line: None)


def test_a_sequence_of_one_frame_is_too_few_to_learn_from(tmp_path, shared_data):
    path = _recording(tmp_path / "one.npy", _raw_sr305(shared_data, 1))
    with pytest.raises(HandgraphError, match=r"only \d+ of 1 frame\(s\) are sure enough.*at least 20"):
        adapt([path], tmp_path / "out", config=AdaptConfig(), progress=False, log=lambda line: None)
    assert not (tmp_path / "out" / "round_1" / "crops").exists()


def test_a_recording_cut_short_is_said_and_its_whole_frames_are_used(tmp_path, shared_data):
    path = _recording(tmp_path / "cut.npy", _raw_sr305(shared_data, 4))
    with open(path, "r+b") as file:  # the writer killed in the middle of the last frame
        file.truncate(path.stat().st_size - 640 * 480)
    lines: list[str] = []
    adapt([path], tmp_path / "out", config=replace(QUICK, selection=EVERY_FRAME), progress=False, log=lines.append)
    assert any(line.startswith("skipped") and "cut.npy[3]" in line for line in lines), lines
    state = json.loads((tmp_path / "out" / "adapt.json").read_text())
    assert state["before"]["frames"] == 4 and state["before"]["hands"] == 3


def test_frames_of_another_size_or_camera_are_refused(tmp_path, shared_data):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for name in ("0.png", "20.png"):
        shutil.copy(_sr305(shared_data) / name, mixed / name)
    from PIL import Image

    Image.fromarray(np.full((240, 320), 4000, dtype=np.uint16)).save(mixed / "40.png")
    with pytest.raises(HandgraphError, match="40.png: the frame is 320x240 but the camera is 640x480"):
        adapt([mixed], tmp_path / "out", camera="sr305", depth_scale_mm=0.125, config=QUICK, progress=False,
              log=lambda line: None)  # fmt: skip
    assert not (tmp_path / "out" / "round_1" / "labels.npz").exists()
    first = _recording(tmp_path / "a.npy", _raw_sr305(shared_data, 2))
    second = _recording(tmp_path / "b.npy", _raw_sr305(shared_data, 2), scale=1.0)
    with pytest.raises(HandgraphError, match="another camera or depth scale"):
        open_frames([first, second])
    with pytest.raises(HandgraphError, match="given twice"):
        open_frames([first, first])
    with pytest.raises(HandgraphError, match="the camera is unknown"):
        open_frames([_sr305(shared_data)])


def test_the_command_line(tmp_path, shared_data, capsys):
    with pytest.raises(SystemExit) as done:
        main(["adapt", "--help"])
    assert done.value.code == 0 and "pseudo-label" in capsys.readouterr().out
    code = main(["adapt", "--input", str(_sr305(shared_data)), "--camera", "sr305", "--depth-scale", "0.125",
                 "--rounds", "1", "--steps", "2", "--max-steps", "3", "--batch-size", "4", "--min-frames", "2",
                 "--eval-frames", "8", "--workers", "0", "--out", str(tmp_path / "out")])  # fmt: skip
    printed = capsys.readouterr()
    assert code == 0 and "before: hands in 11 frame(s)" in printed.out and "wrote " in printed.out
    assert "trained 3 steps" in printed.out  # at least 2 frames teach, 2 real crops a step: 12 draws want 12+


def test_the_command_lines_most_steps_follow_steps_unless_given(tmp_path, shared_data, capsys, monkeypatch):
    import handgraph.adaptation as package

    configs = []
    monkeypatch.setattr(package, "adapt", lambda *a, config, **k: configs.append(config))
    common = ["adapt", "--input", str(_sr305(shared_data)), "--out", str(tmp_path / "out")]
    assert main([*common]) == 0 and main([*common, "--steps", "5000"]) == 0
    assert main([*common, "--steps", "500", "--max-steps", "800"]) == 0
    assert [(c.steps, c.max_steps) for c in configs] == [(400, 3000), (5000, 5000), (500, 800)]
    assert main([*common, "--steps", "500", "--max-steps", "400"]) != 0  # given, and below --steps: refused
    assert "max_steps at least steps (500)" in capsys.readouterr().err and len(configs) == 3
