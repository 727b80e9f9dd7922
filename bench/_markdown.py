"""Markdown pieces of docs/benchmarks.md: tables, the source line under a section, a not-run-yet note."""

from __future__ import annotations

from pathlib import Path

from _common import ROOT


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def source(name: str, data: dict, folder: Path) -> str:
    machine = data["machine"]
    where = (folder / f"{name}.json").relative_to(ROOT)
    commit = f", commit {data['commit'][:7]}" if data.get("commit") else ""
    if data.get("uncommitted_changes"):
        commit += " with uncommitted changes"
    changed = data.get("changed_during_run")
    during = f"; changed while it ran: {', '.join(f'`{name}`' for name in changed)}" if changed else ""
    return f"_Source: `{where}`{commit}, {machine['date']}, {machine['cpu']} ({machine['cores']} cores){during}._"


def missing(script: str) -> str:
    return f"_Not run yet: `.venv/bin/python bench/{script}.py`._"
