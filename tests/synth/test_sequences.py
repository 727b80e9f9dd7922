"""Labelled synthetic sequences (synth.sequences): deterministic, labelled where the depth is, written as
recordings that predict reads."""

from __future__ import annotations

import numpy as np
import pytest

from handgraph.errors import HandgraphError
from handgraph.io.recordings import read_recording_info
from handgraph.synth.sequences import (
    EGOCENTRIC_MM,
    HELD,
    KINDS,
    SequenceConfig,
    generate_sequence,
    labels_path,
    read_sequence,
    write_sequence,
)

SHORT = SequenceConfig(frames=45)


@pytest.fixture(scope="module")
def drawn():
    return {kind: generate_sequence(SHORT, 11, index) for index, kind in enumerate(KINDS)}


def test_a_sequence_is_the_same_every_time(drawn):
    again = generate_sequence(SHORT, 11, 0)
    np.testing.assert_array_equal(again.raw, drawn["steady"].raw)
    np.testing.assert_array_equal(again.xyz, drawn["steady"].xyz)


def test_the_labels_lie_on_the_depth_where_the_hand_is_visible(drawn):
    for kind, sequence in drawn.items():
        uvd = sequence.uvd
        depth = sequence.raw.astype(np.float64) * sequence.depth_scale_mm
        near = []
        for t in np.flatnonzero(sequence.visible):
            u, v = np.rint(uvd[t, :, 0]).astype(int), np.rint(uvd[t, :, 1]).astype(int)
            inside = (u >= 0) & (u < depth.shape[2]) & (v >= 0) & (v < depth.shape[1])
            seen = depth[t, v[inside], u[inside]]
            behind = uvd[t, inside, 2] - seen  # a joint lies 0-30 mm behind the surface it is seen through
            # seen from above, an egocentric hand's object often hides its fingers: there a joint may lie
            # anywhere behind the surface, never in front of it or where nothing is
            hidden = behind >= 60.0 if kind == "egocentric" else False
            near.append(np.mean((seen > 0) & (behind > -30.0) & ((behind < 60.0) | hidden)))
        assert np.median(near) > 0.5, f"{kind}: the joints are not on the rendered hand ({np.median(near):.2f})"


def test_the_kinds_do_what_they_say(drawn):
    assert drawn["steady"].visible.all()
    leaves = drawn["leaves"].visible
    assert leaves[0] and not leaves.all(), "the hand should leave the view and come back"
    speed = np.linalg.norm(np.diff(drawn["flicks"].xyz.mean(axis=1), axis=0), axis=-1) * SHORT.fps
    assert speed.max() > 1500.0, f"a flick should be faster than 1.5 m/s, got {speed.max():.0f} mm/s"
    steady = np.linalg.norm(np.diff(drawn["steady"].xyz.mean(axis=1), axis=0), axis=-1) * SHORT.fps
    assert steady.max() < 1000.0
    for kind in HELD:  # the grasp is kept: every frame's hand is the first one moved rigidly
        held = drawn[kind].xyz
        spans = np.linalg.norm(held[:, :, None] - held[:, None], axis=-1)  # (T, 21, 21) mm
        assert np.abs(spans - spans[0]).max() < 1e-6 * np.abs(spans).max()  # float64 rounding of ~100 mm spans
        assert drawn[kind].visible.mean() > 0.5
    ego = drawn["egocentric"]
    low, high = EGOCENTRIC_MM
    assert low - 60.0 < ego.xyz[..., 2].mean() < high + 60.0  # the mean distance, and the sines' 50 mm about it
    assert np.median(ego.uvd[..., 1]) > 0.45 * ego.camera.height, "an egocentric hand is seen below the middle"
    depth = ego.raw[0].astype(np.float64) * ego.depth_scale_mm
    bottom = depth[-ego.camera.height // 8 :]
    assert np.mean(bottom > 0) > 0.8, "the table (or the arm) fills the bottom of an egocentric view"


def test_a_sequence_is_written_as_a_recording_with_its_labels(drawn, tmp_path):
    sequence = drawn["crossing"]
    path = write_sequence(sequence, tmp_path / "seq.npy")
    camera, scale, fps = read_recording_info(path)
    assert (camera, scale, fps) == (sequence.camera, sequence.depth_scale_mm, sequence.fps)
    back = read_sequence(path)
    np.testing.assert_array_equal(back.raw, sequence.raw)
    np.testing.assert_array_equal(back.visible, sequence.visible)
    rounding = float(np.spacing(np.float32(np.abs(sequence.xyz).max())))  # stored as float32: half a spacing at most
    np.testing.assert_allclose(back.xyz, sequence.xyz, rtol=0, atol=rounding)
    assert back.kind == "crossing"
    with np.load(labels_path(path)) as archive:
        cut = {key: archive[key] for key in archive.files}
    np.savez(labels_path(path), **(cut | {"visible": cut["visible"][:-1]}))
    with pytest.raises(HandgraphError, match=r"seq_labels.npz: .* do not fit the \(45, 480, 640\) frames"):
        read_sequence(path)


def test_a_bad_config_is_named():
    with pytest.raises(HandgraphError, match="unknown kinds"):
        SequenceConfig(kinds=("waving",))
    with pytest.raises(HandgraphError, match="distance_mm"):
        SequenceConfig(distance_mm=(100.0, 2000.0))
