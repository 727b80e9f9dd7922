"""Every reader of a file users hand handgraph, called as the command line calls it, with valid inputs to
mutate: the targets of the fuzz tests (test_fuzz_readers.py) and of the long fuzz run (fuzz_readers.py).

A target owns a template folder: :func:`Target.prepare` writes valid files there once (a tiny checkpoint, a
mini dataset in its published layout, ...), and each fuzz input replaces one file of it (``Target.file``)
before ``Target.read`` opens the folder the way the command does. A read either returns a result that
``Target.check`` accepts, or raises :class:`HandgraphError`: any other exception is a bug, and so is a result
that cannot be right (a depth of NaN, joints that are not finite).
"""

from __future__ import annotations

import io
import json
import math
import shutil
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.io import savemat

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "datasets"))  # minis: the datasets in their published layouts

import minis  # noqa: E402

SHARED_DATA = TESTS.parents[1] / "shared" / "data"


@dataclass
class Target:
    name: str
    """What is read, as the report names it."""
    file: str
    """The file of the template folder that each input replaces."""
    read: Callable[[Path], object]
    """Reads the template folder as the command line does; returns what the command goes on with."""
    build: Callable[[Path], None] = lambda folder: None
    """Writes the valid template files (all but ``file`` when ``seeds`` gives it)."""
    seeds: Callable[[], list[bytes]] | None = None
    """Valid contents of ``file`` and extreme values in its format; default: ``file`` as ``build`` wrote it."""
    check: Callable[[object], None] = lambda result: None
    """Raises AssertionError when a read returned a result that cannot be right."""
    folder: Path | None = field(default=None, init=False)

    def prepare(self, root: Path) -> list[bytes]:
        """Build the template under ``root``; returns the seed contents of ``file``."""
        self.folder = root / self.name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.build(self.folder)
        seeds = self.seeds() if self.seeds else [(self.folder / self.file).read_bytes()]
        return seeds

    def run(self, data: bytes) -> object:
        """Replace ``file`` by ``data`` and read; the caller decides what an exception means."""
        path = self.folder / self.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        result = self.read(self.folder)
        self.check(result)
        return result


# --- valid files in each format -------------------------------------------------------------------------------


def png_bytes(array: np.ndarray, mode: str | None = None, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format=format)
    return buffer.getvalue()


def npy_bytes(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)  # True only to make a file that readers must refuse
    return buffer.getvalue()


def mat_bytes(arrays: dict, **options) -> bytes:
    buffer = io.BytesIO()
    savemat(buffer, arrays, **options)
    return buffer.getvalue()


@cache
def sr305_crop() -> np.ndarray:
    """A 48 x 64 piece of a real RealSense SR305 frame around the hand (uint16, 0.125 mm units)."""
    with Image.open(SHARED_DATA / "real/sr305/20210326-231615/0.png") as image:
        return np.asarray(image)[200:248, 280:344].astype(np.uint16)


@cache
def nyu_crop() -> np.ndarray:
    """A 48 x 64 piece of the real NYU frame, still RGB-packed."""
    with Image.open(SHARED_DATA / "real/nyu/depth_1_0000001.png") as image:
        return np.asarray(image)[150:198, 280:344].copy()


def head_lines(path: Path, lines: int) -> bytes:
    with open(path, "rb") as handle:
        return b"".join(handle.readline() for _ in range(lines))


def huge_png(width: int, height: int) -> bytes:
    """A valid 1 x 1 16-bit PNG whose header (with its checksum) promises ``width`` x ``height`` pixels."""
    data = png_bytes(np.zeros((1, 1), np.uint16))
    start = data.index(b"IHDR")
    header = data[start : start + 4] + struct.pack(">II", width, height) + data[start + 12 : start + 17]
    return data[:start] + header + struct.pack(">I", zlib.crc32(header)) + data[start + 21 :]


def _depth_seeds_png16() -> list[bytes]:
    crop = sr305_crop()
    return [
        png_bytes(crop),
        huge_png(60000, 60000),
        huge_png(12000, 12000),
        png_bytes(np.zeros((4, 4), np.uint16)),
        png_bytes(np.full((3, 5), 65535, np.uint16)),
        png_bytes(np.ones((1, 1), np.uint16)),
    ]


