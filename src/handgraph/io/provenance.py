"""Where a result comes from: the handgraph version, the commit of its source tree when it is a git checkout
(and whether that tree had uncommitted changes), and the command. Written into checkpoints, evaluation JSON
and benchmark result files."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

SOURCE_TREE = Path(__file__).resolve().parents[3]  # src/handgraph/io/provenance.py -> the repository
OUTPUTS = (":!bench/results", ":!docs", ":!runs")
"""What benchmarks and runs write: not counted as uncommitted changes of the code."""


def _git(*words: str) -> str:
    try:
        done = subprocess.run(["git", *words], cwd=SOURCE_TREE, capture_output=True, text=True, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def version() -> str:
    """handgraph's version, from the installed package's metadata (``pyproject.toml``'s)."""
    try:
        return importlib.metadata.version("handgraph")
    except importlib.metadata.PackageNotFoundError:  # the source tree on the path, never installed
        return "unknown (not installed)"


def provenance() -> dict:
    """{"handgraph": version, "commit": sha or None, "uncommitted_changes": bool or None, "command": argv}."""
    commit = _git("rev-parse", "HEAD") or None
    changed = bool(_git("status", "--porcelain", "--untracked-files=no", "--", ".", *OUTPUTS)) if commit else None
    return {
        "handgraph": version(),
        "commit": commit,
        "uncommitted_changes": changed,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    }


def changed_since(commit: str | None) -> list[str] | None:
    """The source files (outputs left out) that differ now from ``commit``, committed or not: what changed
    under a long run that started there. None outside a git checkout."""
    if not commit:
        return None
    committed = _git("diff", "--name-only", commit, "HEAD", "--", ".", *OUTPUTS).splitlines()
    uncommitted = _git("diff", "--name-only", "HEAD", "--", ".", *OUTPUTS).splitlines()
    return sorted(set(committed) | set(uncommitted))
