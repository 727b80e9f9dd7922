"""The package's shape, measured from its source: loose modules, imports that run upward, circles, the largest
functions. Issue 24's before-and-after figures come from this script.

Layers, bottom up (``../shared/DESIGN.md`` section 6); a module's layer is its folder, a loose module's is given
in ``LOOSE`` until it has a folder:

    geometry, io -> synth, datasets -> models -> training, localizer, evaluation, fitting -> inference -> commands

An import is upward when the imported module's layer ranks above the importing one's. Imports inside functions
count too (they are the ones that hide cycles).

A walk of one depth frame through ``handgraph predict`` (the real NYU frame, the shipped networks) is measured
by tracing it: at each milestone of the frame's way (the file read, the localiser's answer, the crop, the
pose network's forward pass, which gives the joints) the handgraph files on the call stack are noted, in the order
they are first met. Those are the files a newcomer opens, following the calls, from the command line to the
joints (the model's insides and small helpers called from them are not on that path).

    .venv/bin/python bench/architecture.py            the measures, and the walk of one frame
    PYTHONPATH=OTHER/src .venv/bin/python bench/architecture.py    the same of another checkout
"""

from __future__ import annotations

import ast
import importlib.util
import sys
import tempfile
from pathlib import Path

PACKAGE = Path(importlib.util.find_spec("handgraph").origin).parent  # the checkout that is imported
NYU_FRAME = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "nyu" / "depth_1_0000001.png"
RANK = {
    "errors": 0, "geometry": 1, "io": 1, "preprocess": 1, "weights": 1, "layers": 2, "synth": 2, "datasets": 2,
    "models": 3, "training": 4, "localizer": 4, "evaluation": 4, "fitting": 4, "inference": 5, "adaptation": 6,
    "commands": 7, "cli": 8, "__main__": 9, "__init__": 10,
}  # fmt: skip
LOOSE = {
    "arrays": "geometry", "camera": "geometry", "rotations": "geometry", "skeleton": "geometry",
    "layouts": "geometry", "heatmaps": "geometry", "numerics": "geometry", "reading": "io", "files": "io",
    "depth_images": "io", "provenance": "io", "configs": "io", "overlay": "io", "checkpoint": "models",
    "losses": "training", "predictor": "inference", "networks": "inference", "tracking": "inference",
    "export": "inference", "live": "inference",
}  # fmt: skip
"""The layer each module still lying at the package root belongs to."""
ROOT_MODULES = {"__init__", "__main__", "cli", "errors"}
"""Modules that belong at the package root."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    return LOOSE.get(top, top)


def imports(path: Path, module: str) -> set[str]:
    """The handgraph modules ``path`` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("handgraph")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("handgraph"):
            folder = PACKAGE.parent / node.module.replace(".", "/")
            for alias in node.names:  # ``from handgraph.evaluation import metrics`` imports the module metrics
                is_module = (folder / f"{alias.name}.py").is_file() or (folder / alias.name).is_dir()
                found.add(f"{node.module}.{alias.name}" if is_module else node.module)
    return found - {module}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, groups, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def largest_functions(paths: list[Path], count: int = 3) -> list[tuple[int, str]]:
    sizes = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                sizes.append((node.end_lineno - node.lineno + 1, f"{module_name(path)}.{node.name}"))
    return sorted(sizes, reverse=True)[:count]


from handgraph.models.base import PoseModel  # noqa: E402 (after PACKAGE: the checkout measured)


def milestone(frame, seen: set[str]) -> str | None:
    """Which milestone of a frame's way a called function is, if any (each counted at its first call)."""
    code = frame.f_code
    path, name = Path(code.co_filename), code.co_name
    if not path.is_relative_to(PACKAGE):
        return None
    where = path.relative_to(PACKAGE).as_posix()
    kinds = {
        "read": where.endswith("depth_images.py") and name.startswith("read"),
        "localise": name == "__call__" and "Localizer" in code.co_qualname,
        "crop": name == "frame_crops",
        "network": name == "forward" and isinstance(frame.f_locals.get("self"), PoseModel),
    }
    kind = next((kind for kind, hit in kinds.items() if hit), None)  # the pose model's forward, not the localiser's
    return None if kind is None or kind in seen else kind


def frame_walk() -> list[tuple[str, list[str]]]:
    """(file, its functions on the path) for one frame through ``handgraph predict``, in the order met."""
    from handgraph.cli import main as cli

    walk: dict[str, list[str]] = {}
    seen: set[str] = set()

    def profile(frame, event, argument):
        if event != "call" or (kind := milestone(frame, seen)) is None:
            return
        seen.add(kind)
        stack = []
        while frame is not None:
            stack.append(frame.f_code)
            frame = frame.f_back
        for code in reversed(stack):
            path = Path(code.co_filename)
            if path.is_relative_to(PACKAGE):
                functions = walk.setdefault(path.relative_to(PACKAGE).as_posix(), [])
                if code.co_qualname not in functions:
                    functions.append(code.co_qualname)

    with tempfile.TemporaryDirectory() as out:
        sys.setprofile(profile)
        try:
            cli(["predict", "--input", str(NYU_FRAME), "--camera", "nyu", "--out", out, "--no-overlays"])
        finally:
            sys.setprofile(None)
    return list(walk.items())


def main() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    graph = {module_name(path): imports(path, module_name(path)) for path in paths}
    upward = [(source, target) for source, targets in graph.items() for target in sorted(targets)
              if RANK.get(layer(target), 0) > RANK.get(layer(source), 0)]  # fmt: skip
    loose = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem not in ROOT_MODULES)
    folders = sorted(path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__")
    print(f"modules: {len(paths)} files; folders: {', '.join(folders)}")
    print(f"loose modules at the package root: {len(loose)} ({', '.join(loose)})")
    print(f"imports that run upward: {len(upward)}")
    for source, target in upward:
        print(f"  {source} ({layer(source)}) -> {target} ({layer(target)})")
    groups = cycles(graph)
    print(f"circles: {len(groups)}")
    for group in groups:
        print(f"  {' <-> '.join(group)}")
    for lines, name in largest_functions(paths):
        print(f"largest function: {name}, {lines} lines")
    walk = frame_walk()
    print(f"one frame through 'handgraph predict', command line to joints: {len(walk)} files")
    for number, (path, functions) in enumerate(walk, start=1):
        print(f"  {number:2d}. {path}: {', '.join(functions)}")


if __name__ == "__main__":
    main()