def _depth_seeds_nyu() -> list[bytes]:
    gray = (sr305_crop() >> 8).astype(np.uint8)
    return [png_bytes(nyu_crop(), "RGB"), png_bytes(gray, "L"), png_bytes(np.dstack([nyu_crop(), gray]), "RGBA")]


def _depth_seeds_npy() -> list[bytes]:
    crop = sr305_crop().astype(np.float32) / 8
    odd = crop.copy()
    odd[0, :4] = [np.nan, np.inf, -np.inf, -5]
    return [
        npy_bytes(crop),
        npy_bytes(odd),
        npy_bytes(crop.astype(np.uint16)),
        npy_bytes(np.zeros((0, 4), np.float32)),
        npy_bytes(np.array([1.0, 2.0])),
        npy_bytes(np.array([["a", "b"]])),
        npy_bytes(np.array([[True]])),
        npy_bytes(crop.astype(">f8")),
        huge_npy_header(),
    ]


def huge_npy_header() -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": (60000, 60000)})
    return buffer.getvalue() + bytes(64)


def _msra_bin(box: np.ndarray, header=(320, 240, 100, 80, 110, 92)) -> bytes:
    return np.array(header, "<u4").tobytes() + box.astype("<f4").tobytes()


def _depth_seeds_bin() -> list[bytes]:
    box = sr305_crop()[:12, :10].astype(np.float32) / 8
    odd = box.copy()
    odd[0, :3] = [np.nan, -np.inf, -1]
    return [_msra_bin(box), _msra_bin(odd), _msra_bin(box[:1, :1], (1, 1, 0, 0, 1, 1))]


def _stack_seeds() -> list[bytes]:
    crop = sr305_crop()
    return [npy_bytes(np.stack([crop, crop[::-1]])), npy_bytes(np.zeros((0, 4, 4), np.uint16)), npy_bytes(crop)]


def _nyu_results() -> list[bytes]:
    results = SHARED_DATA / "eval/results/nyu"
    first = head_lines(results / "ICCVW17_NYU_DeepPrior++.txt", 3)
    icvl = head_lines(SHARED_DATA / "eval/groundtruth/icvl/test_seq_1.txt", 2)
    numbers = first.split()
    nan_line = b" ".join([b"nan", *numbers[1:42]]) + b"\n"
    return [
        first,
        first.replace(b"\n", b"\r\n") + b"\n\n",
        b"frame_1.png " + first.splitlines()[0] + b"\n",
        nan_line,
        b" ".join([b"1e309", *numbers[1:42]]) + b"\n",
        icvl,
    ]


def _nyu_mats() -> list[bytes]:
    from scipy.io import loadmat

    xyz = loadmat(SHARED_DATA / "eval/results/nyu/CVPR18_NYU_HandPointNet_ori.mat")["xyz_estimation"][:3]
    flat = xyz.reshape(3, 42)
    odd = xyz.copy()
    odd[1, 2, 0] = np.nan
    return [
        mat_bytes({"xyz_estimation": xyz}),
        mat_bytes({"pred": flat}, do_compression=True),
        mat_bytes({"joints": flat.astype(np.float32)}, format="4"),
        mat_bytes({"xyz_estimation": odd}),
        mat_bytes({"a": xyz, "b": xyz}),
        mat_bytes({"empty": np.zeros((0, 14, 3))}),
        mat_bytes({"cells": np.array([xyz, "text"], dtype=object)}),
    ]


def _centres() -> list[bytes]:
    lines = head_lines(SHARED_DATA / "real/nyu/center_test_refined.txt", 3)
    return [lines, b"0 0 0\n", b"-1e300 1e300 5\n"]


# --- readers as the commands call them ----------------------------------------------------------------------


def _read_frame(file: str) -> Callable[[Path], np.ndarray]:
    from handgraph.io.depth_images import read_frame

    return lambda folder: read_frame(str(folder / file))


def _read_stack(folder: Path) -> list[np.ndarray]:
    from handgraph.io.depth_images import depth_files, frame_readers

    return [read() for _, read in frame_readers(depth_files(folder / "stack.npy"))]


