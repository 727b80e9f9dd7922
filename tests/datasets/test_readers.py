"""Every reader on a mini copy of its dataset written byte for byte, read back to the exact numbers."""

import numpy as np
import pytest
from minis import write_gray16, write_hands2017, write_icvl, write_msra, write_msra_bin, write_nyu, write_nyu_png
from tolerance import assert_close

from handgraph.datasets import open_split
from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset, uvd_to_xyz
from handgraph.geometry.numerics import ulps


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def test_nyu(tmp_path, rng):
    written = write_nyu(tmp_path, {"train": 2, "test": 3}, rng)
    for split in ("train", "test"):
        frames = open_split(f"nyu:{split}", tmp_path)
        uvd, depths = written[split]
        assert len(frames) == len(uvd) and frames.layout.name == "nyu36"
        np.testing.assert_array_equal(frames.uvd, uvd)
        for index in range(len(frames)):
            np.testing.assert_array_equal(frames.depth(index), depths[index])
    test = open_split("nyu:test", tmp_path)
    assert test.sequence.tolist() == ["seq 1"] * 3 and test.cube_mm.tolist() == [300.0] * 3
    # the y-down camera gives the kit's xyz with y negated (the kit's NYU camera has fy < 0)
    # the reader's xyz and the kit's formula, both float64 of the same uvd: ulps of coordinates up to 2000 mm
    assert_close(test.xyz * [1, -1, 1], uvd_to_xyz(test.uvd, camera_preset("nyu")), ulps(2000.0, np.float64, 8))


def test_icvl(tmp_path, rng):
    written = write_icvl(tmp_path, rng)
    train = open_split("icvl:train", tmp_path)
    assert [path.relative_to(tmp_path / "Training" / "Depth").as_posix() for path in train.files] == written[
        "originals"
    ]
    np.testing.assert_array_equal(train.uvd, np.stack([written["labels"][name] for name in written["originals"]]))
    assert len(open_split("icvl:train=all", tmp_path)) == 3  # with the rotated copy
    test = open_split("icvl:test", tmp_path)  # \r\r\n line ends
    assert test.sequence.tolist() == ["test_seq_1", "test_seq_2"]
    np.testing.assert_array_equal(test.depth(1), written["depths"]["test_seq_2/image_0000.png"])


def test_msra_leave_one_subject_out(tmp_path, rng):
    stored = write_msra(tmp_path, rng)
    test = open_split("msra:test=P3", tmp_path)
    assert len(test) == 17 and set(test.sequence) == {"P3"} and set(test.cube_mm) == {180.0}
    assert len(open_split("msra:train=P3", tmp_path)) == 8 * 17
    x, y, z = stored[("P3", "1")][0].T  # as the file stores them: y up, z negative
    u, v = 160 + 241.42 * x / -z, 120 - 241.42 * y / -z  # the README's projection after negating z
    # the projection in float64 there and here, from the same float32 values: ulps of the pixel coordinates
    assert_close(test.uvd[0, :, 0], u, ulps(320.0, np.float64, 8))
    assert_close(test.uvd[0, :, 1], v, ulps(320.0, np.float64, 8))
    # float32 in the file, float64 in the reader: a rounding of the stored value at most
    expected = stored[("P3", "1")][0] * [1, -1, -1]
    assert_close(test.xyz[0], expected, ulps(np.abs(expected), np.float32, 1))
    depth = test.depth(0)
    assert depth.shape == (240, 320) and (depth[80:92, 100:110] > 0).all() and depth[:80].sum() == 0


def test_hands2017(tmp_path, rng):
    written = write_hands2017(tmp_path, rng)
    train = open_split("hands2017:train", tmp_path)
    # written as text with 4 decimals (minis.py): half a unit of the last decimal, plus float64's ulps
    assert_close(train.xyz, written["xyz"], 5e-5 + ulps(1000.0, np.float64, 4))
    np.testing.assert_array_equal(train.depth(2), written["depths"][2])
    test = open_split("hands2017:test", tmp_path)
    assert len(test) == 1 and test.uvd is None


