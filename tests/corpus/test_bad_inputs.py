"""Every malformed file of the corpus through its command: a non-zero exit, exactly the one-line error of
cases.yaml, no traceback, nothing left in the output folder, and the bad file untouched."""

from __future__ import annotations

import hashlib
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from handgraph.cli import main

CORPUS = Path(__file__).resolve().parent
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text())


def _placed(text: str, here: Path | None = None) -> str:
    text = text.replace("{bad}", "bad").replace("{good}", "good").replace("{out}", "out")
    return text.replace("{here}", str(here)) if here else text


def _bad_path(case: dict) -> str:
    return next(word for word in case["command"].split() if "{bad}" in word).split("{bad}/")[1]


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A copy of bad/ and good/: a command that wrongly wrote into its input would change only the copy."""
    here = tmp_path_factory.mktemp("corpus")
    for name in ("bad", "good"):
        shutil.copytree(CORPUS / name, here / name)
    return here


def test_the_corpus_is_whole():
    files = [path.relative_to(CORPUS / "bad") for path in (CORPUS / "bad").rglob("*") if path.is_file()]
    used = {_bad_path(case) for case in CASES}  # a file, or a folder (a checkpoint, a dataset, a run)
    assert len(CASES) >= 40 and len(files) >= 40
    unused = {str(path) for path in files if not any(str(path) == it or str(path).startswith(it + "/") for it in used)}
    assert not unused, f"files under bad/ that no case reads: {sorted(unused)}"
    assert all(case["error"].count("\n") == 0 and ": error: " in case["error"] for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[_bad_path(case) for case in CASES])
def test_bad_input_gets_its_one_line_error(case, workspace, monkeypatch, capsys):
    monkeypatch.chdir(workspace)
    shutil.rmtree(workspace / "out", ignore_errors=True)
    before = _snapshot(workspace / "bad")
    code = main(shlex.split(_placed(case["command"])))
    printed = capsys.readouterr()
    assert code != 0
    assert printed.err == _placed(case["error"], workspace) + "\n"
    assert "Traceback" not in printed.out + printed.err
    assert not (workspace / "out").exists() or not any((workspace / "out").iterdir())
    assert _snapshot(workspace / "bad") == before