def _check_depth(depth) -> None:
    frames = depth if isinstance(depth, list) else [depth]
    for frame in frames:
        assert frame.ndim == 2 and frame.size > 0, frame.shape
        assert np.isfinite(frame).all() and (frame >= 0).all(), "a depth that is not finite or negative"


def _check_joints(joints) -> None:
    assert joints.ndim == 3 and joints.shape[0] > 0 and joints.shape[2] == 3, joints.shape
    assert np.isfinite(joints).all(), "joints that are not finite"


def _read_result(file: str) -> Callable[[Path], np.ndarray]:
    from handgraph.datasets.protocol import get_protocol
    from handgraph.evaluation.evaluate import load_xyz

    return lambda folder: load_xyz(folder / file, get_protocol("nyu"), "uvd", None)


def _read_centres(folder: Path) -> np.ndarray:
    from handgraph.io.result_files import read_joint_text

    return read_joint_text(folder / "centres.txt", 1)


def _read_config(folder: Path):
    from handgraph.training.config import load_config

    return load_config(str(folder / "config.yaml"), [])


def _config_seeds() -> list[bytes]:
    return [
        b"preset: demo\nsteps: 100\nmodel:\n  name: sia_gcn\n  width: 16\ndata:\n  seed: 3\n",
        b"steps: 10\nbatch_size: 4\nlr: 0.001\nmodel: {name: hgt, input_size: 64}\n",
        b"steps: .nan\n",
        b"model:\n  input_size: 4096000\n",
        b"- a list\n",
        b"steps: !!python/object:os.system ls\n",
    ]


TINY_MODEL = {"name": "regress", "input_size": 32, "width": 4, "blocks": 1}


def _write_checkpoint(folder: Path) -> None:
    import torch

    from handgraph.models import model_from_config
    from handgraph.models.checkpoint import save_checkpoint
    from handgraph.models.config import ModelConfig

    torch.manual_seed(0)
    model = model_from_config(ModelConfig.from_dict(TINY_MODEL))
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    save_checkpoint(folder, model, 3, {"loss": 1.0}, {"steps": 3}, optimizer, scheduler)


def _load_model(folder: Path):
    from handgraph.inference.networks import load_network

    return load_network(folder, "torch").runner.module.model  # as predict opens it (evaluate, export: load_model)


def _check_model(model) -> None:
    for name, value in model.state_dict().items():
        assert value.is_floating_point() is False or bool(value.isfinite().all() or "mask" in name), name


def _restore(folder: Path) -> dict:
    import torch

    from handgraph.models import model_from_config
    from handgraph.models.checkpoint import restore_training
    from handgraph.models.config import ModelConfig

    model = model_from_config(ModelConfig.from_dict(TINY_MODEL))
    optimizer = torch.optim.AdamW(model.parameters())
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    state = torch.get_rng_state()
    try:
        return restore_training(folder, model, optimizer, scheduler)
    finally:
        torch.set_rng_state(state)


def _write_run(folder: Path) -> None:
    from handgraph.training.run import mark_latest

    _write_checkpoint(folder / "checkpoints" / "step_0000003")
    mark_latest(folder, folder / "checkpoints" / "step_0000003")


def _latest(folder: Path):
    from handgraph.models.checkpoint import read_checkpoint_meta
    from handgraph.training.run import latest_checkpoint

    latest = latest_checkpoint(folder)
    return None if latest is None else read_checkpoint_meta(latest)


def _write_onnx(folder: Path) -> None:
    from handgraph.inference.export import export_onnx
    from handgraph.models import model_from_config
    from handgraph.models.config import ModelConfig

    model = model_from_config(ModelConfig.from_dict(TINY_MODEL)).eval()
    export_onnx(model, folder / "model.onnx", {"model": model.config.to_dict(), "cube_mm": 250.0})


def _foreign_onnx() -> bytes:
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "other",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    return onnx.helper.make_model(graph).SerializeToString()


def _onnx_seeds() -> list[bytes]:
    folder = TARGETS_BY_NAME["onnx"].folder
    return [(folder / "model.onnx").read_bytes(), _foreign_onnx()]


def _load_onnx(folder: Path):
    from handgraph.inference.networks import load_network

    return load_network(folder / "model.onnx", "onnx", threads=1)


