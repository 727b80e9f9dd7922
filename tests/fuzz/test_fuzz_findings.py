"""Every input that made a reader fail in a long fuzz run (bench/fuzz.py keeps the first of each kind; they are
copied to tests/fuzz/found/ as TARGET-HASH), replayed through its reader: each is now refused in one line or
read as something that can be right."""

from __future__ import annotations

from pathlib import Path

import pytest
from targets import TARGETS, file_stem
from test_fuzz_readers import read_or_refuse

FOUND = sorted((Path(__file__).parent / "found").iterdir())
BY_STEM = {file_stem(target.name): target for target in TARGETS}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> set[str]:
    root = tmp_path_factory.mktemp("found")
    needed = {path.name.rsplit("-", 1)[0] for path in FOUND}
    for stem in needed:
        BY_STEM[stem].prepare(root)
    return needed


def test_every_finding_names_a_reader():
    assert len(FOUND) >= 8
    assert all(path.name.rsplit("-", 1)[0] in BY_STEM for path in FOUND), [path.name for path in FOUND]


@pytest.mark.parametrize("path", FOUND, ids=[path.name for path in FOUND])
def test_what_the_fuzzer_found_is_fixed(path, prepared):
    read_or_refuse(BY_STEM[path.name.rsplit("-", 1)[0]], path.read_bytes())
