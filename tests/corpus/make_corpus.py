"""Writes tests/corpus/bad/: one malformed input per case of cases.yaml, each broken the way files break in
the wild (a truncated download, a flipped bit, the wrong kind of file, a value no camera writes, a checkpoint
from another model), and tests/corpus/good/: the valid files the commands need beside them. The files are
committed; this script says how each was made and writes them again.

    .venv/bin/python tests/corpus/make_corpus.py

Nothing here comes from ../shared/data (whose files are not copied into the repository): depth frames are
drawn by numpy, joints are random numbers in a plausible range.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from onnx import TensorProto, helper
from PIL import Image
from safetensors.torch import save_file

from handgraph.cli import main as handgraph
from handgraph.geometry.layouts import get_layout
from handgraph.inference.export import export_onnx
from handgraph.models import model_from_config
from handgraph.models.checkpoint import save_checkpoint
from handgraph.models.config import ModelConfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "fuzz"))  # the fuzz targets' writers of valid files

from targets import huge_png  # noqa: E402
from targets import mat_bytes as mat  # noqa: E402
from targets import npy_bytes as npy  # noqa: E402
from targets import png_bytes as png  # noqa: E402

BAD, GOOD = HERE / "bad", HERE / "good"
TINY = {"name": "regress", "input_size": 32, "width": 4, "blocks": 1}
RNG = np.random.default_rng(2026)


def depth_frame() -> np.ndarray:
    """A 48 x 64 frame in mm: a rounded blob (a hand-sized bump) at 600 mm in front of a wall at 1200 mm."""
    v, u = np.mgrid[:48, :64]
    blob = ((u - 32) / 14) ** 2 + ((v - 24) / 10) ** 2 < 1
    return np.where(blob, 600 + 20 * RNG.random((48, 64)), 1200).astype(np.uint16)


def msra_bin(header: tuple, box: np.ndarray) -> bytes:
    return np.array(header, "<u4").tobytes() + box.astype("<f4").tobytes()


def uvd_lines(frames: int, joints: int) -> list[str]:
    uvd = RNG.uniform([200, 150, 500], [440, 330, 900], (frames, joints, 3))
    return [" ".join(f"{value:.3f}" for value in frame.reshape(-1)) for frame in uvd]


def write(name: str, data: bytes | str) -> None:
    path = BAD / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def flip_bit(data: bytes, byte: int, bit: int = 0) -> bytes:
    return data[:byte] + bytes([data[byte] ^ (1 << bit)]) + data[byte + 1 :]


def depth_files() -> None:
    frame = png(depth_frame())
    write("depth/truncated.png", frame[: len(frame) // 2])
    write("depth/empty.png", b"")
    write("depth/8bit_gray.png", png((depth_frame() // 8).astype(np.uint8), "L"))
    write("depth/rgba.png", png(np.zeros((48, 64, 4), np.uint8), "RGBA"))
    write("depth/jpeg_named_png.png", png(np.zeros((48, 64, 3), np.uint8), "RGB", format="JPEG"))
    idat = frame.index(b"IDAT")
    write("depth/flipped_bit.png", flip_bit(frame, idat + 12, 3))
    write("depth/text_named_png.png", "this is not an image\n")
    write("depth/huge_dimensions.png", huge_png(60000, 60000))
    write("depth/object_array.npy", npy(np.array([{"depth": 1}], dtype=object), allow_pickle=True))
    write("depth/one_dimensional.npy", npy(np.arange(5.0)))
    write("depth/strings.npy", npy(np.array([["near", "far"]])))
    write("depth/truncated.npy", npy(depth_frame())[:200])
    write(
        "depth/bad_header.npy",
        b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (48, 6" + b" " * 50,
    )
    write("depth/empty_stack.npy", npy(np.zeros((0, 48, 64), np.uint16)))
    write("depth/short_header.bin", b"\x40\x01\x00\x00\xf0\x00")
    write("depth/box_outside.bin", msra_bin((320, 240, 300, 80, 330, 92), np.ones((12, 30))))
    write("depth/box_truncated.bin", msra_bin((320, 240, 100, 80, 110, 92), np.ones((12, 10)))[:-8])
    write("depth/frame.txt", "0 0 0\n")
    (GOOD / "frame.png").write_bytes(frame)


def centre_files() -> None:
    write("centres/two_columns.txt", "10.0 20.0 600.0\n10.0 20.0\n")
    write("centres/nan.txt", "nan 20.0 600.0\n")


def result_files() -> None:
    truth = uvd_lines(3, 14)
    (GOOD / "nyu_truth.txt").write_text("\n".join(truth) + "\n")
    write("results/wrong_columns.txt", "\n".join([truth[0], truth[1].rsplit(" ", 3)[0], truth[2]]) + "\n")
    write("results/nan.txt", truth[0] + "\n" + truth[1].replace(truth[1].split()[7], "nan", 1) + "\n")
    write("results/word.txt", truth[0].replace(truth[0].split()[4], "abc", 1) + "\n")
    write("results/blank_middle.txt", truth[0] + "\n\n" + truth[2] + "\n")
    write("results/utf16.txt", ("\n".join(truth) + "\n").encode("utf-16"))
    write("results/empty.txt", "\n\n")
    write("results/more_frames.txt", "\n".join(truth + uvd_lines(1, 14)) + "\n")
    write("results/huge_depth.txt", truth[0].replace(truth[0].split()[2], "1e308", 1) + "\n")
    joints = RNG.uniform(-100, 100, (3, 14, 3))
    write("results/no_fitting_array.mat", mat({"pred": joints[:, :10]}))
    write("results/two_fitting_arrays.mat", mat({"first": joints, "second": joints + 1}))
    nan = joints.copy()
    nan[1, 4, 2] = np.nan
    write("results/nan.mat", mat({"xyz_estimation": nan}))
    write("results/cells_only.mat", mat({"names": np.array(["thumb", "index"], dtype=object)}))
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
    write("results/matlab_v73.mat", header.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02IM" + b"\x89HDF\r\n\x1a\n")
    # An empty (0, 14, 3) array whose bytes from the length of its name tag on are zeros: scipy 1.17's reader
    # crashes the process on it (bench/fuzz.py found it); handgraph reads .mat files in a child process.
    crash = mat({"empty": np.zeros((0, 14, 3))})
    name_length = crash.index(b"empty") - 4
    write("results/crashes_scipy.mat", crash[:name_length] + bytes(len(crash) - name_length))


def config_files() -> None:
    write("configs/tab_indent.yaml", "steps: 10\nmodel:\n\tname: hgt\n")
    write("configs/unknown_key.yaml", "stepz: 10\n")
    write("configs/wrong_type.yaml", "steps: ten\n")
    write("configs/list.yaml", "- steps: 10\n")
    write("configs/unknown_preset.yaml", "preset: fast\n")
    write("configs/python_tag.yaml", "steps: !!python/object/apply:os.system ['true']\n")
    write("configs/latin1.yaml", "# r\xe9glages\nsteps: 10\n".encode("latin-1"))


def tiny_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return model_from_config(ModelConfig.from_dict(TINY))


def checkpoint(name: str) -> Path:
    folder = BAD / "checkpoints" / name
    save_checkpoint(folder, tiny_model(), 10, {})
    meta = json.loads((folder / "checkpoint.json").read_text())
    meta["written_by"] = {"handgraph": "0.1.0", "commit": None, "uncommitted_changes": None, "command": "corpus"}
    (folder / "checkpoint.json").write_text(json.dumps(meta, indent=1) + "\n")
    return folder


def edit_weights(folder: Path, change) -> None:
    from safetensors.torch import load_file

    tensors = load_file(folder / "model.safetensors")
    change(tensors)
    save_file(tensors, folder / "model.safetensors")


def edit_meta(folder: Path, change) -> None:
    meta = json.loads((folder / "checkpoint.json").read_text())
    change(meta)
    (folder / "checkpoint.json").write_text(json.dumps(meta, indent=1) + "\n")


def checkpoint_files() -> None:
    first = "backbone.stem.0.0.weight"

    def shape(tensors):
        tensors[first] = torch.zeros(4, 1, 5, 5)

    def dtype(tensors):
        tensors[first] = tensors[first].double()

    def nan(tensors):
        tensors[first][0, 0, 0, 0] = float("nan")

    edit_weights(checkpoint("wrong_shape"), shape)
    edit_weights(checkpoint("float64_weights"), dtype)
    edit_weights(checkpoint("missing_tensor"), lambda tensors: tensors.pop(first))
    edit_weights(checkpoint("extra_tensor"), lambda tensors: tensors.update(extra=torch.zeros(3)))
    edit_weights(checkpoint("nan_weight"), nan)
    truncated = checkpoint("truncated_weights") / "model.safetensors"
    truncated.write_bytes(truncated.read_bytes()[:1000])
    edit_meta(checkpoint("unknown_config_key"), lambda meta: meta["model"].update(depth=3))
    edit_meta(checkpoint("mistyped_config"), lambda meta: meta["model"].update(width="wide"))
    edit_meta(checkpoint("missing_step"), lambda meta: meta.pop("step"))
    edit_meta(checkpoint("other_format"), lambda meta: meta.update(format="lightning-checkpoint"))
    edit_meta(checkpoint("other_model"), lambda meta: meta["model"].update(width=8))
    (checkpoint("no_json") / "checkpoint.json").unlink()


def onnx_files() -> None:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    other = helper.make_model(graph, producer_name="another-program")
    write("onnx/other_program.onnx", other.SerializeToString())
    helper.set_model_props(other, {"handgraph": json.dumps({"model": TINY, "cube_mm": 250.0})})
    write("onnx/foreign_graph_with_metadata.onnx", other.SerializeToString())
    path = BAD / "onnx" / "truncated.onnx"
    export_onnx(tiny_model().eval(), path, {"model": ModelConfig.from_dict(TINY).resolved().to_dict()})
    path.write_bytes(path.read_bytes()[:2000])


def prediction_files() -> None:
    joints = list(get_layout("canonical").joint_names)
    camera = {"fx": 476.0, "fy": 476.0, "cx": 320.0, "cy": 240.0, "width": 640, "height": 480}
    xyz = np.round(RNG.uniform([-50, -50, 500], [50, 50, 600], (21, 3)), 2).tolist()
    frame = {"file": "a.png", "hand": True, "xyz": xyz}
    write("predictions/not_json.json", '{"joints": [1, 2,')
    write("predictions/no_joints.json", json.dumps({"camera": camera, "frames": [frame]}))
    write("predictions/short_xyz.json", json.dumps({"joints": joints, "camera": camera,
                                                    "frames": [{**frame, "xyz": xyz[:20]}]}))  # fmt: skip
    write("predictions/camera_text.json", json.dumps({"joints": joints, "camera": {**camera, "fx": "476"},
                                                      "frames": [frame]}))  # fmt: skip


def dataset_folders() -> None:
    nyu = BAD / "datasets" / "nyu_truncated_labels" / "test"
    nyu.mkdir(parents=True)
    Image.fromarray(np.stack([np.zeros((480, 640), np.uint8)] * 3, axis=-1)).save(nyu / "depth_1_0000001.png")
    labels = mat({"joint_uvd": RNG.uniform(0, 600, (3, 1, 36, 3))})
    (nyu / "joint_data.mat").write_bytes(labels[: len(labels) - 100])
    icvl = BAD / "datasets" / "icvl_short_line" / "Training"
    (icvl / "Depth" / "seq").mkdir(parents=True)
    Image.fromarray(np.full((240, 320), 400, np.uint16)).save(icvl / "Depth" / "seq" / "image_0000.png")
    (icvl / "labels.txt").write_text("seq/image_0000.png " + " ".join(["1.0"] * 40) + "\n")
    own = BAD / "datasets" / "own_camera_missing_key"
    (own / "frames").mkdir(parents=True)
    Image.fromarray(depth_frame()).save(own / "frames" / "0.png")
    (own / "camera.json").write_text(json.dumps({"fx": 476.0, "fy": 476.0, "cx": 32.0, "width": 64, "height": 48}))
    (own / "labels.txt").write_text("frames/0.png " + " ".join(["1.0"] * 63) + "\n")
    msra = BAD / "datasets" / "msra_count_mismatch" / "P0" / "1"
    msra.mkdir(parents=True)
    (msra / "000000_depth.bin").write_bytes(msra_bin((320, 240, 100, 80, 110, 92), np.full((12, 10), 400.0)))
    (msra / "joint.txt").write_text("2\n" + " ".join(["1.0"] * 63) + "\n")


def partial_copies() -> None:
    """Copies of a dataset that hold part of it, meeting full-size published files (issue 23)."""
    frame = np.stack([np.zeros((480, 640), np.uint8)] * 3, axis=-1)
    labels = RNG.uniform(100, 400, (3, 2, 36, 3))
    for name, count, frames in (("nyu_first_frame", 1, 1), ("nyu_frame_missing", 2, 1)):
        test = BAD / "datasets" / name / "test"
        test.mkdir(parents=True)
        write(f"datasets/{name}/test/joint_data.mat", mat({"joint_uvd": labels[:, :count]}))
        for index in range(frames):
            Image.fromarray(frame).save(test / f"depth_1_{index + 1:07d}.png")
    write("datasets/nyu_first_frame/five_centres.txt", "0 0 500\n" * 5)
    train = BAD / "datasets" / "nyu_train_only" / "train"
    train.mkdir(parents=True)
    write("datasets/nyu_train_only/train/joint_data.mat", mat({"joint_uvd": labels[:, :1]}))
    Image.fromarray(frame).save(train / "depth_1_0000001.png")
    icvl = BAD / "datasets" / "icvl_test_seq_2_only" / "Testing"
    (icvl / "Depth" / "test_seq_2").mkdir(parents=True)
    Image.fromarray(np.full((240, 320), 400, np.uint16)).save(icvl / "Depth" / "test_seq_2" / "image_0000.png")
    write("datasets/icvl_test_seq_2_only/Testing/test_seq_2.txt",
          "test_seq_2/image_0000.png " + " ".join(["100.0"] * 48) + "\r\r\n")  # fmt: skip
    write("datasets/icvl_test_seq_2_only/two_centres.txt", "0 0 400\n" * 2)
    icvl = BAD / "datasets" / "icvl_train_only" / "Training"
    (icvl / "Depth" / "seq").mkdir(parents=True)
    Image.fromarray(np.full((240, 320), 400, np.uint16)).save(icvl / "Depth" / "seq" / "image_0000.png")
    write("datasets/icvl_train_only/Training/labels.txt", "seq/image_0000.png " + " ".join(["100.0"] * 48) + "\n")


def run_folders() -> None:
    settings = "steps: 2\nbatch_size: 2\nwarmup_steps: 1\neval_every: 2\neval_frames: 4\ncheckpoint_every: 1\n"
    (GOOD / "tiny.yaml").write_text(settings + f"model: {json.dumps(TINY)}\n")
    for name in ("run_garbled_latest", "run_truncated_training_state", "run_latest_names_missing_folder"):
        run = BAD / "training" / name
        assert handgraph(["train", "--config", str(GOOD / "tiny.yaml"), "--out", str(run)]) == 0
        shutil.rmtree(run / "tensorboard")  # event files name the host and the time; nothing here reads them
    (BAD / "training/run_garbled_latest/checkpoints/latest.json").write_bytes(b'{"folder": "step_00\x00')
    state = BAD / "training/run_truncated_training_state/checkpoints/step_0000002/training.safetensors"
    state.write_bytes(state.read_bytes()[:300])
    (BAD / "training/run_latest_names_missing_folder/checkpoints/latest.json").write_text(
        '{"folder": "step_0000009"}\n'
    )


def shard_folders() -> None:
    from handgraph.synth.generator import SynthConfig
    from handgraph.synth.shards import write_dataset

    folder = BAD / "shards" / "manifest_count"
    write_dataset(folder, SynthConfig.from_dict({"size": 32}), 0, 2, shard_size=2, workers=1, progress=False)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["count"] = 3
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    flipped = BAD / "shards" / "shard_bit_flip"
    write_dataset(flipped, SynthConfig.from_dict({"size": 32}), 0, 2, shard_size=2, workers=1, progress=False)
    shard = flipped / "shard_00000.npz"
    shard.write_bytes(flip_bit(shard.read_bytes(), 300))


def main() -> None:
    shutil.rmtree(BAD, ignore_errors=True)
    shutil.rmtree(GOOD, ignore_errors=True)
    GOOD.mkdir(parents=True)
    for make in (depth_files, centre_files, result_files, config_files, checkpoint_files, onnx_files,
                 prediction_files, dataset_folders, partial_copies, run_folders, shard_folders):  # fmt: skip
        make()
    print(f"wrote {sum(1 for _ in BAD.rglob('*') if _.is_file())} files under {BAD}")


if __name__ == "__main__":
    main()