def _write_shards(folder: Path) -> None:
    from handgraph.synth.generator import SynthConfig
    from handgraph.synth.shards import write_dataset

    write_dataset(folder, SynthConfig.from_dict({"size": 32}), seed=0, count=4, shard_size=2, workers=1,
                  progress=False)  # fmt: skip


def _read_shards(folder: Path) -> list[dict]:
    from handgraph.synth.shards import ShardedFrames

    frames = ShardedFrames(folder)
    return [frames.frame(index) for index in range(len(frames))]


def _check_frames(frames: list[dict]) -> None:
    """Every frame the manifest promises, each with the arrays and shapes of the template's frames."""
    assert len(frames) == 4, len(frames)
    shapes = [{key: value.shape for key, value in frame.items()} for frame in frames]
    assert all(shape == shapes[0] for shape in shapes), shapes
    assert all(np.isfinite(frame["xyz"]).all() for frame in frames)


def _nyu_dataset(folder: Path) -> None:
    minis.write_one_frame_nyu(SHARED_DATA, folder)


def _nyu_labels_seeds() -> list[bytes]:
    written = (TARGETS_BY_NAME["nyu labels"].folder / "test/joint_data.mat").read_bytes()
    uvd = np.zeros((3, 1, 36, 3))
    return [written, mat_bytes({"joint_uvd": uvd[:, :, :14]}), mat_bytes({"joint_xyz": uvd})]


def _open(spec: str) -> Callable[[Path], object]:
    from handgraph.datasets import open_split

    def read(folder: Path):
        split = open_split(spec, folder)
        return split.xyz

    return read


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _own_dataset(folder: Path) -> None:
    minis.write_gray16(folder / "frames/0.png", sr305_crop())
    minis.write_gray16(folder / "frames/1.png", sr305_crop()[::-1])
    camera = {"fx": 476.0, "fy": 476.0, "cx": 32.0, "cy": 24.0, "width": 64, "height": 48, "depth_scale_mm": 0.125}
    (folder / "camera.json").write_text(json.dumps(camera))
    joints = np.round(_rng().uniform([-50, -50, 500], [50, 50, 600], (2, 21, 3)), 2)
    lines = [f"frames/{k}.png " + " ".join(f"{v:.2f}" for v in joints[k].reshape(-1)) for k in range(2)]
    (folder / "labels.txt").write_text("\n".join(lines) + "\n")


def _predictions_json(folder: Path) -> None:
    from handgraph.geometry.layouts import get_layout

    xyz = np.round(_rng().uniform([-50, -50, 500], [50, 50, 600], (21, 3)), 2).tolist()
    content = {
        "joints": list(get_layout("canonical").joint_names),
        "camera": {"fx": 476.0, "fy": 476.0, "cx": 320.0, "cy": 240.0, "width": 640, "height": 480},
        "frames": [{"file": "a.png", "hand": True, "xyz": xyz}, {"file": "b.png", "hand": False}],
    }
    (folder / "predictions.json").write_text(json.dumps(content))


def _read_fit_input(folder: Path):
    from handgraph.fitting.inputs import read_fit_input

    return read_fit_input(str(folder / "predictions.json"), None, "uvd", None, False)


def _recording(folder: Path) -> None:
    (folder / "rec.npy").write_bytes(npy_bytes(np.stack([sr305_crop()] * 2)))
    camera = {"fx": 476.0, "fy": 476.0, "cx": 32.0, "cy": 24.0, "width": 64, "height": 48}
    (folder / "rec.json").write_text(json.dumps({"camera": camera, "depth_scale_mm": 0.125, "fps": 30}))


def _read_recording(folder: Path):
    from handgraph.io.recordings import read_recording_info

    return read_recording_info(folder / "rec.npy")


def _check_recording(info) -> None:
    camera, scale, fps = info
    assert all(math.isfinite(value) for value in (camera.fx, camera.fy, camera.cx, camera.cy, scale, fps)), info


def _localizer(folder: Path) -> None:
    import torch

    from handgraph.localizer.network import HandLocalizer, LocalizerConfig
    from handgraph.models.checkpoint import save_checkpoint

    torch.manual_seed(0)
    save_checkpoint(folder, HandLocalizer(LocalizerConfig(width=4)), 1, {})


