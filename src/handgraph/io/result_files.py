"""Reading and writing joint files in the community format, and joint arrays from MATLAB ``.mat`` files.

The community format (the awesome-hand-pose-estimation evaluation kit): one line per frame, J x 3 numbers
separated by spaces, joint after joint — (u, v, d) in pixels and millimetres, or (x, y, z) in millimetres.
The reader also takes what real files contain: CRLF and ``\\r\\r\\n`` line ends, trailing blank lines, and a
leading image-name column (ICVL's ``test_seq_*.txt``). Anything else is an error naming the file and line.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.io.files import atomic_writer
from handgraph.io.reading import one_line, read_mat, read_text

# Names the community kit's .mat files use for their joint arrays, preferred when several arrays fit.
KNOWN_MAT_KEYS = ("xyz_estimation", "joint_est_wld_xyz", "joint_xyz", "joint_uvd", "joints", "pred")


def read_joints(path: str | os.PathLike, num_joints: int, mat_key: str | None = None) -> np.ndarray:
    """Joint triples from a text file in the community format or from a ``.mat`` file. Returns (N, J, 3) float64."""
    path = Path(path)
    if path.suffix.lower() == ".mat":
        return read_mat_joints(path, num_joints, mat_key)
    return read_joint_text(path, num_joints)


def read_joint_text(path: str | os.PathLike, num_joints: int) -> np.ndarray:
    """Parse a community-format text file into (N, J, 3) float64, with errors that name the line and column."""
    path = Path(path)
    lines = _text_lines(path)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise HandgraphError(f"{path}: the file holds no frames; expected one line of {num_joints} x 3 numbers")
    frames = np.empty((len(lines), num_joints * 3), dtype=np.float64)
    for number, line in enumerate(lines, start=1):
        frames[number - 1] = _parse_line(path, number, line, num_joints)
    return frames.reshape(len(lines), num_joints, 3)


def _text_lines(path: Path) -> list[str]:
    text = read_text(path, "a joint file in the community format or a .mat file")
    # Split on \n so that \r\r\n yields one line, not two; a file of bare \r line ends splits on \r.
    return [line.strip() for line in text.split("\n" if "\n" in text else "\r")]


def _parse_line(path: Path, number: int, line: str, num_joints: int) -> np.ndarray:
    tokens = line.split()
    expected = num_joints * 3
    if len(tokens) == expected + 1 and not _is_number(tokens[0]):
        tokens = tokens[1:]  # a leading image name, as in ICVL's test_seq_*.txt
    if len(tokens) != expected:
        found = "a blank line" if not tokens else f"{len(tokens)} columns"
        raise HandgraphError(
            f"{path}:{number}: found {found}; expected {expected} numbers "
            f"({num_joints} joints x 3), optionally after an image name"
        )
    try:
        values = np.asarray(tokens, dtype=np.float64)
    except ValueError:
        column = next(index for index, token in enumerate(tokens, start=1) if not _is_number(token))
        raise HandgraphError(f"{path}:{number}: column {column}: {tokens[column - 1]!r} is not a number") from None
    if not np.isfinite(values).all():
        column = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
        raise HandgraphError(f"{path}:{number}: column {column}: {tokens[column - 1]!r} is not a finite number")
    return values


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def read_mat_joints(path: str | os.PathLike, num_joints: int, key: str | None = None) -> np.ndarray:
    """The (N, J, 3) joint array stored in a MATLAB v4-v7 file, under ``key`` or found automatically."""
    path = Path(path)
    contents = read_mat(path, f"a .mat file of joints (N, {num_joints}, 3)")
    arrays = {name: value for name, value in contents.items() if not name.startswith("__")}
    if key is None:
        key = _choose_mat_key(path, arrays, num_joints)
    elif key not in arrays:
        raise HandgraphError(f"{path}: no key {key!r}; keys: {_describe_arrays(arrays)}")
    return _as_joint_array(path, key, arrays[key], num_joints)


def _fits_joints(value: object, num_joints: int) -> bool:
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu" or value.ndim not in (2, 3):
        return False
    return value.shape[1:] == (num_joints, 3) if value.ndim == 3 else value.shape[1] == num_joints * 3


def _choose_mat_key(path: Path, arrays: dict[str, object], num_joints: int) -> str:
    fitting = [name for name, value in arrays.items() if _fits_joints(value, num_joints)]
    if len(fitting) == 1:
        return fitting[0]
    known = [name for name in KNOWN_MAT_KEYS if name in fitting]
    if len(known) == 1:
        return known[0]
    if not fitting:
        raise HandgraphError(
            f"{path}: no array of shape (N, {num_joints}, 3) or (N, {num_joints * 3}); keys: {_describe_arrays(arrays)}"
        )
    raise HandgraphError(f"{path}: several arrays fit ({one_line(', '.join(fitting))}); choose one with --mat-key")


def _describe_arrays(arrays: dict[str, object]) -> str:
    if not arrays:
        return "none"
    return one_line(
        ", ".join(f"{name} {getattr(value, 'shape', type(value).__name__)}" for name, value in arrays.items())
    )


def _as_joint_array(path: Path, key: str, value: object, num_joints: int) -> np.ndarray:
    if not _fits_joints(value, num_joints):
        shape = getattr(value, "shape", type(value).__name__)
        raise HandgraphError(
            f"{path}: key {key!r} holds {shape}; expected numbers of shape (N, {num_joints}, 3) or "
            f"(N, {num_joints * 3})"
        )
    joints = np.asarray(value, dtype=np.float64).reshape(len(value), num_joints, 3)
    bad = np.argwhere(~np.isfinite(joints))
    if len(bad):
        frame, joint, _ = bad[0]
        raise HandgraphError(f"{path}: key {key!r}: frame {frame + 1}, joint {joint + 1} is not a finite number")
    if len(joints) == 0:
        raise HandgraphError(f"{path}: key {key!r} holds no frames")
    return joints


def format_joint_lines(joints: np.ndarray, decimals: int = 3) -> str:
    """Community-format text of (N, J, 3) joints: one line per frame, numbers separated by single spaces."""
    rows = joints.reshape(len(joints), -1)
    return "".join(" ".join(f"{value:.{decimals}f}" for value in row) + "\n" for row in rows)


def write_joint_text(path: str | os.PathLike, joints: np.ndarray, decimals: int = 3) -> None:
    """Write (N, J, 3) joints in the community format, atomically; the inverse of :func:`read_joint_text`."""
    if joints.ndim != 3 or joints.shape[-1] != 3:
        raise ValueError(f"expected joints of shape (N, J, 3), got {joints.shape}")
    if not np.isfinite(joints).all():
        raise ValueError("refusing to write non-finite joint coordinates")
    with atomic_writer(path) as handle:
        handle.write(format_joint_lines(joints, decimals))
