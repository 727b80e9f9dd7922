import numpy as np
import pytest

from handgraph.errors import HandgraphError
from handgraph.geometry.camera import camera_preset, uvd_to_xyz
from handgraph.geometry.layouts import ICVL16, LAYOUTS, NYU14, NYU14_SUBSET, NYU36, get_layout
from handgraph.geometry.skeleton import FINGER_NAMES, HAND


@pytest.mark.parametrize(
    ("name", "count"), [("nyu36", 36), ("nyu14", 14), ("icvl16", 16), ("msra21", 21), ("hands2017", 21)]
)
def test_layout_sizes(name, count):
    layout = get_layout(name)
    assert layout.num_joints == count
    assert len(layout.bones) == count - 1


def test_nyu14_is_the_community_subset_of_nyu36():
    assert NYU14_SUBSET == (0, 3, 6, 9, 12, 15, 18, 21, 24, 25, 27, 30, 31, 32)
    assert [NYU36.joint_names[index] for index in NYU14_SUBSET[:2]] == ["F1_KNU3_A", "F1_KNU2_B"]
    assert NYU14.joint_names[0] == "little_tip" and NYU14.joint_names[-1] == "palm_centre"
    assert NYU14.canonical == tuple(NYU36.canonical[index] for index in NYU14_SUBSET)


def _finger_of(name: str) -> str | None:
    name = name.lower().replace("pinky", "little")
    letters = {"t": "thumb", "i": "index", "m": "middle", "r": "ring", "p": "little"}
    for finger in FINGER_NAMES:
        if name.startswith(finger):
            return finger
    if name[0] in letters and name[1:] in ("mcp", "pip", "dip", "tip"):  # HANDS2017's TMCP, IPIP, ...
        return letters[name[0]]
    return None


@pytest.mark.parametrize("layout", [LAYOUTS[name] for name in ("nyu14", "icvl16", "msra21", "hands2017")])
def test_mapped_joints_stay_on_their_finger(layout):
    for own, canonical in layout.canonical_pairs():
        finger = _finger_of(layout.joint_names[own])
        expected = None if canonical == 0 else HAND.joint_names[canonical].split("_")[0]
        assert finger == expected, (layout.name, layout.joint_names[own], HAND.joint_names[canonical])


def test_every_finger_tip_maps_to_a_canonical_tip():
    for layout in LAYOUTS.values():
        tips = {HAND.joint_names[canonical] for _, canonical in layout.canonical_pairs() if canonical % 4 == 0}
        assert {f"{finger}_tip" for finger in FINGER_NAMES} <= tips, layout.name


def test_nyu_correspondence_agrees_with_the_real_labels(shared_data):
    # Frames 1-50 of the NYU test ground truth: the landmark mapped to the PIP joint must lie two phalanges
    # from the tip, and the one mapped to the thumb's IP joint one phalanx.
    path = shared_data / "eval/groundtruth/nyu/nyu_test_groundtruth_label.txt"
    xyz = uvd_to_xyz(np.loadtxt(path, max_rows=50).reshape(-1, 14, 3), camera_preset("nyu"))
    canonical_to_nyu = {canonical: own for own, canonical in NYU14.canonical_pairs()}

    def distance(first: str, second: str) -> float:
        a, b = canonical_to_nyu[HAND.index(first)], canonical_to_nyu[HAND.index(second)]
        return float(np.linalg.norm(xyz[:, a] - xyz[:, b], axis=-1).mean())

    for finger in ("index", "middle", "ring", "little"):
        assert 35 < distance(f"{finger}_tip", f"{finger}_pip") < 65, finger
    assert 15 < distance("thumb_tip", "thumb_ip") < 35
    assert 35 < distance("thumb_ip", "thumb_mcp") < 60


def test_icvl_palm_has_no_canonical_twin():
    assert ICVL16.canonical[0] is None


def test_unknown_layout_names_the_known_ones():
    with pytest.raises(HandgraphError, match="nyu14"):
        get_layout("nyu15")
