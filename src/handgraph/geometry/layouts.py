"""Joint layouts of the real datasets, in the order of their own files, each mapped to the canonical hand.

Sources: ``../shared/data/README.md`` (file facts) and the datasets' label files. Where a dataset's landmark is
not an anatomical joint of the canonical hand (NYU's palm points, ICVL's palm), it maps to None; where the
correspondence is only approximate, the layout's ``note`` says so. Evaluation always uses each dataset's own
joints, never the mapped ones.
"""

from __future__ import annotations

from handgraph.errors import HandgraphError
from handgraph.geometry.skeleton import FINGERS, HAND, JointLayout

# NYU's fingers are numbered from the little finger: F1 little, F2 ring, F3 middle, F4 index.
_NYU_FINGERS = (("F1", "little"), ("F2", "ring"), ("F3", "middle"), ("F4", "index"), ("TH", "thumb"))
# Per finger, from the tip inwards; KNU3 is the distal end. A/B are the two landmarks of each segment.
_NYU_PARTS = ("KNU3_A", "KNU3_B", "KNU2_A", "KNU2_B", "KNU1_A", "KNU1_B")
# Which landmark stands for which canonical joint, read off the labels: tip to KNU2_B spans two phalanges
# (43-57 mm on the test set's first frames) and the thumb's tip to KNU3_B one (25 mm).
_NYU_PART_TO_CHAIN = {"KNU3_A": 3, "KNU3_B": 2, "KNU2_B": 1, "KNU1_B": 0}
_NYU_PALM_CENTRE = 32


def _nyu36() -> JointLayout:
    names, parents, canonical = [], [], []
    for prefix, finger in _NYU_FINGERS:
        base = len(names)
        for step, part in enumerate(_NYU_PARTS):
            names.append(f"{prefix}_{part}")
            parents.append(base + step + 1 if step < len(_NYU_PARTS) - 1 else _NYU_PALM_CENTRE)
            chain_position = _NYU_PART_TO_CHAIN.get(part)
            canonical.append(None if chain_position is None else FINGERS[finger][chain_position])
    for number in range(1, 7):
        names.append(f"PALM_{number}")
        parents.append(-1 if len(names) - 1 == _NYU_PALM_CENTRE else _NYU_PALM_CENTRE)
        canonical.append(HAND.index("wrist") if number == 2 else None)
    return JointLayout(
        name="nyu36",
        joint_names=tuple(names),
        parents=tuple(parents),
        canonical=tuple(canonical),
        note="NYU's 36 labelled landmarks (joint_data.mat). Map to canonical joints is approximate: "
        "PALM_2 stands for the wrist, the finger landmarks for MCP/PIP/DIP/TIP.",
    )


NYU36 = _nyu36()

NYU14_SUBSET = (0, 3, 6, 9, 12, 15, 18, 21, 24, 25, 27, 30, 31, 32)
"""The 14 evaluated NYU joints as indices into the 36, in the order of the community result files."""


def _nyu14() -> JointLayout:
    names = (
        "little_tip", "little_middle", "ring_tip", "ring_middle", "middle_tip", "middle_middle",
        "index_tip", "index_middle", "thumb_tip", "thumb_middle", "thumb_root",
        "wrist_back", "wrist", "palm_centre",
    )  # fmt: skip
    # Drawing skeleton of the community kit: fingers and wrist points hang off the palm centre (13).
    parents = (1, 13, 3, 13, 5, 13, 7, 13, 9, 10, 13, 13, 13, -1)
    return JointLayout(
        name="nyu14",
        joint_names=names,
        parents=parents,
        canonical=tuple(NYU36.canonical[index] for index in NYU14_SUBSET),
        note="The 14 NYU joints every published NYU number is computed on. 'middle' is near the PIP joint, "
        "the thumb's 'middle' near its IP joint; wrist_back and palm_centre have no canonical twin.",
    )


NYU14 = _nyu14()


