"""handgraph as a user installs it (issue 24): a wheel built from the repository, installed into a fresh
environment outside the repository, predicts the real NYU frame with the shipped pose model and localiser,
found through the package (``handgraph.weights``) rather than beside a source tree.

The fresh environment borrows its dependencies (torch and the rest) from the test's own environment through a
path line: installing several GB again would take minutes and a network. handgraph itself comes only from
the wheel, which the test checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAME = ROOT.parent / "shared" / "data" / "real" / "nyu" / "depth_1_0000001.png"
SHIPPED = [f"handgraph/weights/{folder}/{name}" for folder, name in [
    ("hgt-synth", "checkpoint.json"), ("hgt-synth", "model.safetensors"),
    ("localizer", "checkpoint.json"), ("localizer", "model.safetensors"), ("localizer", "localizer.onnx"),
]]  # fmt: skip


@pytest.mark.slow
def test_a_wheel_installed_elsewhere_predicts_the_nyu_frame(tmp_path):
    source = tmp_path / "source"  # what the wheel is built from, so the build leaves nothing in the repository
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "--quiet",
         "--wheel-dir", str(tmp_path / "wheels")])  # fmt: skip
    (wheel,) = (tmp_path / "wheels").glob("handgraph-*.whl")
    missing = sorted(set(SHIPPED) - set(zipfile.ZipFile(wheel).namelist()))
    assert not missing, f"the wheel lacks the shipped networks: {missing}"

    environment = tmp_path / "env"
    run([sys.executable, "-m", "venv", "--without-pip", str(environment)])
    python = environment / "bin" / "python"
    packages = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).strip())
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(packages), str(wheel)])
    (packages / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"  # no repository around: nothing can be found three folders up
    elsewhere.mkdir()
    where = run([str(python), "-c", "import handgraph; print(handgraph.__file__)"], elsewhere)
    assert Path(where.strip()).is_relative_to(packages), where
    run([str(python), "-m", "handgraph", "predict", "--input", str(FRAME), "--camera", "nyu", "--out", "out"],
        elsewhere)  # fmt: skip
    predictions = json.loads((elsewhere / "out" / "predictions.json").read_text())
    for network in ("checkpoint", "localizer"):  # the shipped ones, from the installed package
        assert Path(predictions[network]).is_relative_to(packages / "handgraph" / "weights"), predictions[network]
    frame = predictions["frames"][0]
    assert frame["hand"] and frame["found_by"] == "localizer" and len(frame["xyz"]) == len(predictions["joints"])
    assert (elsewhere / "out" / "depth_1_0000001_overlay.png").is_file()


def run(command: list[str], cwd: Path | None = None) -> str:
    """``command``'s output; without PYTHONPATH, which would put another handgraph before the installed one."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    done = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
    return done.stdout
