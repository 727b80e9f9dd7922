"""``handgraph evaluate --checkpoint ... --data nyu:test --root DIR`` on a one-frame NYU copy made of the real
frame: the community result file it writes scores the same through ``evaluate --dataset``."""

import json

import numpy as np
import pytest
from minis import write_icvl, write_msra, write_one_frame_nyu
from tolerance import assert_close

from handgraph.cli import main
from handgraph.weights import POSE_MODEL as DEFAULT_CHECKPOINT


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


def test_a_partial_copy_scores_the_published_files_on_its_own_frames(shared_data, tmp_path, capsys):
    # A copy of NYU's test set that holds its first frame, and the published full-size files (issue 23): the
    # 8252 refined centres and a result file of 8252 lines give what their first lines alone give.
    write_one_frame_nyu(shared_data, tmp_path / "nyu")
    centres = shared_data / "real/nyu/center_test_refined.txt"
    published = shared_data / "eval/results/nyu/CVPR18_NYU_V2V_PoseNet.txt"
    (tmp_path / "centre_1.txt").write_text(centres.read_text().splitlines()[0] + "\n")
    (tmp_path / "V2V_1.txt").write_text(published.read_text().splitlines()[0] + "\n")
    scores = {}
    for name, files in (
        ("whole", (centres, published)),
        ("first", (tmp_path / "centre_1.txt", tmp_path / "V2V_1.txt")),
    ):
        json_path = tmp_path / f"{name}.json"
        assert _evaluate(tmp_path / "nyu", "--centers", str(files[0]), "--compare", str(files[1]),
                         "--json", str(json_path)) == 0  # fmt: skip
        scores[name] = [entry["mean_mm"] for entry in json.loads(json_path.read_text())]
    out = capsys.readouterr().out
    assert "Traceback" not in out and "scored on the 1 frames this copy holds" not in out  # a prefix: no note
    assert scores["whole"] == scores["first"] and len(scores["whole"]) == 2
    (tmp_path / "five.txt").write_text("0 0 500\n" * 5)
    assert _evaluate(tmp_path / "nyu", "--centers", str(tmp_path / "five.txt")) == 1
    assert ("5 centres for the 1 frames of nyu:test; expected one line per frame or one per frame of the "
            "published test set (8252)") in capsys.readouterr().err  # fmt: skip
    (tmp_path / "long.txt").write_text(published.read_text() + published.read_text().splitlines()[0] + "\n")
    assert _evaluate(tmp_path / "nyu", "--centers", "labels", "--compare", str(tmp_path / "long.txt")) == 1
    assert "long.txt: 8253 lines, more than frames to score (the published nyu:test has 8252" in capsys.readouterr().err
    assert main(["evaluate", "--checkpoint", str(DEFAULT_CHECKPOINT), "--data", "nyu:test"]) == 1
    assert "needs --root DIR" in capsys.readouterr().err


