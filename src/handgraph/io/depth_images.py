"""Reading depth frames from the files cameras and datasets write: 16-bit PNG, NYU's RGB-packed PNG, .npy."""

from __future__ import annotations

import functools
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from handgraph.errors import HandgraphError
from handgraph.io.reading import one_line, read_bytes, read_npy

SUFFIXES = (".png", ".npy", ".bin")
MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE
"""The largest frame read: more than any depth camera's, and a header promising more is a damaged file."""
MSRA_HEADER = 6
"""An MSRA15 ``.bin`` starts with six uint32: image width, height, then the box left, top, right, bottom."""


def read_depth(path: str | os.PathLike, depth_scale_mm: float = 1.0) -> np.ndarray:
    """A depth frame in mm as (H, W) float64, 0 where there is no measurement.

    - 16-bit single-channel PNG (Kinect, RealSense, ICVL, HANDS2017): value x ``depth_scale_mm``;
    - 8-bit RGB PNG as NYU stores it: depth = (G << 8) | B, R unused, then x ``depth_scale_mm``;
    - ``.npy`` of one 2D numeric array: value x ``depth_scale_mm``;
    - MSRA15's ``.bin`` (see :func:`read_msra_bin`): mm, then x ``depth_scale_mm``.
    Negative, NaN and infinite values read as 0 (no measurement).
    """
    path = Path(path)
    if not path.is_file():
        raise HandgraphError(f"{path}: no such file")
    if path.suffix.lower() == ".npy":
        raw = _read_npy(path)
    elif path.suffix.lower() == ".png":
        raw = _read_png(path)
    elif path.suffix.lower() == ".bin":
        raw = read_msra_bin(path)
    else:
        raise HandgraphError(f"{path}: unsupported file type {path.suffix!r}; expected {', '.join(SUFFIXES)}")
    return _to_mm(raw, depth_scale_mm, str(path))


def _to_mm(raw: np.ndarray, depth_scale_mm: float, name: str) -> np.ndarray:
    if raw.size == 0:
        raise HandgraphError(f"{name}: the image is empty")
    depth = raw.astype(np.float64) * depth_scale_mm
    depth[~np.isfinite(depth) | (depth < 0)] = 0.0
    return depth


def _read_png(path: Path) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the size is checked below
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Image.DecompressionBombError(f"{image.width} x {image.height} pixels")
                image.load()
                kind, mode, array = image.format, image.mode, np.asarray(image)
    except Image.DecompressionBombError:
        raise HandgraphError(f"{path}: its header promises an image larger than {MAX_SIDE} x {MAX_SIDE}; no depth "
                             "camera writes one") from None  # fmt: skip
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise HandgraphError(f"{path}: not a readable PNG ({one_line(error)})") from None
    if kind != "PNG":
        raise HandgraphError(f"{path}: a {kind} image named .png; expected a PNG (a lossy format cannot hold depth)")
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        return array
    if mode == "RGB":  # NYU: 16-bit depth packed into green (high byte) and blue (low byte)
        return (array[..., 1].astype(np.uint16) << 8) | array[..., 2].astype(np.uint16)
    raise HandgraphError(
        f"{path}: PNG mode {mode!r}; expected a 16-bit single-channel depth PNG or NYU's RGB-packed depth"
    )


def read_msra_bin(path: str | os.PathLike) -> np.ndarray:
    """An MSRA15 depth frame: six little-endian uint32 (width, height, left, top, right, bottom), then
    (right - left) x (bottom - top) float32 depths in mm, row-major, for the box [left, right) x [top, bottom)
    of a width x height image; outside the box is 0. Returns (height, width) float32 mm."""
    path = Path(path)
    data = read_bytes(path, "an MSRA .bin depth frame")
    if len(data) < 4 * MSRA_HEADER:
        raise HandgraphError(f"{path}: {len(data)} bytes; an MSRA .bin starts with a 24-byte header")
    width, height, left, top, right, bottom = (int(value) for value in np.frombuffer(data, "<u4", MSRA_HEADER))
    if not (
        0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE and 0 <= left < right <= width and 0 <= top < bottom <= height
    ):
        raise HandgraphError(
            f"{path}: header (width {width}, height {height}, box {left}, {top}, {right}, {bottom}) is not an "
            "image with a box inside it"
        )
    expected = 4 * (MSRA_HEADER + (right - left) * (bottom - top))
    if len(data) != expected:
        raise HandgraphError(
            f"{path}: {len(data)} bytes, but its header promises a {right - left}x{bottom - top} box: {expected} bytes"
        )
    depth = np.zeros((height, width), dtype=np.float32)
    box = np.frombuffer(data, "<f4", offset=4 * MSRA_HEADER).reshape(bottom - top, right - left)
    depth[top:bottom, left:right] = box
    return depth


def _read_npy(path: Path, mmap: bool = False) -> np.ndarray:
    array = read_npy(path, mmap)
    if array.ndim != (3 if mmap else 2) or array.dtype.kind not in "fiu":
        expected = "a 3D numeric stack (frames, height, width)" if mmap else "a 2D numeric array"
        raise HandgraphError(f"{path}: holds a {array.dtype} array of shape {array.shape}; expected {expected}")
    return array