def _localizer_onnx(folder: Path) -> None:
    from handgraph.inference.export import export_localizer
    from handgraph.localizer.network import HandLocalizer, LocalizerConfig

    export_localizer(HandLocalizer(LocalizerConfig(width=4)).eval(), folder / "localizer.onnx")


def _open_localizer_onnx(folder: Path):
    from handgraph.inference.localizing import Localizer

    return Localizer(folder / "localizer.onnx", backend="onnx", threads=1)


def _load_localizer(folder: Path):
    from handgraph.localizer.network import load_localizer_network

    return load_localizer_network(folder)[0]


def _icvl(folder: Path) -> None:
    minis.write_icvl(folder, _rng())


def _msra(folder: Path) -> None:
    minis.write_msra(folder, _rng())


def _hands2017(folder: Path) -> None:
    minis.write_hands2017(folder, _rng(), count=2)


TARGETS = [
    Target("16-bit PNG depth", "frame.png", _read_frame("frame.png"), seeds=_depth_seeds_png16, check=_check_depth),
    Target("NYU RGB PNG depth", "frame.png", _read_frame("frame.png"), seeds=_depth_seeds_nyu, check=_check_depth),
    Target(".npy depth", "frame.npy", _read_frame("frame.npy"), seeds=_depth_seeds_npy, check=_check_depth),
    Target("MSRA .bin depth", "frame.bin", _read_frame("frame.bin"), seeds=_depth_seeds_bin, check=_check_depth),
    Target(".npy recording", "stack.npy", _read_stack, seeds=_stack_seeds, check=_check_depth),
    Target("recording JSON", "rec.json", _read_recording, build=_recording, check=_check_recording),
    Target("result text", "result.txt", _read_result("result.txt"), seeds=_nyu_results, check=_check_joints),
    Target("result .mat", "result.mat", _read_result("result.mat"), seeds=_nyu_mats, check=_check_joints),
    Target("centres text", "centres.txt", _read_centres, seeds=_centres, check=_check_joints),
    Target("config YAML", "config.yaml", _read_config, seeds=_config_seeds),
    Target("checkpoint JSON", "checkpoint.json", _load_model, build=_write_checkpoint, check=_check_model),
    Target("checkpoint weights", "model.safetensors", _load_model, build=_write_checkpoint, check=_check_model),
    Target("training state", "training.safetensors", _restore, build=_write_checkpoint),
    Target("latest.json", "checkpoints/latest.json", _latest, build=_write_run),
    Target("localizer checkpoint", "checkpoint.json", _load_localizer, build=_localizer, check=_check_model),
    Target("onnx", "model.onnx", _load_onnx, build=_write_onnx, seeds=_onnx_seeds),
    Target("localizer onnx", "localizer.onnx", _open_localizer_onnx, build=_localizer_onnx),
    Target("shard manifest", "manifest.json", _read_shards, build=_write_shards, check=_check_frames),
    Target("shard", "shard_00000.npz", _read_shards, build=_write_shards, check=_check_frames),
    Target("nyu labels", "test/joint_data.mat", _open("nyu:test"), build=_nyu_dataset, seeds=_nyu_labels_seeds),
    Target("icvl labels", "Training/labels.txt", _open("icvl:train"), build=_icvl),
    Target("icvl test labels", "Testing/test_seq_1.txt", _open("icvl:test"), build=_icvl),
    Target("msra joints", "P0/1/joint.txt", _open("msra:test=P0"), build=_msra),
    Target("hands2017 labels", "training/Training_Annotation.txt", _open("hands2017:train"), build=_hands2017),
    Target("own camera.json", "camera.json", _open("own:all"), build=_own_dataset),
    Target("own labels", "labels.txt", _open("own:all"), build=_own_dataset),
    Target("predictions.json", "predictions.json", _read_fit_input, build=_predictions_json),
]
TARGETS_BY_NAME = {target.name: target for target in TARGETS}


def file_stem(name: str) -> str:
    """A target's name as the start of a file name: 'result .mat' -> 'result_.mat', '.npy depth' -> 'npy_depth'."""
    return name.replace(" ", "_").replace("/", "_").lstrip(".")
