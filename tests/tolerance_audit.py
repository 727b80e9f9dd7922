"""How close every numeric check came to its bound, over test runs with other kernels and thread counts.

Run the suite with ``HANDGRAPH_TOLERANCE_LOG=LOG`` under each setting (one log file per setting), then::

    python tests/tolerance_audit.py LOG_1 LOG_2 ...

prints one row per check (file:line) with the largest ratio of a difference to its bound under each setting
(below 1 passes), the worst first. Rows above 1 under every setting are the deliberate errors that tests
expect a bound to catch (inside ``pytest.raises``); they are listed apart. ``tests/tolerance_matrix.sh``
runs the settings used for issue 22.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def worst_ratios(log: Path) -> dict[str, float]:
    """The largest ratio per check (file:line) in one log."""
    worst: dict[str, float] = defaultdict(float)
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        ratio = entry["ratio"]
        worst[entry["place"]] = max(worst[entry["place"]], float("inf") if ratio != ratio else ratio)
    return worst


def main(paths: list[str]) -> None:
    logs = {Path(path).stem: worst_ratios(Path(path)) for path in paths}
    places = sorted({place for ratios in logs.values() for place in ratios})
    caught = [place for place in places if all(ratios.get(place, 0.0) > 1 for ratios in logs.values())]
    checks = sorted(
        set(places) - set(caught), key=lambda place: -max(ratios.get(place, 0.0) for ratios in logs.values())
    )
    width = max(len(place) for place in places)
    for title, rows in (("check", checks), ("deliberate error", caught)):
        print(f"{title:<{width}}  " + "  ".join(f"{name:>12}" for name in logs))
        for place in rows:
            cells = [f"{logs[name][place]:12.3g}" if place in logs[name] else f"{'-':>12}" for name in logs]
            print(f"{place:<{width}}  " + "  ".join(cells))
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
