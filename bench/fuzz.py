"""The long fuzz run: every reader of tests/fuzz/targets.py fed broken, truncated, bit-flipped, extreme and
wrong-kind files (tests/fuzz/mutations.py) through the function its command calls, 100,000 inputs or more
in all. A read must give a result the target accepts or a one-line HandgraphError that names the file;
anything else is a failure. Failures do not stop the run: each kind (exception type and where it was
raised) is counted, and its first input is kept under bench/results/fuzz_failures/ to become a regression
test.

Writes bench/results/fuzz.json: inputs tried, refusals, accepted inputs and failures per reader.

    .venv/bin/python bench/fuzz.py [--inputs 100000] [--targets "result text" "onnx"] [--quick]
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

from _common import ROOT, arguments, print_table, results_folder, write_result

sys.path.insert(0, str(ROOT / "tests" / "fuzz"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from mutations import fuzz_inputs  # noqa: E402
from targets import TARGETS, TARGETS_BY_NAME, Target, file_stem  # noqa: E402
from tqdm import tqdm  # noqa: E402

from handgraph.errors import HandgraphError  # noqa: E402


def _where(error: BaseException) -> str:
    """The innermost frame of the traceback that is handgraph's own, else the innermost."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [frame for frame in frames if "/handgraph/" in frame.filename and "/tests/" not in frame.filename]
    frame = (ours or frames or [None])[-1]
    return "?" if frame is None else f"{Path(frame.filename).name}:{frame.lineno}"


class Tally:
    """What one reader did with its inputs."""

    def __init__(self, target: Target, keep: Path):
        self.target, self.keep = target, keep
        self.inputs = self.refused = self.accepted = 0
        self.failures: dict[str, dict] = {}

    def __call__(self, data: bytes) -> None:
        self.inputs += 1
        try:
            self.target.run(data)
        except HandgraphError as error:
            if "\n" in str(error):
                self._fail(data, "multi-line HandgraphError", str(error), _where(error))
            elif self.target.folder.name not in str(error):
                self._fail(data, "HandgraphError not naming the file", str(error), _where(error))
            else:
                self.refused += 1
        except Exception as error:  # the failures this run is looking for
            self._fail(data, type(error).__name__, str(error), _where(error))
        else:
            self.accepted += 1

    def _fail(self, data: bytes, kind: str, message: str, where: str) -> None:
        key = f"{kind} at {where}"
        if key not in self.failures:
            name = f"{file_stem(self.target.name)}-{hashlib.sha256(data).hexdigest()[:12]}"
            self.keep.mkdir(parents=True, exist_ok=True)
            (self.keep / name).write_bytes(data)
            self.failures[key] = {"count": 0, "message": message[:300], "first_input": name}
        self.failures[key]["count"] += 1

    def figures(self, seconds: float) -> dict:
        return {"inputs": self.inputs, "refused": self.refused, "accepted": self.accepted,
                "failures": sum(f["count"] for f in self.failures.values()), "kinds": self.failures,
                "seconds": round(seconds, 1)}  # fmt: skip


def fuzz_target(target: Target, prepared: dict[str, list[bytes]], count: int, keep: Path) -> dict:
    strangers = [data for name, seeds in prepared.items() if name != target.name for data in seeds]
    tally = Tally(target, keep)
    bar = tqdm(total=count, desc=f"{target.name:>22}", unit="input", leave=False)

    @settings(max_examples=count, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(fuzz_inputs(prepared[target.name], strangers))
    def fuzz(data: bytes) -> None:
        tally(data)
        bar.update()

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fuzz()
    bar.close()
    return tally.figures(time.perf_counter() - started)


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--inputs", type=int, default=100_000, help="inputs in all, shared among the readers")
    parser.add_argument("--targets", nargs="+", choices=list(TARGETS_BY_NAME), metavar="NAME",
                        help="readers to fuzz (default: all)")  # fmt: skip
    args = parser.parse_args()
    total = 260 if args.quick else args.inputs
    targets = [TARGETS_BY_NAME[name] for name in args.targets] if args.targets else TARGETS
    keep = results_folder(args.quick) / "fuzz_failures"
    readers: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="handgraph-fuzz-") as root:
        prepared = {target.name: target.prepare(Path(root)) for target in TARGETS}
        for target in tqdm(targets, desc="readers", unit="reader"):
            readers[target.name] = fuzz_target(target, prepared, -(-total // len(targets)), keep)
    rows = [
        [name, r["inputs"], r["refused"], r["accepted"], r["failures"], r["seconds"]] for name, r in readers.items()
    ]
    print_table(["reader", "inputs", "refused", "accepted", "failures", "seconds"], rows)
    totals = {key: sum(r[key] for r in readers.values()) for key in ("inputs", "refused", "accepted", "failures")}
    print(f"{totals['inputs']} inputs, {totals['failures']} failures")
    for name, figures in readers.items():
        for kind, failure in figures["kinds"].items():
            print(f"  {name}: {failure['count']} x {kind}: {failure['message'][:160]}")
    write_result("fuzz", args.quick, {"inputs": total, "readers": len(targets)}, {"totals": totals, "readers": readers})


if __name__ == "__main__":
    main()
