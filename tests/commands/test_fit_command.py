import json

import numpy as np
import pytest
import trimesh

from handgraph.cli import main
from handgraph.geometry.layouts import NYU14


def _error(capsys, arguments) -> str:
    code = main(arguments)
    assert code != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def sr305_predictions(tmp_path_factory, shared_data):
    out = tmp_path_factory.mktemp("sr305")
    frames = shared_data / "real/sr305/20210326-231615"
    arguments = ["predict", "--input", str(frames), "--camera", "sr305", "--depth-scale", "0.125", "--fit"]
    assert main([*arguments, "--out", str(out)]) == 0
    return out


def test_predict_fit_adds_angles_a_valid_hand_a_mesh_and_a_3d_view(sr305_predictions):
    result = json.loads((sr305_predictions / "predictions.json").read_text())
    assert result["left"] is False and result["depth_scale"] == 0.125 and result["cube_mm"] > 0
    shapes = set()
    for frame in result["frames"]:
        fit = frame["fit"]
        assert set(fit) == {"xyz", "angles_deg", "global", "shape", "residual_mm", "refined", "depth_residual_mm",
                            "depth_explained", "mesh"}  # fmt: skip
        assert fit["refined"] and len(fit["xyz"]) == 21 and len(fit["residual_mm"]) == 21
        # a refined hand on the real hand: the depth lies within a few mm of it and confirms most of it
        assert 0 <= fit["depth_residual_mm"] < 10 and 0.5 < fit["depth_explained"] <= 1
        assert set(fit["angles_deg"]["index"]) == {"mcp_flexion", "mcp_abduction", "pip_flexion", "dip_flexion"}
        assert set(fit["angles_deg"]["thumb"]) == {"cmc_flexion", "cmc_abduction", "mcp_flexion", "ip_flexion"}
        mesh = trimesh.load(sr305_predictions / fit["mesh"], force="mesh")
        assert mesh.is_watertight
        # the fitted hand lies where the network put it
        assert np.linalg.norm(np.subtract(fit["xyz"], frame["xyz"]), axis=1).mean() < 20
        shapes.add(json.dumps(fit["shape"]))
    assert len(shapes) == 1  # a tracked sequence: one shape for all its frames
    assert (sr305_predictions / "100_overlay.png").stat().st_size > 50_000


def test_fit_reads_predictions_json_and_refines(sr305_predictions, tmp_path, capsys):
    arguments = ["fit", "--input", str(sr305_predictions / "predictions.json"), "--refine", "--meshes", "2"]
    assert main([*arguments, "--views", "1", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "fit.json").read_text())
    assert result["sequence"] and result["refined"] and len(result["frames"]) == 11
    assert sorted(path.name for path in tmp_path.glob("*.ply")) == ["0_hand.ply", "20_hand.ply"]
    assert (tmp_path / "0_fit.png").is_file() and not (tmp_path / "20_fit.png").exists()
    assert result["frames"][0]["fit"]["mesh"] == "0_hand.ply" and result["frames"][5]["fit"]["mesh"] is None
    assert "11 frame(s) fitted to the canonical layout" in capsys.readouterr().out


def test_fit_a_community_result_file(shared_data, tmp_path, capsys):
    lines = (shared_data / "eval/results/nyu/CVPR18_NYU_V2V_PoseNet.txt").read_text().splitlines()[:6]
    results = tmp_path / "v2v.txt"
    results.write_text("\n".join(lines) + "\n")
    arguments = ["fit", "--input", str(results), "--dataset", "nyu", "--meshes", "1", "--views", "0"]
    assert main([*arguments, "--out", str(tmp_path / "out")]) == 0
    result = json.loads((tmp_path / "out/fit.json").read_text())
    assert result["layout"] == "nyu14" and [frame["line"] for frame in result["frames"]] == [1, 2, 3, 4, 5, 6]
    twins = [own for own, _ in NYU14.canonical_pairs()]
    residuals = np.array([frame["fit"]["residual_mm"] for frame in result["frames"]])[:, twins]
    assert residuals.mean() < 12  # V2V's joints are one real hand: a kinematic hand explains them
    assert result["frames"][0]["fit"]["global"]["mirrored"]  # NYU's camera has y up
    assert (tmp_path / "out/line_000001_hand.ply").is_file()


def test_fit_bad_inputs(shared_data, tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text(" ".join(["1"] * 42) + "\n" + " ".join(["1"] * 41) + "\n")
    assert "short.txt:2: found 41 columns; expected 42 numbers" in _error(
        capsys, ["fit", "--input", str(short), "--dataset", "nyu", "--out", str(tmp_path / "o")]
    )
    nan = tmp_path / "nan.txt"
    nan.write_text(" ".join(["100"] * 41 + ["nan"]) + "\n")
    assert "nan.txt:1: column 42: 'nan' is not a finite number" in _error(
        capsys, ["fit", "--input", str(nan), "--dataset", "nyu", "--out", str(tmp_path / "o")]
    )
    icvl = tmp_path / "icvl.txt"
    icvl.write_text(" ".join(["100"] * 48) + "\n")
    assert "the icvl16 layout has no wrist joint" in _error(
        capsys, ["fit", "--input", str(icvl), "--dataset", "icvl", "--out", str(tmp_path / "o")]
    )
    assert "a result file needs --dataset" in _error(capsys, ["fit", "--input", str(short), "--out", str(tmp_path)])
    broken = tmp_path / "predictions.json"
    broken.write_text(json.dumps({"joints": ["a"], "camera": {}, "frames": []}))
    assert "field 'joints' names no known layout" in _error(capsys, ["fit", "--input", str(broken)])
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps({"camera": {}}))
    assert "missing.json: no 'joints' field" in _error(capsys, ["fit", "--input", str(missing)])
    refine = ["fit", "--input", str(short), "--dataset", "nyu", "--refine", "--out", str(tmp_path / "o")]
    assert "--refine needs a predictions.json" in _error(capsys, refine)
    assert not (tmp_path / "o" / "fit.json").exists()