def test_a_copy_with_one_icvl_test_sequence(shared_data, tmp_path, capsys):
    # Only test_seq_2 of ICVL: its frame is line 703 of the community's files, and it belongs to seq 2.
    write_icvl(tmp_path / "icvl", np.random.default_rng(0))
    (tmp_path / "icvl" / "Testing" / "test_seq_1.txt").unlink()
    results = shared_data / "eval/results/icvl"
    arguments = ["evaluate", "--checkpoint", str(DEFAULT_CHECKPOINT), "--data", "icvl:test", "--root",
                 str(tmp_path / "icvl"), "--centers", "labels"]  # fmt: skip
    assert main([*arguments, "--compare", str(results / "CVPR18_ICVL_V2V_PoseNet.txt"), "--json",
                 str(tmp_path / "r.json"), "--predictions", str(tmp_path / "ours.txt")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert (
        "ours.txt holds this copy's 1 frames in its order; in the published test set's files they are other "
        "lines (from line 703)" in out
    )
    assert "test_seq_1.txt: not found; icvl:test holds the other sequence only" in out
    assert "scored on the 1 frames this copy holds" in out
    for entry in json.loads((tmp_path / "r.json").read_text()):
        assert entry["frames"] == 1 and entry["sequence_mean_mm"][0] is None and entry["sequence_mean_mm"][1] > 0
    assert (
        main([*arguments, "--compare", *map(str, sorted(results.glob("*.txt"))), "--json", str(tmp_path / "r.json")])
        == 0
    )
    out = capsys.readouterr().out  # the file of test_seq_1 alone is left out, the others scored
    assert (
        "Prior-Refinement.txt covers lines 1-702 of the test set's files, none of the frames this copy holds "
        "(from line 703): left out of the table" in out
    )
    assert [entry["name"] for entry in json.loads((tmp_path / "r.json").read_text())][1:] == [
        "CVPR18_ICVL_V2V_PoseNet", "ICIP17_ICVL_REN_4x6x6"]  # fmt: skip
    assert main(["data", "check", "icvl", "--root", str(tmp_path / "icvl")]) == 0
    assert "icvl: usable" in capsys.readouterr().out


def test_a_copy_of_one_split_is_usable_for_that_split(shared_data, tmp_path, capsys):
    write_one_frame_nyu(shared_data, tmp_path / "nyu")
    (tmp_path / "nyu" / "test").rename(tmp_path / "nyu" / "train")  # a training set only
    assert main(["data", "check", "nyu", "--root", str(tmp_path / "nyu")]) == 0
    assert "this copy holds no nyu:test (the other split is usable)" in capsys.readouterr().out
    assert _evaluate(tmp_path / "nyu", "--centers", "labels") == 1
    error = capsys.readouterr().err
    assert "test/joint_data.mat: not found" in error and len(error.strip().splitlines()) == 1


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


def test_a_result_file_longer_than_a_split_without_a_published_order(tmp_path, capsys):
    # MSRA is scored leave-one-subject-out: a --compare file follows the split's own frames, and may not be longer.
    write_msra(tmp_path / "msra", np.random.default_rng(0))
    np.savetxt(tmp_path / "long.txt", np.full((18, 63), 100.0), fmt="%.1f")
    arguments = ["evaluate", "--checkpoint", str(DEFAULT_CHECKPOINT), "--data", "msra:test=P0", "--root",
                 str(tmp_path / "msra"), "--centers", "labels", "--compare", str(tmp_path / "long.txt")]  # fmt: skip
    assert main(arguments) == 1
    error = capsys.readouterr().err
    assert "long.txt: 18 lines, more than frames to score (msra:test=P0 has 17)" in error
    assert len(error.strip().splitlines()) == 1


def test_a_guess_that_holds_no_depth_gives_way_to_the_nearest_blob(tmp_path):
    """The localiser's best guess on a frame where it saw no hand can point at empty space (its own depth
    estimate where the frame has none): that crop would be empty, so the nearest blob's centre is used."""
    from minis import write_gray16

    from handgraph.datasets.hands2017 import read_split
    from handgraph.errors import HandgraphError
    from handgraph.evaluation.dataset_eval import predict_dataset
    from handgraph.geometry.camera import uvd_to_xyz
    from handgraph.inference.localizing import HandDetection
    from handgraph.inference.predictor import Predictor

    depth = np.zeros((480, 640))
    depth[200:300, 280:360] = 600.0
    write_gray16(tmp_path / "frame" / "images" / "image_D00000001.png", depth)
    split = read_split(tmp_path, "test")
    predictor = Predictor()
    empty = np.array([-300.0, -200.0, 900.0])  # up and left of the box, at a depth nothing has
    predictor.locate = lambda depth_mm, camera: HandDetection(False, 0.2, None, empty)
    assert not predictor.crop_holds_depth(split.depth(0), split.camera, empty)
    on_the_box = uvd_to_xyz(np.array([320.0, 250.0, 600.0]), split.camera)
    assert predictor.crop_holds_depth(split.depth(0), split.camera, on_the_box)
    with pytest.raises(HandgraphError, match="no depth within the 250 mm cube"):
        predictor(split.depth(0), split.camera, empty)  # what the guess alone would have given
    predicted = predict_dataset(predictor, split)
    assert (predicted.not_found, predicted.blob_centres) == (1, 1)
    centre_uvd = predicted.uvd[0].mean(axis=0)  # the joints lie on the box, about 600 mm away
    assert 270 <= centre_uvd[0] <= 370 and 190 <= centre_uvd[1] <= 310 and abs(centre_uvd[2] - 600) < 100
