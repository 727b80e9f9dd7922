import dataclasses
import json

import numpy as np
import pytest
from PIL import Image
from tolerance import assert_close

from handgraph.cli import main
from handgraph.geometry.numerics import RUNTIME_AGREEMENT_ULPS, ulps
from handgraph.inference.tracking import SMOOTHING_MIN_CUTOFF_HZ


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "tiny"
    assert main(["train", "--config", "tiny", "--out", str(out), "--no-progress"]) == 0
    return out


def _error(capsys, arguments) -> str:
    try:
        code = main(arguments)
    except SystemExit as exit_info:
        code = exit_info.code
    assert code != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_train_writes_a_run(tiny_run, capsys):
    assert (tiny_run / "model" / "checkpoint.json").is_file()
    assert any((tiny_run / "tensorboard").iterdir())
    meta = json.loads((tiny_run / "model" / "checkpoint.json").read_text())
    assert meta["step"] == 6 and meta["model"]["name"] == "hgt_interleaved" and "mean_mm" in meta["metrics"]


def test_evaluate_a_checkpoint(tiny_run, tmp_path, capsys):
    arguments = ["evaluate", "--checkpoint", str(tiny_run / "model"), "--data", "synthetic:test", "--frames", "16"]
    arguments += [
        "--json",
        str(tmp_path / "r.json"),
        "--plots",
        str(tmp_path),
        "--predictions",
        str(tmp_path / "p.txt"),
    ]
    assert main([*arguments, "--overlays", str(tmp_path / "o.png")]) == 0
    out = capsys.readouterr().out
    assert "Synthetic benchmark" in out and "hgt_interleaved (step 6)" in out
    entry = json.loads((tmp_path / "r.json").read_text())[0]
    assert entry["frames"] == 16 and len(entry["per_joint_mm"]) == 21
    lines = (tmp_path / "p.txt").read_text().splitlines()
    assert len(lines) == 16 and len(lines[0].split()) == 63
    for name in ("o.png", "success_curves.png", "per_joint_errors.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG"


def test_predict_on_the_real_nyu_frame(tiny_run, tmp_path, shared_data, capsys):
    frame = shared_data / "real/nyu/depth_1_0000001.png"
    arguments = ["predict", "--checkpoint", str(tiny_run / "model"), "--input", str(frame), "--camera", "nyu"]
    assert main([*arguments, "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "predictions.json").read_text())
    assert result["joints"][0] == "wrist" and len(result["frames"]) == 1
    xyz = np.array(result["frames"][0]["xyz"])
    assert xyz.shape == (21, 3) and np.isfinite(xyz).all()
    assert (
        np.abs(xyz.mean(axis=0) - [-133.0, -13.0, 762.0]).max() < 150.0
    )  # near the hand, wherever the tiny model puts it
    with Image.open(tmp_path / "depth_1_0000001_overlay.png") as image:
        assert image.format == "PNG"


def test_predict_with_centres_from_a_file(tiny_run, tmp_path, shared_data, capsys):
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "a.png").write_bytes((shared_data / "real/nyu/depth_1_0000001.png").read_bytes())
    arguments = ["predict", "--checkpoint", str(tiny_run / "model"), "--input", str(frames), "--camera", "nyu"]
    centres = shared_data / "real/nyu/center_test_refined.txt"  # 8252 lines: the first is frame 1's
    assert main([*arguments, "--centers", str(centres), "--out", str(tmp_path / "out"), "--no-overlays"]) == 0
    frame = json.loads((tmp_path / "out" / "predictions.json").read_text())["frames"][0]
    # predictions.json keeps 3 decimals: half a unit of the last one, plus float64's ulps
    assert_close(frame["centre_xyz"], np.loadtxt(centres, max_rows=1), 5e-4 + ulps(1000.0, np.float64, 4))
    # an NYU frame (named as NYU names them) takes the line of its number from the test set's full file
    named = tmp_path / "named"
    named.mkdir()
    (named / "depth_1_0000003.png").write_bytes((frames / "a.png").read_bytes())
    by_number = [*arguments[:4], str(named), *arguments[5:], "--centers", str(centres), "--no-overlays"]
    assert main([*by_number, "--out", str(tmp_path / "by_number")]) == 0
    assert "each NYU frame takes the line of its number" in capsys.readouterr().out
    frame = json.loads((tmp_path / "by_number" / "predictions.json").read_text())["frames"][0]
    assert_close(frame["centre_xyz"], np.loadtxt(centres, skiprows=2, max_rows=1), 5e-4 + ulps(1000.0, np.float64, 4))
    (named / "depth_1_0000003.png").rename(named / "depth_1_0009000.png")
    error = _error(capsys, [*by_number, "--out", str(tmp_path / "x")])
    assert "8252 centres, but" in error and "depth_1_0009000.png is NYU frame 9000; expected a line for each" in error
    (tmp_path / "none.txt").write_text("")
    assert "holds no frames" in _error(capsys, [*arguments, "--centers", str(tmp_path / "none.txt")])


def test_left_hands_are_mirrored_frames(tiny_run, shared_data):
    # Predicting a frame as a left hand equals predicting its mirror image as a right hand, mirrored back.
    from handgraph.geometry.camera import camera_preset
    from handgraph.inference.predictor import Predictor
    from handgraph.io.depth_images import read_depth

    predictor = Predictor(tiny_run / "model")
    depth = read_depth(shared_data / "real/nyu/depth_1_0000001.png")
    camera = camera_preset("nyu")
    as_left = predictor(depth, camera, left=True)
    mirrored_camera = dataclasses.replace(camera, cx=depth.shape[1] - 1 - camera.cx)
    as_right = predictor(np.ascontiguousarray(depth[:, ::-1]), mirrored_camera)
    # the predictor does exactly what this test does (mirror, predict, mirror back): bitwise, and u is
    # projected again from the mirrored xyz in float64
    np.testing.assert_array_equal(as_left.xyz, as_right.xyz * [-1, 1, 1])
    assert_close(as_left.uvd[:, 0], depth.shape[1] - 1 - as_right.uvd[:, 0], ulps(640.0, np.float64, 16))


def test_predict_reports_frames_without_a_hand(tiny_run, tmp_path, shared_data, capsys):
    # An empty frame, and a frame of 65,535 mm everywhere (past any sensor's range), hold no hand: they get
    # "hand": false, not a skeleton and not an error; the real frame between them gets its hand.
    np.save(tmp_path / "1_empty.npy", np.zeros((480, 640)))
    (tmp_path / "2_real.png").write_bytes((shared_data / "real/nyu/depth_1_0000001.png").read_bytes())
    np.save(tmp_path / "3_far.npy", np.full((480, 640), 65535, dtype=np.uint16))
    arguments = ["predict", "--checkpoint", str(tiny_run / "model"), "--input", str(tmp_path), "--camera", "nyu"]
    assert main([*arguments, "--out", str(tmp_path / "out"), "--no-overlays", "--no-track"]) == 0
    out = capsys.readouterr().out
    assert "1_empty.npy: no hand" in out and "3_far.npy: no hand" in out
    assert "hands in 1 of 3 frame(s), no hand in 2, errors in 0" in out
    frames = json.loads((tmp_path / "out" / "predictions.json").read_text())["frames"]
    assert [frame["hand"] for frame in frames] == [False, True, False]
    assert "xyz" not in frames[0] and len(frames[1]["xyz"]) == 21 and frames[1]["found_by"] == "localizer"


def test_predict_bad_inputs(tiny_run, tmp_path, shared_data, capsys):
    checkpoint = ["--checkpoint", str(tiny_run / "model")]
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    Image.new("L", (64, 48)).save(tmp_path / "gray.png")
    np.save(tmp_path / "stack.npy", np.zeros((3, 480, 640), dtype=np.uint16))
    stack = (tmp_path / "stack.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(stack[: len(stack) // 2])  # a recording that stopped mid-frame
    cases = [
        (["--input", str(tmp_path / "broken.png"), "--camera", "nyu"], "broken.png: not a readable PNG"),
        (["--input", str(tmp_path / "gray.png"), "--camera", "nyu"], "PNG mode 'L'"),
    ]
    for arguments, message in cases:  # a single frame that cannot be read: the error, and nothing written
        assert message in _error(capsys, ["predict", *checkpoint, *arguments, "--out", str(tmp_path / "o")])
        assert not (tmp_path / "o").exists()
    arguments = ["predict", *checkpoint, "--input", str(tmp_path / "cut.npy"), "--camera", "nyu", "--out"]
    assert main([*arguments, str(tmp_path / "cut")]) == 0  # the frame it holds, then the rest reported missing
    frames = json.loads((tmp_path / "cut" / "predictions.json").read_text())["frames"]
    assert [frame["hand"] for frame in frames] == [False, False] and "error" not in frames[0]
    assert "cut.npy: cut short: holds 1 of the 3 frames its header promises" in frames[1]["error"]
    assert "give --camera NAME or all of --fx --fy --cx --cy" in _error(
        capsys, ["predict", *checkpoint, "--input", str(tmp_path / "gray.png"), "--fx", "500"]
    )
    assert "no such file or folder" in _error(
        capsys, ["predict", *checkpoint, "--input", str(tmp_path / "nope.png"), "--camera", "nyu"]
    )
    frame = tmp_path / "nyu.png"
    frame.write_bytes((shared_data / "real/nyu/depth_1_0000001.png").read_bytes())
    assert "the frame is 640x480 but the camera is 320x240" in _error(
        capsys, ["predict", *checkpoint, "--input", str(frame), "--camera", "icvl", "--out", str(tmp_path / "o")]
    )
    assert "fx and fy must be non-zero" in _error(
        capsys, ["predict", *checkpoint, "--input", str(frame), "--fx", "0", "--fy", "1", "--cx", "1", "--cy", "1"]
    )
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck" / "checkpoint.json").write_text(json.dumps({"format": "handgraph-checkpoint", "version": 1}))
    message = _error(
        capsys,
        ["predict", "--checkpoint", str(tmp_path / "ck"), "--input", str(tmp_path / "gray.png"), "--camera", "nyu"],
    )
    assert "missing key(s) model, step" in message


def test_train_bad_config(tmp_path, capsys):
    assert "unknown key 'model.depth'" in _error(
        capsys, ["train", "--config", "tiny", "--set", "model.depth=3", "--out", str(tmp_path)]
    )
    assert "neither a preset" in _error(capsys, ["train", "--config", "huge", "--out", str(tmp_path)])


def test_export_then_predict_with_onnx_runtime(tiny_run, tmp_path, shared_data, capsys):
    onnx_file = tmp_path / "tiny.onnx"
    assert main(["export", "--checkpoint", str(tiny_run / "model"), "--onnx", str(onnx_file)]) == 0
    assert "largest xyz difference" in capsys.readouterr().out
    frame = shared_data / "real/nyu/depth_1_0000001.png"
    common = ["predict", "--input", str(frame), "--camera", "nyu", "--no-overlays"]
    assert main([*common, "--checkpoint", str(tiny_run / "model"), "--out", str(tmp_path / "torch")]) == 0
    assert main([*common, "--backend", "onnx", "--checkpoint", str(onnx_file), "--out", str(tmp_path / "onnx")]) == 0
    results = [json.loads((tmp_path / name / "predictions.json").read_text()) for name in ("torch", "onnx")]
    assert results[1]["backend"] == "onnx" and results[1]["model"] == "hgt_interleaved"
    # two passes (the second crop is centred on the first's joints), each within the runtimes' float32
    # agreement at coordinates below 1000 mm, then 3 decimals in predictions.json
    bound = 1e-3 + ulps(1000.0, np.float32, 2 * RUNTIME_AGREEMENT_ULPS)
    assert_close(results[1]["frames"][0]["xyz"], results[0]["frames"][0]["xyz"], bound)
    assert "export it first" in _error(capsys, [*common, "--backend", "onnx", "--checkpoint", str(tiny_run / "model")])
    assert "ending in .onnx" in _error(capsys, ["export", "--checkpoint", str(tiny_run / "model"), "--onnx", "m.txt"])


def test_predict_tracks_and_smooths_the_real_sr305_sequence(tmp_path, shared_data, capsys):
    # The shipped model and localiser on the real RealSense sequence: named 0.png, 20.png, ..., 220.png, taken in
    # natural order; the hand is found on the first frame, then followed from frame to frame.
    sequence = shared_data / "real/sr305/20210326-231615"
    arguments = ["predict", "--input", str(sequence), "--camera", "sr305", "--depth-scale", "0.125", "--smooth"]
    assert main([*arguments, "--out", str(tmp_path), "--no-overlays"]) == 0
    out = capsys.readouterr().out
    assert "hands in 11 of 11 frame(s), no hand in 0, errors in 0" in out and "frames/s" in out
    result = json.loads((tmp_path / "predictions.json").read_text())
    frames = result["frames"]
    assert [frame["file"].rsplit("/", 1)[1] for frame in frames[:3]] == ["0.png", "20.png", "40.png"]
    sources = [frame["found_by"] for frame in frames]  # every frame keeps its hand, tracked or found afresh
    assert sources[0] == "localizer" and "tracked" in sources and set(sources) == {"localizer", "tracked"}
    assert result["tracking"] and result["smoothing"]["min_cutoff_hz"] == SMOOTHING_MIN_CUTOFF_HZ
    assert all(frame["support"] >= 0.5 for frame in frames)  # the skeletons lie on a surface, not in the air
