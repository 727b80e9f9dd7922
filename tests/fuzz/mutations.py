"""What a fuzz input is: a valid file broken the ways files break in the wild, as a Hypothesis strategy.

- random bytes;
- a valid file (the target's seeds, some holding extreme values: NaN, inf, 0, negative, 65535, empty);
- a valid file truncated anywhere (an interrupted download);
- a valid file with bits flipped, or a run of bytes overwritten with 00 / FF / 7F / 80 runs (a bad disk, a
  header field turned huge or negative);
- a valid file with one number replaced by an extreme one (NaN, inf, -1, 0, 65535, 1e308, 4294967295);
- a valid file of another reader (the wrong folder, the wrong dataset), whole or spliced into this one.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

EXTREME_NUMBERS = [b"nan", b"NaN", b"inf", b"-inf", b"-1", b"0", b"65535", b"1e308", b"-1e308", b"4294967295",
                   b"", b"1.5", b"99999999999999999999", b"true", b"null"]  # fmt: skip
EXTREME_BYTES = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff\xff\x7f", b"\x00\x00\x80\x7f", b"\x00\x00\xc0\x7f"]
NUMBER = re.compile(rb"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def truncate(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def flip_bits(data: bytes, positions: list[int]) -> bytes:
    if not data:
        return data
    flipped = bytearray(data)
    for position in positions:
        bit = position % (8 * len(data))
        flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


def overwrite(data: bytes, where: float, run: bytes, repeat: int) -> bytes:
    start = int(len(data) * where)
    chunk = run * repeat
    return data[:start] + chunk + data[start + len(chunk) :]


def replace_number(data: bytes, which: int, number: bytes) -> bytes:
    numbers = list(NUMBER.finditer(data))
    if not numbers:
        return data
    match = numbers[which % len(numbers)]
    return data[: match.start()] + number + data[match.end() :]


def splice(data: bytes, where: float, other: bytes) -> bytes:
    start = int(len(data) * where)
    return data[:start] + other[start:]


def fuzz_inputs(seeds: list[bytes], strangers: list[bytes]) -> st.SearchStrategy[bytes]:
    """Inputs built from this reader's ``seeds`` and other readers' valid files (``strangers``)."""
    seed = st.sampled_from(seeds)
    fraction = st.floats(0.0, 1.0)
    return st.one_of(
        st.binary(max_size=300),
        seed,
        st.builds(truncate, seed, fraction),
        st.builds(flip_bits, seed, st.lists(st.integers(0, 2**40), min_size=1, max_size=8)),
        st.builds(overwrite, seed, fraction, st.sampled_from(EXTREME_BYTES), st.integers(1, 16)),
        st.builds(replace_number, seed, st.integers(0, 10**6), st.sampled_from(EXTREME_NUMBERS)),
        st.builds(splice, seed, fraction, st.sampled_from(strangers)),
        st.sampled_from(strangers),
    )
