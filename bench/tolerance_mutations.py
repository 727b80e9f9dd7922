"""Do the numeric checks still catch real mistakes? Small deliberate errors in the package, each against the
tests whose bounds should catch it.

Each mutation changes one line of a copy of the source tree (a term dropped, a constant a little off, one wrong
sign), runs the tests named for it against that copy, and counts it caught when they fail. The unchanged copy
must pass the same tests first. The table goes to stdout and ``bench/results/tolerance_mutations.json``.

    .venv/bin/python bench/tolerance_mutations.py          # about 2 minutes on 2 cores
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT, arguments, print_table, write_result


@dataclass(frozen=True)
class Mutation:
    name: str
    file: str  # under src/handgraph
    old: str
    new: str
    tests: tuple[str, ...]


MUTATIONS = [
    Mutation("heatmap cell centres 1e-3 off", "geometry/heatmaps.py", "/ cells - 1\n", "/ cells - 1 + 1e-3\n",
             ("tests/test_heatmaps.py",)),
    Mutation("camera cx 1e-6 px off in uvd -> xyz", "geometry/camera.py", "[(u - cx) * d / fx,",
             "[(u - cx - 1e-6) * d / fx,", ("tests/test_camera.py", "tests/preprocess/test_crop.py")),
    Mutation("crop u half a millipixel off", "preprocess/crop.py", "u = (uvd_norm[..., 0] + 1) * size / 2 - 0.5",
             "u = (uvd_norm[..., 0] + 1) * size / 2 - 0.5005", ("tests/preprocess/test_crop.py",)),
    Mutation("localiser decoding 1e-3 px off", "localizer/network.py", "offset[:, 0]) + (STRIDE - 1) / 2",
             "offset[:, 0]) + (STRIDE - 1) / 2 + 1e-3", ("tests/localizer/test_network.py",)),
    Mutation("NYU palm centre at 0.899 of the reach", "synth/labels.py", "wrist + 0.90 * (middle_mcp - wrist)",
             "wrist + 0.899 * (middle_mcp - wrist)", ("tests/synth/test_generator.py",)),
    Mutation("round-cone distance: axis length 1e-4 relative off", "fitting/surface_model.py",
             "length = axis.norm(dim=-1).clamp_min(1e-9)", "length = axis.norm(dim=-1).clamp_min(1e-9) * (1 + 1e-4)",
             ("tests/fitting/test_surface_model.py",)),
    Mutation("ray caster: one cone's radius 1e-6 relative off", "synth/raycast.py",
             "ra, rb, f = start_radius[k], end_radius[k], frame[k]",
             "ra, rb, f = start_radius[k] * (1 + 1e-6), end_radius[k], frame[k]", ("tests/synth/test_raycast.py",)),
    Mutation("finger flexion 1e-6 rad off in the synthetic hand", "geometry/kinematics.py",
             "rotation = rotation @ rotation_x(flexion)\n", "rotation = rotation @ rotation_x(flexion + 1e-6)\n",
             ("tests/fitting/test_hand_model.py", "tests/fitting/test_surface_model.py")),
    Mutation("hand model jacobian: rotation columns 1e-6 off", "fitting/hand_model.py",
             "columns[:, :, :3] = torch.linalg.cross(", "columns[:, :, :3] = (1 + 1e-6) * torch.linalg.cross(",
             ("tests/fitting/test_hand_model.py",)),
    Mutation("SIA-GCN node bias a millionth off", "layers/sia_gcn.py", "bias = self.bias.T.expand(",
             "bias = (self.bias * (1 + 1e-6)).T.expand(", ("tests/layers/test_sia_gcn.py",)),
    Mutation("dense vote radius 0.01 % off", "models/dense_vote.py", "RADIUS * (1 - closeness)",
             "RADIUS * 1.0001 * (1 - closeness)", ("tests/models/test_peer_models.py",)),
    Mutation("mean joint error leaves one term out", "evaluation/metrics.py", "return float(errors.mean())",
             "return float((errors.sum() - errors.flat[0]) / errors.size)",
             ("tests/evaluation/test_metrics.py", "tests/evaluation/test_published_numbers.py")),
    Mutation("One Euro smoothing factor 0.1 % off", "inference/tracking.py", "return 1.0 / (1.0 + tau / period_s)",
             "return 1.0 / (1.0 + 1.001 * tau / period_s)", ("tests/test_tracking.py",)),
]  # fmt: skip


def _run_tests(tree: Path, tests: tuple[str, ...]) -> bool:
    """Whether ``tests`` pass against the package in ``tree``."""
    environment = {"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin", "HOME": str(tree)}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests]
    return subprocess.run(command, cwd=tree, env=environment, capture_output=True).returncode == 0


def main() -> None:
    args = arguments(__doc__).parse_args()
    rows, results = [], []
    with tempfile.TemporaryDirectory(dir=ROOT.parent, prefix=".mutants-") as folder:  # beside ../shared
        tree = Path(folder)
        for part in ("src", "tests", "checkpoints", "pyproject.toml"):
            copy = shutil.copytree if (ROOT / part).is_dir() else shutil.copy2
            copy(ROOT / part, tree / part)
        for mutation in MUTATIONS:
            path = tree / "src" / "handgraph" / mutation.file
            original = path.read_text()
            if original.count(mutation.old) != 1:
                raise SystemExit(f"{mutation.file}: {mutation.old!r} is not there exactly once; update the mutation")
            start = time.perf_counter()
            clean = _run_tests(tree, mutation.tests)
            path.write_text(original.replace(mutation.old, mutation.new))
            caught = not _run_tests(tree, mutation.tests)
            path.write_text(original)
            seconds = time.perf_counter() - start
            rows.append(
                [
                    mutation.name,
                    " ".join(mutation.tests),
                    "passes" if clean else "FAILS",
                    "caught" if caught else "MISSED",
                ]
            )
            results.append({"mutation": mutation.name, "file": mutation.file, "tests": list(mutation.tests),
                            "clean_passes": clean, "caught": caught, "seconds": round(seconds, 1)})  # fmt: skip
    print_table(["mutation", "tests", "unchanged", "mutated"], rows)
    write_result("tolerance_mutations", args.quick, {"mutations": len(MUTATIONS)}, {"mutations": results})


if __name__ == "__main__":
    main()
