"""Mini copies of the four datasets, written byte for byte in their original layouts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.io import savemat

from handgraph.datasets import msra
from handgraph.geometry.layouts import NYU14_SUBSET


def write_gray16(path: Path, depth: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(depth.astype(np.uint16)).save(path)  # a 16-bit single-channel PNG ('I;16')


def write_nyu_png(path: Path, depth: np.ndarray) -> None:
    """NYU's packing: R unused, G the high byte, B the low byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    value = depth.astype(np.uint16)
    rgb = np.stack([np.zeros_like(value), value >> 8, value & 255], axis=-1).astype(np.uint8)
    Image.fromarray(rgb, "RGB").save(path)


def write_nyu(root: Path, frames: dict[str, int], rng: np.random.Generator) -> dict:
    """``frames[split]`` frames per split; returns the uvd (N, 36, 3) and depths written, per split."""
    written = {}
    for split, count in frames.items():
        uvd = np.stack([rng.uniform([0, 0, 500], [640, 480, 1500], (count, 36, 3)) for _ in range(3)])
        (root / split).mkdir(parents=True, exist_ok=True)
        savemat(root / split / "joint_data.mat", {"joint_uvd": uvd, "joint_xyz": uvd * 0.5})
        depths = rng.integers(500, 2001, (count, 480, 640))
        for index in range(count):
            write_nyu_png(root / split / f"depth_1_{index + 1:07d}.png", depths[index])
        written[split] = (uvd[0], depths)
    return written


def icvl_line(name: str, uvd: np.ndarray) -> str:
    return name + " " + " ".join(f"{value:.3f}" for value in uvd.reshape(-1))


def write_icvl(root: Path, rng: np.random.Generator) -> dict:
    """Two original training frames and one rotated copy; one frame in each test sequence (\\r\\r\\n ends)."""
    training = ["201403121135/image_0000.png", "0/image_0000.png", "201403121140/image_0001.png"]
    tests = {"test_seq_1": ["test_seq_1/image_0000.png"], "test_seq_2": ["test_seq_2/image_0000.png"]}
    labels = {name: np.round(rng.uniform([0, 0, 200], [320, 240, 600], (16, 3)), 3) for name in training}
    depths = {}
    for name in training:
        depths[name] = rng.integers(200, 600, (240, 320))
        write_gray16(root / "Training" / "Depth" / name, depths[name])
    (root / "Training" / "labels.txt").write_text("\n".join(icvl_line(name, labels[name]) for name in training) + "\n")
    for sequence, names in tests.items():
        for name in names:
            labels[name] = np.round(rng.uniform([0, 0, 200], [320, 240, 600], (16, 3)), 3)
            depths[name] = rng.integers(200, 600, (240, 320))
            write_gray16(root / "Testing" / "Depth" / name, depths[name])
        text = "".join(icvl_line(name, labels[name]) + "\r\r\n" for name in names)
        (root / "Testing" / f"{sequence}.txt").write_bytes(text.encode())
    return {"labels": labels, "depths": depths, "originals": [training[0], training[2]]}


def write_msra_bin(path: Path, depth_box: np.ndarray, left: int, top: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = depth_box.shape
    header = np.array([320, 240, left, top, left + width, top + height], dtype="<u4")
    path.write_bytes(header.tobytes() + depth_box.astype("<f4").tobytes())


def write_msra(root: Path, rng: np.random.Generator, frames_per_gesture: int = 1) -> dict:
    """Every subject and gesture with ``frames_per_gesture`` frames; joints stored as MSRA stores them."""
    stored = {}
    for subject in msra.SUBJECTS:
        for gesture in msra.GESTURES:
            folder = root / subject / gesture
            folder.mkdir(parents=True)
            xyz = rng.uniform([-80, -80, 250], [80, 80, 450], (frames_per_gesture, 21, 3))
            in_file = np.round(xyz * [1, -1, -1], 4)  # y up, z negative
            lines = [str(frames_per_gesture)] + [" ".join(f"{v:.4f}" for v in joints.reshape(-1)) for joints in in_file]
            (folder / "joint.txt").write_text("\n".join(lines) + "\n")
            for index in range(frames_per_gesture):
                write_msra_bin(folder / f"{index:06d}_depth.bin", rng.uniform(200, 500, (12, 10)), 100, 80)
            stored[(subject, gesture)] = in_file
    return stored


def write_hands2017(root: Path, rng: np.random.Generator, count: int = 3) -> dict:
    names = [f"image_D{index:08d}.png" for index in range(1, count + 1)]
    xyz = np.round(rng.uniform([-100, -100, 300], [100, 100, 700], (count, 21, 3)), 4)
    depths = rng.integers(300, 700, (count, 480, 640))
    for name, depth in zip(names, depths, strict=True):
        write_gray16(root / "training" / "images" / name, depth)
    lines = [
        name + "\t" + "\t".join(f"{v:.4f}" for v in joints.reshape(-1)) for name, joints in zip(names, xyz, strict=True)
    ]
    (root / "training" / "Training_Annotation.txt").write_text("\n".join(lines) + "\n")
    write_gray16(root / "frame" / "images" / "image_D00000001.png", depths[0])
    return {"names": names, "xyz": xyz, "depths": depths}


def write_one_frame_nyu(shared_data: Path, root: Path) -> np.ndarray:
    """An NYU test set of one frame: the real frame 1 and its labels (line 1 of the kit's ground truth in the
    36-joint layout, the 22 unscored joints at the palm centre). Returns the 14 scored (u, v, d)."""
    (root / "test").mkdir(parents=True)
    shutil.copy(shared_data / "real/nyu/depth_1_0000001.png", root / "test" / "depth_1_0000001.png")
    truth = np.loadtxt(shared_data / "eval/groundtruth/nyu/nyu_test_groundtruth_label.txt", max_rows=1).reshape(14, 3)
    uvd = np.repeat(truth[13:14], 36, axis=0)
    uvd[list(NYU14_SUBSET)] = truth
    savemat(root / "test" / "joint_data.mat", {"joint_uvd": np.stack([uvd[None]] * 3)})
    return truth
