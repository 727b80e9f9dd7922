"""Every reader fuzzed through the function its command calls: broken, truncated, flipped, extreme and
wrong-kind files get a one-line HandgraphError or a result that can be right, never another exception.

A short run; bench/fuzz.py runs the same targets for 100,000 inputs and more."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from mutations import fuzz_inputs
from targets import TARGETS, Target

from handgraph.errors import HandgraphError

EXAMPLES = 25


def read_or_refuse(target: Target, data: bytes) -> None:
    """The property: a result ``target.check`` accepts, or one line of HandgraphError that names the file (every
    path the target reads lies in its own folder, named after it)."""
    try:
        target.run(data)
    except HandgraphError as error:
        message = str(error)
        assert "\n" not in message, f"not a one-line error: {message!r}"
        assert target.folder.name in message, f"the error does not name the file: {message!r}"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> dict[str, list[bytes]]:
    root = tmp_path_factory.mktemp("fuzz")
    return {target.name: target.prepare(root) for target in TARGETS}


@pytest.mark.parametrize("target", TARGETS, ids=[target.name for target in TARGETS])
def test_reader_survives_fuzzing(target: Target, prepared):
    seeds = prepared[target.name]
    strangers = [data for name, others in prepared.items() if name != target.name for data in others]
    for data in seeds[:1]:
        target.run(data)  # the first seed is valid: the template reads

    @settings(max_examples=EXAMPLES, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(fuzz_inputs(seeds, strangers))
    def fuzz(data: bytes) -> None:
        read_or_refuse(target, data)

    fuzz()
