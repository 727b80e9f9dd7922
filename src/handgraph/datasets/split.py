"""What every dataset reader returns: one split's frames as its files give them, and a check report.

Readers only parse files into frames, labels and metadata; cropping, augmentation and targets are elsewhere.
Labels are kept as the dataset's own joints in (u, v, d): frame pixels and mm, whatever the dataset's world
frame (NYU and MSRA store y up), with the camera y down, so that ``xyz`` is in the project's camera frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import Intrinsics, uvd_to_xyz
from handgraph.geometry.skeleton import JointLayout
from handgraph.io.depth_images import read_depth


@dataclass
class DatasetSplit:
    """The frames of one split: depth files, labels, and the sequence and crop cube of each frame."""

    name: str
    """What the split is called on the command line, e.g. ``nyu:test`` or ``msra:test=P0``."""
    root: Path
    """The dataset's folder."""
    layout: JointLayout
    """The dataset's own joints, in the order of its label files."""
    camera: Intrinsics
    """The depth camera, y down."""
    files: list[Path]
    """One depth file per frame."""
    uvd: np.ndarray | None
    """(N, J, 3) labels in frame pixels and mm; None for a split without public labels."""
    sequence: np.ndarray
    """(N,) the sequence or subject of each frame (NYU 'seq 1'/'seq 2', ICVL 'test_seq_1', MSRA 'P0')."""
    cube_mm: np.ndarray
    """(N,) the side of the crop cube the field uses for each frame."""
    depth_scale_mm: float = 1.0
    """mm per stored depth unit."""
    published_index: np.ndarray | None = None
    """(N,) each frame's line (0-based) in the published test set's files, the community's ground truth, result
    and centres files, for the test splits the field scores that way (NYU, ICVL); None for other splits. A copy
    that holds part of the test set scores those files on its own frames through it."""
    notes: list[str] = field(default_factory=list)
    """What a user should know about this copy of the split (a sequence missing, a subset)."""

    def __len__(self) -> int:
        return len(self.files)

    @property
    def xyz(self) -> np.ndarray:
        """(N, J, 3) labels in mm in the camera frame (y down)."""
        if self.uvd is None:
            raise HandgraphError(f"{self.name}: has no public labels")
        return uvd_to_xyz(self.uvd, self.camera)

    def depth(self, index: int) -> np.ndarray:
        """Frame ``index``'s depth in mm, (H, W), checked against the camera's image size."""
        depth = read_depth(self.files[index], self.depth_scale_mm)
        expected = (self.camera.height, self.camera.width)
        if depth.shape != expected:
            raise HandgraphError(
                f"{self.files[index]}: the frame is {depth.shape[1]}x{depth.shape[0]}; {self.name} frames are "
                f"{expected[1]}x{expected[0]}"
            )
        return depth


@dataclass
class CheckReport:
    """What ``handgraph data check`` found in a copy of a dataset."""

    dataset: str
    root: Path
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    """(what, found here, published) lines of the table."""
    problems: list[str] = field(default_factory=list)
    """One line per missing or malformed file: the file, and what was expected. Any makes the copy unusable."""
    notes: list[str] = field(default_factory=list)
    """Differences that leave the copy usable, such as counts other than the published ones (a subset)."""

    @property
    def usable(self) -> bool:
        return not self.problems

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def note(self, message: str) -> None:
        self.notes.append(message)


def parse_label_line(path: Path, number: int, line: str, values: int) -> tuple[str, np.ndarray]:
    """A label line 'name v1 ... vK' of ``path`` (line ``number``, from 1): the name and K float values,
    finite; an error naming the file, the line and what was expected otherwise."""
    parts = line.split()
    if len(parts) != values + 1:
        raise HandgraphError(f"{path}: line {number} has {len(parts)} fields; expected a name and {values} numbers")
    try:
        numbers = np.array([float(part) for part in parts[1:]])
    except ValueError:
        raise HandgraphError(f"{path}: line {number}: a field is not a number") from None
    if not np.isfinite(numbers).all():
        raise HandgraphError(f"{path}: line {number}: NaN or infinite values; expected finite numbers")
    return parts[0], numbers


def read_named_joints(path: Path, joints: int) -> tuple[list[str], np.ndarray]:
    """A label file of lines 'name v1 ... v3J' (ICVL, HANDS2017, own recordings): the names and (N, J, 3)."""
    names, labels = [], []
    for number, line in read_lines(path):
        name, values = parse_label_line(path, number, line, 3 * joints)
        names.append(name)
        labels.append(values.reshape(joints, 3))
    if not names:
        raise HandgraphError(f"{path}: holds no label lines")
    return names, np.stack(labels)


def require_files(files: list[Path], split: str) -> None:
    """An error naming the first missing frame file of ``split``, and how many are missing."""
    missing = [path for path in files if not path.is_file()]
    if missing:
        raise HandgraphError(f"{missing[0]}: not found ({len(missing)} of {len(files)} frames of {split} missing)")


def read_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the non-empty lines of a text file, numbered by '\\n' as grep -n does, whatever
    the line ends (ICVL's are '\\r\\r\\n')."""
    if not path.is_file():
        raise HandgraphError(f"{path}: not found")
    try:
        text = path.read_bytes().decode("utf-8")  # not read_text: universal newlines would count each \r
    except UnicodeDecodeError:
        raise HandgraphError(f"{path}: not a text file") from None
    lines = (line.strip("\r ") for line in text.split("\n"))
    return [(number, line) for number, line in enumerate(lines, 1) if line]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KINDS = {"rgb8": (8, 2), "gray16": (16, 0)}
"""(bit depth, colour type) of NYU's RGB-packed depth and of 16-bit single-channel depth PNGs."""


def png_problem(path: Path, kind: str, width: int, height: int) -> str | None:
    """What is wrong with a depth PNG's header (signature, size, bit depth, colour type), or None; reads 33 bytes."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(33)
    except OSError as error:
        return f"{path}: cannot be read ({error.strerror})"
    if len(head) < 33 or not head.startswith(PNG_SIGNATURE) or head[12:16] != b"IHDR":
        return f"{path}: not a PNG file"
    found_width, found_height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    bits, colour = head[24], head[25]
    if (bits, colour) != PNG_KINDS[kind]:
        expected = "8-bit RGB (NYU's packed depth)" if kind == "rgb8" else "16-bit single-channel depth"
        return f"{path}: a {bits}-bit PNG of colour type {colour}; expected {expected}"
    if (found_width, found_height) != (width, height):
        return f"{path}: {found_width}x{found_height}; expected {width}x{height}"
    return None


def check_files(report: CheckReport, files: list[Path], problem_of, shown: int = 10) -> int:
    """Report the files that ``problem_of(path)`` finds something wrong with (the first ``shown`` by name);
    returns how many are fine."""
    bad = [message for message in map(problem_of, files) if message is not None]
    for message in bad[:shown]:
        report.problem(message)
    if len(bad) > shown:
        report.problem(f"{len(bad) - shown} more files like these")
    return len(files) - len(bad)


def missing_or_png_problem(kind: str, width: int, height: int):
    def problem_of(path: Path) -> str | None:
        return f"{path}: not found" if not path.is_file() else png_problem(path, kind, width, height)

    return problem_of
