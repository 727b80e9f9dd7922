"""``handgraph train`` that kills its own process (SIGKILL: no cleanup, no finally) at a chosen moment, for
test_killed_training.py. It resumes the run in OUT when OUT holds a checkpoint, as a user would.

    python killed_train.py OUT MOMENT CALL [KEY=VALUE ...]

MOMENT says where CALL (1-based) of a function dies:
    none      never: run to the end
    step      inside a training step, after the forward pass, before the update (the loss)
    weights   in the middle of writing a safetensors file of a checkpoint (half its bytes on disk)
    unnamed   after a checkpoint folder's files are written, before it is renamed into place
    pointer   in the middle of writing latest.json (a half-written temporary file)
    unmarked  after a checkpoint is in place, before latest.json names it

Under torchrun, only the process whose RANK is KILL_RANK (environment; default: every process) dies.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from handgraph.cli import main
from handgraph.models import checkpoint
from handgraph.training import loop, run
from handgraph.training.run import latest_checkpoint


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def on_call(call: int, original, before=None, after=None):
    """``original`` that dies on its ``call``-th call, before or after doing its work."""
    calls = 0

    def patched(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == call and before:
            before(*args, **kwargs)
        result = original(*args, **kwargs)
        if calls == call and after:
            after(*args, **kwargs)
        return result

    return patched


def half_written(tensors, path, *args, **kwargs) -> None:
    original_save_file(tensors, path, *args, **kwargs)
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: len(data) // 2])
    die()


def half_pointer(path, text) -> None:
    temporary = Path(path).with_name(f".{Path(path).name}.killed.tmp")
    temporary.write_text(text[: len(text) // 2])
    die()


def install(moment: str, call: int) -> None:
    if moment == "step":
        loop.pose_loss = on_call(call, loop.pose_loss, after=lambda *a, **k: die())
    elif moment == "weights":
        checkpoint.save_file = on_call(call, original_save_file, before=half_written)
    elif moment == "unnamed":
        checkpoint.usual_permissions = on_call(call, checkpoint.usual_permissions, before=lambda *a: die())
    elif moment == "pointer":
        arm = lambda *a, **k: setattr(run, "atomic_write_text", half_pointer)  # noqa: E731 (latest.json's write)
        run.mark_latest = on_call(call, run.mark_latest, before=arm)
    elif moment == "unmarked":
        run.mark_latest = on_call(call, run.mark_latest, before=lambda *a, **k: die())
    elif moment != "none":
        raise SystemExit(f"unknown moment {moment!r}")


original_save_file = checkpoint.save_file

if __name__ == "__main__":
    out, moment, call, *assignments = sys.argv[1:]
    if os.environ.get("KILL_RANK", os.environ.get("RANK", "0")) == os.environ.get("RANK", "0"):
        install(moment, int(call))
    resume = ["--resume"] if latest_checkpoint(out) is not None else []
    sys.exit(main(["train", "--config", "tiny", "--out", out, *resume, "--set", *assignments]))
