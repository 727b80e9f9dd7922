"""``handgraph evaluate --checkpoint ... --data nyu:test --root DIR`` on a one-frame NYU copy made of the real
frame: the community result file it writes scores the same through ``evaluate --dataset``."""

import json

import numpy as np
from minis import write_one_frame_nyu
from tolerance import assert_close

from handgraph.cli import main
from handgraph.predictor import DEFAULT_CHECKPOINT


def _evaluate(root, *more):
    """``handgraph evaluate`` of the shipped checkpoint on the one-frame NYU copy at ``root``."""
    return main(["evaluate", "--checkpoint", str(DEFAULT_CHECKPOINT), "--data", "nyu:test", "--root", str(root), *more])


def test_score_the_shipped_model_on_nyu_and_rescore_its_result_file(shared_data, tmp_path, capsys):
    truth = write_one_frame_nyu(shared_data, tmp_path / "nyu")
    centres = tmp_path / "centres.txt"
    centres.write_text((shared_data / "real/nyu/center_test_refined.txt").read_text().splitlines()[0] + "\n")
    published = tmp_path / "V2V_line1.txt"
    published.write_text((shared_data / "eval/results/nyu/CVPR18_NYU_V2V_PoseNet.txt").read_text().splitlines()[0])
    outputs = ["--predictions", str(tmp_path / "ours.txt"), "--json", str(tmp_path / "r.json")]
    assert _evaluate(tmp_path / "nyu", "--centers", str(centres), *outputs, "--compare", str(published)) == 0
    out = capsys.readouterr().out
    assert "NYU test set: 14 joints, 1 ground-truth frames" in out and "V2V_line1" in out
    assert "palm_centre has no canonical twin" in out
    ours = json.loads((tmp_path / "r.json").read_text())[0]["mean_mm"]
    assert 5.0 < ours < 40.0  # the shipped model on a real frame, from the published refined centre
    (tmp_path / "gt.txt").write_text(" ".join(f"{value:.4f}" for value in truth.reshape(-1)) + "\n")
    lines = (tmp_path / "ours.txt").read_text().splitlines()
    assert len(lines) == 1 and len(lines[0].split()) == 42
    assert main(["evaluate", "--dataset", "nyu", "--gt", str(tmp_path / "gt.txt"), str(tmp_path / "ours.txt"),
                 "--json", str(tmp_path / "again.json")]) == 0  # fmt: skip
    again = json.loads((tmp_path / "again.json").read_text())[0]["mean_mm"]
    # the file holds what was scored, to its printed precision (not arithmetic): u, v (pixels) and d (mm) with
    # 3 decimals, the truth with 4. A change h in u moves x by h z / |fx|, in d moves x, y by h |u - cx| / |fx|
    # (< h, as |u - cx| < |fx|) and z by h: an error moves by at most h (2 z / f + 3), f the smaller focal length
    reach = 2 * truth[..., 2].max() / 587.07 + 3
    assert_close(again, ours, (5e-4 + 5e-5) * reach)


def test_centres_file_must_match_the_frames(shared_data, tmp_path, capsys):
    write_one_frame_nyu(shared_data, tmp_path / "nyu")
    centres = shared_data / "real/nyu/center_test_refined.txt"
    assert _evaluate(tmp_path / "nyu", "--centers", str(centres)) == 1
    assert "8252 centres for the 1 frames of nyu:test; expected one line per frame" in capsys.readouterr().err
    assert main(["evaluate", "--checkpoint", str(DEFAULT_CHECKPOINT), "--data", "nyu:test"]) == 1
    assert "needs --root DIR" in capsys.readouterr().err


def test_unlabelled_test_frames_are_predicted_in_the_challenge_format(tmp_path, capsys):
    from minis import write_gray16

    depth = np.zeros((480, 640))
    depth[200:300, 280:360] = 600.0  # something in range for the localiser to point at
    write_gray16(tmp_path / "frame" / "images" / "image_D00000001.png", depth)
    arguments = [
        "evaluate",
        "--checkpoint",
        str(DEFAULT_CHECKPOINT),
        "--data",
        "hands2017:test",
        "--root",
        str(tmp_path),
    ]
    assert main([*arguments, "--predictions", str(tmp_path / "out.txt")]) == 0
    line = (tmp_path / "out.txt").read_text().splitlines()[0].split("\t")
    assert line[0] == "image_D00000001.png" and len(line) == 64
    assert main([*arguments, "--json", str(tmp_path / "r.json")]) == 1
    assert "no public labels: it can only be predicted" in capsys.readouterr().err