def test_check_reports_a_usable_copy_and_the_published_counts(tmp_path, rng, capsys):
    from handgraph.cli import main

    write_icvl(tmp_path, rng)
    assert main(["data", "check", "icvl", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "22067" in out and "2 of 2" in out and "icvl: usable" in out


def test_check_names_each_broken_file(tmp_path, rng, capsys):
    from handgraph.cli import main

    write_icvl(tmp_path / "icvl", rng)
    eight_bit = tmp_path / "icvl" / "Testing" / "Depth" / "test_seq_1" / "image_0000.png"
    from PIL import Image

    Image.new("L", (320, 240)).save(eight_bit)
    (tmp_path / "icvl" / "Training" / "Depth" / "201403121140" / "image_0001.png").unlink()
    assert main(["data", "check", "icvl", "--root", str(tmp_path / "icvl")]) == 1
    out = capsys.readouterr().out
    assert f"{eight_bit}: a 8-bit PNG of colour type 0; expected 16-bit single-channel depth" in out
    assert "201403121140/image_0001.png: not found" in out and "NOT usable" in out

    write_msra(tmp_path / "msra", rng)
    cut = tmp_path / "msra" / "P5" / "T" / "000000_depth.bin"
    cut.write_bytes(cut.read_bytes()[:-8])
    assert main(["data", "check", "msra", "--root", str(tmp_path / "msra")]) == 1
    assert f"{cut}: 496 bytes; its header promises 504" in capsys.readouterr().out


def test_bad_labels_and_files(tmp_path, rng):
    write_hands2017(tmp_path, rng)
    annotations = tmp_path / "training" / "Training_Annotation.txt"
    lines = annotations.read_text().splitlines()
    annotations.write_text("\n".join([lines[0], lines[1].replace(lines[1].split()[5], "nan", 1), lines[2]]) + "\n")
    with pytest.raises(HandgraphError, match=r"Training_Annotation.txt: line 2: NaN or infinite"):
        open_split("hands2017:train", tmp_path)
    annotations.write_text("\n".join([lines[0], " ".join(lines[1].split()[:40])]) + "\n")
    with pytest.raises(HandgraphError, match=r"line 2 has 40 fields; expected a name and 63 numbers"):
        open_split("hands2017:train", tmp_path)
    bin_path = tmp_path / "big.bin"
    write_msra_bin(bin_path, np.ones((4, 4)), 0, 0)
    bin_path.write_bytes(bin_path.read_bytes()[:30])
    from handgraph.io.depth_images import read_depth

    with pytest.raises(HandgraphError, match=r"big.bin: 30 bytes, but its header promises a 4x4 box: 88 bytes"):
        read_depth(bin_path)
    with pytest.raises(HandgraphError, match="unknown dataset 'nyu2'"):
        open_split("nyu2:test", tmp_path)
    with pytest.raises(HandgraphError, match="known: msra:test=P0"):
        open_split("msra:test", tmp_path)
    write_gray16(tmp_path / "small.png", np.zeros((10, 10)))
    write_nyu_png(tmp_path / "x.png", np.zeros((4, 4)))


def test_own_recordings(tmp_path, rng, capsys):
    import json

    from handgraph.cli import main

    camera = {"fx": 476.0, "fy": 476.5, "cx": 313.7, "cy": 242.8, "width": 64, "height": 48}
    (tmp_path / "camera.json").write_text(json.dumps({**camera, "depth_scale_mm": 0.125}))
    xyz = rng.uniform([-50, -50, 400], [50, 50, 600], (2, 21, 3))
    depths = rng.integers(3000, 5000, (2, 48, 64))
    lines = []
    for index in range(2):
        write_gray16(tmp_path / "frames" / f"{index}.png", depths[index])
        lines.append(f"frames/{index}.png " + " ".join(f"{value:.6f}" for value in xyz[index].reshape(-1)))
    (tmp_path / "labels.txt").write_text("\n".join(lines) + "\n")
    frames = open_split("own:all", tmp_path)
    # written with 6 decimals above: half a unit of the last decimal, plus float64's ulps
    assert_close(frames.xyz, xyz, 5e-7 + ulps(600.0, np.float64, 4))
    np.testing.assert_array_equal(frames.depth(1), depths[1] * 0.125)
    assert main(["data", "check", "own", "--root", str(tmp_path)]) == 0
    assert "2 of 2" in capsys.readouterr().out
    (tmp_path / "camera.json").write_text(json.dumps({**camera, "coordinates": "xyzw"}))
    with pytest.raises(HandgraphError, match="coordinates must be 'xyz' or 'uvd'"):
        open_split("own:all", tmp_path)
    (tmp_path / "camera.json").write_text(json.dumps({**camera, "width": 32}))
    assert main(["data", "check", "own", "--root", str(tmp_path)]) == 1
    assert "0.png: the frame is 64x48; own:all frames are 32x48" in capsys.readouterr().out
