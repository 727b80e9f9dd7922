"""Loading a file must never run code from it: nothing in the package unpickles, torch.load only with
weights_only=True, numpy's loaders only with allow_pickle=False."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "handgraph"
UNPICKLING_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def _keyword(call: ast.Call, name: str):
    return next((keyword.value for keyword in call.keywords if keyword.arg == name), None)


def _is_constant(node, value) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def problems(source: str, name: str) -> list[str]:
    """Lines of ``source`` that import an unpickling module or load without the safe flag."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(module.split(".")[0] in UNPICKLING_MODULES for module in modules):
                found.append(f"{name}:{node.lineno}: imports {', '.join(modules)}")
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value.id if isinstance(node.func.value, ast.Name) else None
        call = f"{owner}.{node.func.attr}"
        if call == "torch.load" and not _is_constant(_keyword(node, "weights_only"), True):
            found.append(f"{name}:{node.lineno}: torch.load without weights_only=True")
        if call == "np.load" and not _is_constant(_keyword(node, "allow_pickle"), False):
            found.append(f"{name}:{node.lineno}: np.load without allow_pickle=False")
        if _is_constant(_keyword(node, "allow_pickle"), True):
            found.append(f"{name}:{node.lineno}: allow_pickle=True")
    return found


def test_the_package_never_unpickles():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 50
    found = [line for path in files for line in problems(path.read_text(), str(path.relative_to(PACKAGE)))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "import pickle",
        "from joblib import load",
        "torch.load(path)",
        "torch.load(path, weights_only=False)",
        "np.load(path)",
        "np.load(path, allow_pickle=True)",
        "x = np.savez(path, allow_pickle=True)",
    ],
)
def test_the_check_sees_each_unsafe_load(source):
    assert problems(source, "example.py")


def test_the_check_lets_safe_loads_pass():
    assert not problems("torch.load(p, weights_only=True)\nnp.load(p, allow_pickle=False, mmap_mode='r')", "ok.py")
