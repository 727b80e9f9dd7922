"""``handgraph synth`` (or, given a dataset folder, the crop cache of its NYU test split that ``handgraph data
cache`` builds, in shards of 2) that kills its own process (SIGKILL) at a chosen moment, for
test_killed_synth.py. It builds the same again when OUT holds part of it, as a user resumes.

    python killed_synth.py OUT MOMENT CALL [NYU_ROOT]

MOMENT says where CALL (1-based) dies:
    none      never
    shard     in the middle of writing a shard (half its bytes in the temporary file)
    manifest  after a shard is in place, before manifest.json lists it
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager

from handgraph.cli import main
from handgraph.synth import shards

COMMAND = ["synth", "--count", "6", "--shard-size", "2", "--size", "32", "--workers", "1", "--seed", "3"]


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install(moment: str, call: int) -> None:
    calls = 0
    original_writer, original_text = shards.atomic_writer, shards.atomic_write_text

    @contextmanager
    def half_written(path, binary=False):
        nonlocal calls
        calls += 1
        with original_writer(path, binary) as handle:
            if calls != call:
                yield handle
                return

            class Half:  # keeps half of what is written, then dies before the rename
                def write(self, data):
                    handle.write(data[: len(data) // 2])
                    handle.flush()
                    die()

            yield Half()

    def manifest_unwritten(path, text):
        nonlocal calls
        calls += 1
        if calls == call:
            die()
        original_text(path, text)

    if moment == "shard":
        shards.atomic_writer = half_written
    elif moment == "manifest":
        shards.atomic_write_text = manifest_unwritten
    elif moment != "none":
        raise SystemExit(f"unknown moment {moment!r}")


if __name__ == "__main__":
    out, moment, call, *root = sys.argv[1:]
    install(moment, int(call))
    if not root:
        sys.exit(main([*COMMAND, "--out", out]))
    from handgraph.datasets.cache import build_crop_cache

    build_crop_cache("nyu:test", root[0], out, size=32, shard_size=2, workers=1, progress=False)