def depth_files(path: str | os.PathLike) -> list[Path]:
    """The depth files a --input names: the file itself, or a folder's .png and .npy files in natural order
    (numbers by value: 2.png before 10.png, as recorders name sequences)."""
    path = Path(path)
    if path.is_dir():
        files = sorted((child for child in path.iterdir() if child.suffix.lower() in SUFFIXES), key=natural_key)
        if not files:
            raise HandgraphError(f"{path}: holds no {' or '.join(SUFFIXES)} files")
        return files
    if not path.exists():
        raise HandgraphError(f"{path}: no such file or folder")
    return [path]


def natural_key(path: Path) -> list:
    """Sort key that compares runs of digits as numbers."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def frame_readers(files: list[Path], depth_scale_mm: float = 1.0) -> list[tuple[str, Callable[[], np.ndarray]]]:
    """(name, read) for every frame of ``files`` in order, ``read()`` giving the depth in mm; a .npy stack
    (N, H, W) gives N frames named ``file[k]``, each read from a memory map, so a long recording need not fit in
    memory. Reading is deferred so that one broken file fails its own frame only. A stack cut short (a
    recording whose writer was killed) gives the frames it holds, then one frame whose reading says so."""
    readers: list[tuple[str, Callable[[], np.ndarray]]] = []
    for path in files:
        layout = _stack_layout(path)
        if layout is None:
            readers.append((str(path), functools.partial(read_depth, path, depth_scale_mm)))
            continue
        promised, held = layout
        if promised == 0:
            raise HandgraphError(f"{path}: a stack of 0 frames; expected (frames, height, width) with frames >= 1")
        read = _stack_frame if held == promised else _cut_stack_frame
        readers += [(f"{path}[{k}]", functools.partial(read, path, k, depth_scale_mm)) for k in range(held)]
        if held < promised:
            readers.append((f"{path}[{held}]", functools.partial(_cut_short, path, held, promised)))
    return readers


def _stack_layout(path: Path) -> tuple[int, int] | None:
    """(frames its header promises, complete frames on disk) of a .npy stack (N, H, W) of numbers; None for a
    single frame, or a file whose error its reading names."""
    if path.suffix.lower() != ".npy":
        return None
    try:
        shape, _, dtype, offset = _npy_header(path)
    except (OSError, ValueError, EOFError):
        return None
    if len(shape) != 3 or dtype.kind not in "fiu" or dtype.hasobject:
        return None
    frame_bytes = shape[1] * shape[2] * dtype.itemsize
    held = shape[0] if frame_bytes == 0 else min(shape[0], (path.stat().st_size - offset) // frame_bytes)
    return shape[0], int(held)


def _npy_header(path: Path) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """(shape, Fortran order, dtype, where the data starts) from a .npy file's header (format 1.0 or 2.0)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    with open(path, "rb") as file:
        version = np.lib.format.read_magic(file)
        if version not in readers:
            raise ValueError(f".npy format {version}")
        shape, fortran, dtype = readers[version](file)
        return shape, fortran, dtype, file.tell()


def _stack_frame(path: Path, index: int, depth_scale_mm: float) -> np.ndarray:
    return _to_mm(np.asarray(_read_npy(path, mmap=True)[index]), depth_scale_mm, f"{path}[{index}]")


def _cut_stack_frame(path: Path, index: int, depth_scale_mm: float) -> np.ndarray:
    """Frame ``index`` of a stack cut short, read from the bytes it holds."""
    shape, fortran, dtype, offset = _npy_header(path)
    frame_bytes = shape[1] * shape[2] * dtype.itemsize
    frame = np.memmap(path, dtype, "r", offset + index * frame_bytes, shape[1:], "F" if fortran else "C")
    return _to_mm(np.array(frame), depth_scale_mm, f"{path}[{index}]")


def _cut_short(path: Path, held: int, promised: int) -> np.ndarray:
    raise HandgraphError(f"{path}: cut short: holds {held} of the {promised} frames its header promises; frames "
                         f"{held}-{promised - 1} are missing (a recording whose writer stopped?)")  # fmt: skip


def _npy_shape(path: Path) -> tuple[int, ...]:
    return read_npy(path, mmap=True).shape


def read_frame(name: str, depth_scale_mm: float = 1.0) -> np.ndarray:
    """One frame by the name ``frame_readers`` gave it: a file, or ``stack.npy[k]``. Depth in mm."""
    if name.endswith("]") and "[" in name:
        file, _, index = name[:-1].rpartition("[")
        if index.isdigit() and Path(file).suffix.lower() == ".npy":
            layout = _stack_layout(Path(file))
            if layout is None or int(index) >= layout[1]:
                raise HandgraphError(f"{name}: {file} holds no frame {index}")
            read = _stack_frame if layout[0] == layout[1] else _cut_stack_frame
            return read(Path(file), int(index), depth_scale_mm)
    return read_depth(name, depth_scale_mm)


def frame_stem(name: str) -> str:
    """A file name for a frame's outputs: 'a/b.png' -> 'b', 'a/rec.npy[12]' -> 'rec_000012'."""
    if name.endswith("]") and "[" in name:
        file, _, index = name[:-1].rpartition("[")
        if index.isdigit():
            return f"{Path(file).stem}_{int(index):06d}"
    return Path(name).stem
