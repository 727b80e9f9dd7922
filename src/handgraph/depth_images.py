"""Reading depth frames from the files cameras and datasets write: 16-bit PNG, NYU's RGB-packed PNG, .npy."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from handgraph.errors import HandgraphError

SUFFIXES = (".png", ".npy")


def read_depth(path: str | os.PathLike, depth_scale_mm: float = 1.0) -> np.ndarray:
    """A depth frame in mm as (H, W) float64, 0 where there is no measurement.

    - 16-bit single-channel PNG (Kinect, RealSense, ICVL, HANDS2017): value x ``depth_scale_mm``;
    - 8-bit RGB PNG as NYU stores it: depth = (G << 8) | B, R unused, then x ``depth_scale_mm``;
    - ``.npy`` of one 2D numeric array: value x ``depth_scale_mm``.
    Negative, NaN and infinite values read as 0 (no measurement).
    """
    path = Path(path)
    if not path.is_file():
        raise HandgraphError(f"{path}: no such file")
    if path.suffix.lower() == ".npy":
        raw = _read_npy(path)
    elif path.suffix.lower() == ".png":
        raw = _read_png(path)
    else:
        raise HandgraphError(f"{path}: unsupported file type {path.suffix!r}; expected {', '.join(SUFFIXES)}")
    if raw.size == 0:
        raise HandgraphError(f"{path}: the image is empty")
    depth = raw.astype(np.float64) * depth_scale_mm
    depth[~np.isfinite(depth) | (depth < 0)] = 0.0
    return depth


def _read_png(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as image:
            image.load()
            mode, array = image.mode, np.asarray(image)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise HandgraphError(f"{path}: not a readable PNG ({error})") from None
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        return array
    if mode == "RGB":  # NYU: 16-bit depth packed into green (high byte) and blue (low byte)
        return (array[..., 1].astype(np.uint16) << 8) | array[..., 2].astype(np.uint16)
    raise HandgraphError(
        f"{path}: PNG mode {mode!r}; expected a 16-bit single-channel depth PNG or NYU's RGB-packed depth"
    )


def _read_npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise HandgraphError(f"{path}: not a readable .npy array ({error})") from None
    if array.ndim != 2 or array.dtype.kind not in "fiu":
        raise HandgraphError(f"{path}: holds a {array.dtype} array of shape {array.shape}; expected a 2D numeric array")
    return array


def depth_files(path: str | os.PathLike) -> list[Path]:
    """The depth files a --input names: the file itself, or a folder's .png and .npy files in name order."""
    path = Path(path)
    if path.is_dir():
        files = sorted(child for child in path.iterdir() if child.suffix.lower() in SUFFIXES)
        if not files:
            raise HandgraphError(f"{path}: holds no {' or '.join(SUFFIXES)} files")
        return files
    if not path.exists():
        raise HandgraphError(f"{path}: no such file or folder")
    return [path]