def _finger_chain_layout(
    name: str, root: tuple[str, int | None], fingers: list[tuple[str, list[str], list[int | None]]], note: str
) -> JointLayout:
    """A root joint plus one chain per finger, every chain listed contiguously from the palm outwards."""
    names, parents, canonical = [root[0]], [-1], [root[1]]
    for _, joint_names, canonical_ids in fingers:
        for step, (joint_name, canonical_id) in enumerate(zip(joint_names, canonical_ids, strict=True)):
            parents.append(0 if step == 0 else len(names) - 1)
            names.append(joint_name)
            canonical.append(canonical_id)
    return JointLayout(name, tuple(names), tuple(parents), tuple(canonical), note)


def _icvl_canonical(finger: str) -> list[int | None]:
    # root/mid/tip: the thumb's MCP/IP/TIP, a finger's MCP/PIP/TIP.
    chain = FINGERS[finger]
    return [chain[1], chain[2], chain[3]] if finger == "thumb" else [chain[0], chain[1], chain[3]]


ICVL16 = _finger_chain_layout(
    "icvl16",
    ("palm", None),
    [
        (finger, [f"{finger}_{part}" for part in ("root", "mid", "tip")], _icvl_canonical(canonical_finger))
        for finger, canonical_finger in (
            ("thumb", "thumb"),
            ("index", "index"),
            ("middle", "middle"),
            ("ring", "ring"),
            ("pinky", "little"),
        )
    ],  # fmt: skip
    note="ICVL's 16 joints: palm, then root/mid/tip per finger from the thumb. Approximate map: root/mid/tip "
    "to MCP/PIP/TIP (thumb: MCP/IP/TIP). On the test labels the palm point lies 43-57 mm from the finger "
    "roots (a palm centre, not the wrist) and finger root-mid/mid-tip are about 29/19 mm, shorter than "
    "adult phalanges: ICVL's landmarks come from its own coarse hand model.",
)

MSRA21 = _finger_chain_layout(
    "msra21",
    ("wrist", 0),
    [
        (finger, [f"{finger}_{part}" for part in ("mcp", "pip", "dip", "tip")], list(FINGERS[finger]))
        for finger in ("index", "middle", "ring", "little", "thumb")
    ],
    note="MSRA15's 21 joints. Its thumb 'mcp/pip/dip/tip' are the canonical CMC/MCP/IP/TIP.",
)


def _hands2017() -> JointLayout:
    letters = {"T": "thumb", "I": "index", "M": "middle", "R": "ring", "P": "little"}
    names = ["wrist"] + [f"{letter}MCP" for letter in letters]
    for letter in letters:
        names += [f"{letter}PIP", f"{letter}DIP", f"{letter}TIP"]
    parents, canonical = [-1], [0]
    for joint_name in names[1:]:
        letter, part = joint_name[0], joint_name[1:]
        chain_position = ("MCP", "PIP", "DIP", "TIP").index(part)
        previous = {"PIP": "MCP", "DIP": "PIP", "TIP": "DIP"}.get(part)
        parents.append(0 if previous is None else names.index(letter + previous))
        canonical.append(FINGERS[letters[letter]][chain_position])
    return JointLayout(
        name="hands2017",
        joint_names=tuple(names),
        parents=tuple(parents),
        canonical=tuple(canonical),
        note="HANDS2017 / BigHand2.2M's 21 joints: wrist, five MCPs, then PIP/DIP/TIP per finger. "
        "Its thumb MCP/PIP/DIP are the canonical CMC/MCP/IP.",
    )


HANDS2017_21 = _hands2017()

LAYOUTS: dict[str, JointLayout] = {layout.name: layout for layout in (HAND, NYU36, NYU14, ICVL16, MSRA21, HANDS2017_21)}


def get_layout(name: str) -> JointLayout:
    """A layout by its name (``canonical``, ``nyu36``, ``nyu14``, ``icvl16``, ``msra21``, ``hands2017``)."""
    if name not in LAYOUTS:
        raise HandgraphError(f"unknown joint layout {name!r}; known: {', '.join(LAYOUTS)}")
    return LAYOUTS[name]
