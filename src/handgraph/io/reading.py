"""Reading files that other people and programs wrote: each way a file can be broken (missing, a folder,
not text, not the format, truncated) becomes one HandgraphError line that names the file and what it
should have been. The libraries underneath raise many unrelated exception types for a damaged file, and
put line breaks in their messages; neither reaches the user."""

from __future__ import annotations

import contextlib
import faulthandler
import io
import json
import os
import re
import signal
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from handgraph.errors import HandgraphError


def one_line(text: object) -> str:
    """A library's message on one line: runs of whitespace, line breaks included, become one space."""
    return re.sub(r"\s+", " ", str(text)).strip()


def read_bytes(path: str | os.PathLike, what: str) -> bytes:
    """The file's bytes; a missing file, a folder or an unreadable file is an error naming ``what`` it should be."""
    path = Path(path)
    if path.is_dir():
        raise HandgraphError(f"{path}: is a folder; expected {what}")
    if not path.is_file():
        raise HandgraphError(f"{path}: not found; expected {what}")
    try:
        return path.read_bytes()
    except OSError as error:
        raise HandgraphError(f"{path}: cannot be read ({one_line(error.strerror or error)})") from None


def read_text(path: str | os.PathLike, what: str) -> str:
    """The file as UTF-8 text."""
    raw = read_bytes(path, what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HandgraphError(
            f"{path}: not a text file (undecodable byte at offset {error.start}); expected {what}"
        ) from None


def read_json(path: str | os.PathLike, what: str) -> object:
    """A JSON file's content; a missing or invalid file is an error naming it and ``what`` its folder should be
    (a checkpoint folder, a dataset folder, ...)."""
    path = Path(path)
    if not path.is_file():
        raise HandgraphError(f"{path}: not found; {path.parent} is not {what}")
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise HandgraphError(f"{path}: not valid JSON ({error})") from None
    except (ValueError, RecursionError) as error:  # an integer of more than 4300 digits; nesting too deep
        raise HandgraphError(f"{path}: not valid JSON ({one_line(error) or 'nested too deeply'})") from None


MAT_SECONDS = 300
"""How long the child reading a .mat file may take before it is stopped (a damaged file can make scipy spin)."""


def read_mat(path: str | os.PathLike, what: str, variable_names: list[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of a MATLAB v4-v7 ``.mat`` file (v7.3 is HDF5, which scipy does not read), by name. Arrays of
    numbers, booleans and text come back as they are; cells and structs as empty object arrays of their shape
    (enough to name them in an error; nothing here reads them).

    scipy's reader is not hardened against damaged files (its documentation says so, and a zeroed tag in a
    matrix header crashes the process: bench/fuzz.py found one), so where the system can fork it runs in a
    forked child that hands the arrays back as an ``.npz``: a crash there is an error here. A plain fork, not
    multiprocessing: the caller may itself be a daemonic pool worker (a crop cache's), which may not start one."""
    path = Path(path)
    read_bytes(path, what)  # the missing-file and folder errors
    if not hasattr(os, "fork"):
        return _plain_arrays(_loadmat(path, what, variable_names))
    with tempfile.TemporaryDirectory(prefix="handgraph-mat-") as folder:
        with warnings.catch_warnings():  # Python 3.12+ warns about fork in a process with threads (torch's pool)
            warnings.simplefilter("ignore", DeprecationWarning)
            child = os.fork()
        if child == 0:
            _loadmat_child(path, what, variable_names, Path(folder))  # never returns
        status = _wait(child, MAT_SECONDS)
        error = Path(folder) / "error.txt"
        if status == 0 and error.is_file():
            raise HandgraphError(error.read_text())
        if status != 0:
            how = f"signal {-status}" if status < 0 else f"exit code {status}"
            raise HandgraphError(
                f"{path}: not a readable MATLAB .mat file (scipy's reader crashed on it: {how}); expected {what}"
            )
        listing = json.loads((Path(folder) / "arrays.json").read_text())
        with np.load(Path(folder) / "arrays.npz", allow_pickle=False) as archive:
            arrays = {name: archive[f"arr_{k}"] for k, name in enumerate(listing["plain"])}
    return arrays | {name: np.empty(shape, dtype=object) for name, shape in listing["others"].items()}


def _wait(child: int, seconds: float) -> int:
    """The child's exit code, or minus the signal that ended it; killed after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(child, signal.SIGKILL)
        time.sleep(0.002)


def _loadmat(path: Path, what: str, variable_names: list[str] | None) -> dict:
    from scipy.io import loadmat

    try:
        contents = loadmat(path, variable_names=variable_names)
    except NotImplementedError:
        raise HandgraphError(f"{path}: MATLAB v7.3 (HDF5) files are not read; save it with -v7") from None
    except MemoryError:
        raise HandgraphError(f"{path}: its header promises more data than fits in memory; expected {what}") from None
    except Exception as error:  # scipy raises ValueError, TypeError, IndexError, MatReadError, ... when damaged
        raise HandgraphError(f"{path}: not a readable MATLAB .mat file ({one_line(error)}); expected {what}") from None
    return {name: value for name, value in contents.items() if not name.startswith("__")}


def _plain_arrays(contents: dict) -> dict[str, np.ndarray]:
    return {
        name: value if value.dtype.kind in "biufcU" else np.empty(value.shape, dtype=object)
        for name, value in contents.items()
        if isinstance(value, np.ndarray)
    }


def _loadmat_child(path: Path, what: str, variable_names: list[str] | None, folder: Path) -> None:
    """In the forked child: the arrays to ``folder``/arrays.npz as arr_0, arr_1, ... (their names, and the
    shapes of cells and structs, to arrays.json), or the error's line to error.txt; then exit, whatever
    happens, without running anything of the parent's."""
    code = 1
    try:
        faulthandler.disable()  # a crash here is reported by the parent, in one line
        try:
            arrays = _plain_arrays(_loadmat(path, what, variable_names))
        except HandgraphError as error:
            (folder / "error.txt").write_text(str(error))
        else:
            plain = [name for name, value in arrays.items() if value.dtype != object]
            np.savez(folder / "arrays.npz", *(arrays[name] for name in plain))
            others = {name: list(value.shape) for name, value in arrays.items() if name not in plain}
            (folder / "arrays.json").write_text(json.dumps({"plain": plain, "others": others}))
        code = 0
    finally:
        os._exit(code)


def read_npy(path: str | os.PathLike, mmap: bool = False) -> np.ndarray:
    """The array of a ``.npy`` file (memory-mapped when ``mmap``); pickled objects are refused."""
    path = Path(path)
    read_bytes(path, "a .npy array") if not mmap else None
    try:
        array = np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    except MemoryError:
        raise HandgraphError(f"{path}: its header promises more data than fits in memory") from None
    except Exception as error:  # numpy raises ValueError, EOFError, OverflowError, SyntaxError, ... on a bad header
        raise HandgraphError(f"{path}: not a readable .npy array ({one_line(error)})") from None
    if not isinstance(array, np.ndarray):  # np.load opens an .npz archive whatever the file's name
        array.close()
        raise HandgraphError(f"{path}: an .npz archive, not a .npy array")
    return array


def environment_threads() -> int | None:
    """``OMP_NUM_THREADS`` when it is a positive whole number, else None. It sets PyTorch's CPU threads, and
    handgraph gives ONNX Runtime the same number when no other is asked for, so one variable sets both."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def read_onnx(path: str | os.PathLike, threads: int | None, metadata_key: str, hint: str):
    """An ONNX Runtime session of ``path`` on the CPU (``threads`` intra-op threads; by default
    :func:`environment_threads`, else ONNX Runtime's own choice) and the JSON mapping that handgraph's export
    stored under ``metadata_key``; ``hint`` says how to make a right file."""
    import onnxruntime

    path = Path(path)
    if not path.is_file():
        raise HandgraphError(f"{path}: no such ONNX file ({hint})")
    options = onnxruntime.SessionOptions()
    threads = threads or environment_threads()
    if threads:
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.log_severity_level = 4  # its errors come back as the exception below; its log would repeat them
    onnxruntime.set_default_logger_severity(4)  # the same for what it logs before the session's options apply
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # its fallback to the CPU prints "EP Error" banners
            session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        properties = session.get_modelmeta().custom_metadata_map
    except Exception as error:  # onnxruntime raises its own exception types for unreadable models
        raise HandgraphError(f"{path}: not a readable ONNX model ({one_line(error)})") from None
    if metadata_key not in properties:
        raise HandgraphError(f"{path}: no '{metadata_key}' metadata; {hint}")
    try:
        metadata = json.loads(properties[metadata_key])
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
        metadata = None
    if not isinstance(metadata, dict):
        raise HandgraphError(f"{path}: its '{metadata_key}' metadata is not a JSON mapping; {hint}")
    return session, metadata
