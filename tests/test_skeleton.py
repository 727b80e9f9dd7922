import numpy as np
import pytest

from handgraph.geometry.skeleton import FINGERS, HAND, JointLayout, graph_edges


def test_canonical_hand_has_21_joints_in_the_documented_order():
    assert HAND.num_joints == 21
    assert HAND.joint_names[:5] == ("wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip")
    assert HAND.joint_names[5:9] == ("index_mcp", "index_pip", "index_dip", "index_tip")
    assert HAND.joint_names[-1] == "little_tip"


def test_every_finger_is_a_chain_from_the_wrist():
    for finger, joints in FINGERS.items():
        assert HAND.parents[joints[0]] == 0, finger
        for parent, child in zip(joints[:-1], joints[1:], strict=True):
            assert HAND.parents[child] == parent
            assert HAND.joint_names[child].startswith(finger)


def test_bones_are_parent_child_pairs():
    assert len(HAND.bones) == 20
    assert all(HAND.parents[child] == parent for parent, child in HAND.bones)


def test_graph_edges_hold_every_bone_both_ways_and_self_loops():
    edges = graph_edges()
    assert edges.shape == (2, 61) and edges.dtype == np.int64
    pairs = set(map(tuple, edges.T.tolist()))
    assert len(pairs) == 61
    for parent, child in HAND.bones:
        assert (parent, child) in pairs and (child, parent) in pairs
    assert all((joint, joint) in pairs for joint in range(21))
    without_loops = graph_edges(self_loops=False)
    assert without_loops.shape == (2, 40)
    assert (without_loops[0] != without_loops[1]).all()


def test_layout_rejects_a_cycle_and_inconsistent_lengths():
    with pytest.raises(ValueError, match="does not reach the root"):
        JointLayout("bad", ("a", "b", "c"), (-1, 2, 1), (None, None, None))
    with pytest.raises(ValueError, match="one of each per joint"):
        JointLayout("bad", ("a", "b"), (-1, 0), (None,))
    with pytest.raises(ValueError, match="exactly one root"):
        JointLayout("bad", ("a", "b"), (-1, -1), (None, None))
    with pytest.raises(ValueError, match="distinct"):
        JointLayout("bad", ("a", "b"), (-1, 0), (3, 3))
