import numpy as np
import pytest
import scipy.io
from tolerance import assert_close

from handgraph.errors import HandgraphError
from handgraph.geometry.numerics import ulps
from handgraph.io.result_files import read_joint_text, read_joints, read_mat_joints, write_joint_text


def _write(path, text: str, newline: str = "\n"):
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def test_write_then_read_round_trip(tmp_path):
    joints = np.random.default_rng(0).uniform(-500, 900, (7, 14, 3))
    write_joint_text(tmp_path / "out.txt", joints)
    # 3 decimals written, parsed back to the nearest float64, as round(3) gives: an ulp of values below 900
    assert_close(read_joint_text(tmp_path / "out.txt", 14), joints.round(3), ulps(900.0, np.float64, 1))
    lines = (tmp_path / "out.txt").read_text().splitlines()
    assert len(lines) == 7 and len(lines[0].split()) == 42
    assert list(tmp_path.iterdir()) == [tmp_path / "out.txt"]  # no temporary file left behind


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r\r\n", "\r"])
def test_line_ends(tmp_path, newline):
    path = _write(tmp_path / "a.txt", "1 2 3 4 5 6\n7 8 9 10 11 12\n", newline)
    np.testing.assert_array_equal(read_joint_text(path, 2), np.arange(1, 13).reshape(2, 2, 3))


def test_trailing_blank_lines_and_spaces(tmp_path):
    path = _write(tmp_path / "a.txt", "  1 2 3  \n4 5 6\t\n\n   \n")
    assert read_joint_text(path, 1).shape == (2, 1, 3)


def test_image_name_column_of_the_real_icvl_files(shared_data):
    # test_seq_1.txt has names and \r\r\n line ends; its numbers are lines 1-702 of the label file.
    folder = shared_data / "eval/groundtruth/icvl"
    named = read_joint_text(folder / "test_seq_1.txt", 16)
    plain = read_joint_text(folder / "icvl_test_groundtruth_label.txt", 16)
    assert named.shape == (702, 16, 3) and plain.shape == (1596, 16, 3)
    # not rounding: the two files print the same labels with different decimals (4 and 3); half a unit of the
    # coarser one apart, plus float64's ulps
    assert_close(named, plain[:702], 5e-4 + ulps(1000.0, np.float64, 4))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1 2 3 4 5 6\n1 2 3 4 5\n", r"a\.txt:2: found 5 columns; expected 6 numbers \(2 joints x 3\)"),
        ("1 2 3 4 5 6\n\n1 2 3 4 5 6\n", r"a\.txt:2: found a blank line; expected 6 numbers"),
        ("1 2 3 4 5 6\n1 2 x 4 5 6\n", r"a\.txt:2: column 3: 'x' is not a number"),
        ("1 2 3 4 5 nan\n", r"a\.txt:1: column 6: 'nan' is not a finite number"),
        ("1 2 3 4 5 inf\n", r"a\.txt:1: column 6: 'inf' is not a finite number"),
        ("\n\n", r"a\.txt: the file holds no frames"),
        ("name1 name2 1 2 3 4 5 6\n", r"a\.txt:1: found 8 columns"),
    ],
)
def test_bad_text_names_file_line_and_column(tmp_path, text, message):
    with pytest.raises(HandgraphError, match=message):
        read_joint_text(_write(tmp_path / "a.txt", text), 2)


def test_binary_and_missing_files(tmp_path):
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(HandgraphError, match=r"b\.txt: not a text file"):
        read_joint_text(binary, 14)
    with pytest.raises(HandgraphError, match=r"missing\.txt: not found; expected a joint file"):
        read_joint_text(tmp_path / "missing.txt", 14)
    with pytest.raises(HandgraphError, match="is a folder"):
        read_joint_text(tmp_path, 14)


def test_mat_key_found_automatically_or_given(tmp_path):
    joints = np.random.default_rng(2).normal(size=(5, 14, 3))
    scipy.io.savemat(tmp_path / "one.mat", {"whatever": joints, "note": np.array([1.0, 2.0])})
    np.testing.assert_array_equal(read_joints(tmp_path / "one.mat", 14), joints)
    scipy.io.savemat(tmp_path / "flat.mat", {"a": joints.reshape(5, 42), "b": joints * 2})
    np.testing.assert_array_equal(read_mat_joints(tmp_path / "flat.mat", 14, key="b"), joints * 2)
    scipy.io.savemat(tmp_path / "known.mat", {"xyz_estimation": joints, "other": joints})
    np.testing.assert_array_equal(read_mat_joints(tmp_path / "known.mat", 14), joints)


def test_real_mat_file(shared_data):
    joints = read_joints(shared_data / "eval/results/icvl/CVPR18_ICVL_HandPointNet_ori.mat", 16)
    assert joints.shape == (1596, 16, 3)


def test_bad_mat_files(tmp_path):
    joints = np.zeros((3, 14, 3))
    scipy.io.savemat(tmp_path / "two.mat", {"a": joints, "b": joints})
    with pytest.raises(HandgraphError, match=r"two\.mat: several arrays fit \(a, b\); choose one with --mat-key"):
        read_mat_joints(tmp_path / "two.mat", 14)
    with pytest.raises(HandgraphError, match=r"two\.mat: no key 'c'; keys: a \(3, 14, 3\), b \(3, 14, 3\)"):
        read_mat_joints(tmp_path / "two.mat", 14, key="c")
    scipy.io.savemat(tmp_path / "none.mat", {"a": np.zeros((3, 16, 3))})
    with pytest.raises(HandgraphError, match=r"none\.mat: no array of shape \(N, 14, 3\) or \(N, 42\); keys: a"):
        read_mat_joints(tmp_path / "none.mat", 14)
    with pytest.raises(HandgraphError, match=r"key 'a' holds \(3, 16, 3\); expected"):
        read_mat_joints(tmp_path / "none.mat", 14, key="a")
    joints[1, 4, 2] = np.nan
    scipy.io.savemat(tmp_path / "nan.mat", {"a": joints})
    with pytest.raises(HandgraphError, match=r"key 'a': frame 2, joint 5 is not a finite number"):
        read_mat_joints(tmp_path / "nan.mat", 14)
    (tmp_path / "corrupt.mat").write_bytes(b"this is not a MATLAB file at all" * 10)
    with pytest.raises(HandgraphError, match=r"corrupt\.mat: not a readable MATLAB \.mat file"):
        read_mat_joints(tmp_path / "corrupt.mat", 14)


def test_write_refuses_bad_arrays(tmp_path):
    with pytest.raises(ValueError, match="non-finite"):
        write_joint_text(tmp_path / "x.txt", np.full((1, 2, 3), np.nan))
    with pytest.raises(ValueError, match=r"\(N, J, 3\)"):
        write_joint_text(tmp_path / "x.txt", np.zeros((2, 6)))
    assert not list(tmp_path.iterdir())
