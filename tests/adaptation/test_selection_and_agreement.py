"""The pieces of `handgraph adapt` that decide which frames teach: the depth agreement of a fitted hand (against
a slow reference) and the selection rule (against a loop that says it in words)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fitting"))
from fit_hands import random_hands  # noqa: E402

from handgraph.adaptation.selection import SelectionRule, select_frames  # noqa: E402
from handgraph.errors import HandgraphError  # noqa: E402
from handgraph.fitting import refine  # noqa: E402
from handgraph.fitting.agreement import depth_agreement, rendered_on_grid  # noqa: E402
from handgraph.fitting.surface_model import fitted_cones  # noqa: E402
from handgraph.geometry.camera import camera_preset  # noqa: E402
from handgraph.synth.raycast import render_depth  # noqa: E402
from handgraph.synth.surface import RoundCones  # noqa: E402


def _rendered(x: torch.Tensor):
    camera = camera_preset("sr305")
    mirrored = torch.zeros(len(x), dtype=torch.float64)
    cones = RoundCones.from_batched(*(part.numpy() for part in fitted_cones(x, mirrored)))
    intrinsics = np.tile([camera.fx, camera.fy, camera.cx, camera.cy], (len(x), 1))
    return camera, mirrored, render_depth(cones, intrinsics, camera.height, camera.width)


def _views(depth, camera, hands):
    return [refine.depth_view(depth[k], camera, np.array([0.0, 0.0, 450.0]), 250.0, hands[k], False)
            for k in range(len(hands))]  # fmt: skip


def _facing(count: int, seed: int) -> torch.Tensor:
    x = random_hands(count, seed=seed, limit_fraction=0.4)
    x[:, :3] = torch.tensor([np.pi, 0.0, 0.0])
    x[:, 3:6] = torch.tensor([0.0, 60.0, 450.0])
    return x


def test_the_model_on_the_grid_is_the_model_in_the_frame_sampled_as_the_grid_samples_it():
    x = _facing(3, seed=5)
    camera, mirrored, depth = _rendered(x)
    views = _views(depth, camera, x)
    on_grid = rendered_on_grid(views, x, mirrored)
    for k, view in enumerate(views):
        u0, v0, cell = view.box
        centres = (np.arange(on_grid.shape[1]) + 0.5) * cell
        u = np.clip(np.floor(u0 + centres).astype(int), 0, camera.width - 1)
        v = np.clip(np.floor(v0 + centres).astype(int), 0, camera.height - 1)
        sampled = depth[k][np.ix_(v, u)]
        both = (sampled > 0) & (on_grid[k] > 0)
        # The same surface, the grid's rays through cell centres and the frame's through whole pixels: up to
        # half a pixel apart, a few mm on the fingers' flanks, nothing on surfaces facing the camera.
        assert np.median(np.abs(sampled[both] - on_grid[k][both])) < 0.5
        assert np.mean((sampled > 0) == (on_grid[k] > 0)) > 0.97


def test_a_hand_on_its_own_depth_is_confirmed_and_one_in_front_of_it_is_not():
    x = _facing(3, seed=5)
    camera, mirrored, depth = _rendered(x)
    own = depth_agreement(_views(depth, camera, x), x, mirrored)
    # The model is the rendered hand: cells agree to within the half-pixel sampling above.
    assert (own.residual_mm < 1.0).all() and (own.explained > 0.9).all()
    nearer = x.clone()
    nearer[:, 5] -= 15.0  # the fitted hand 15 mm in front of the seen one: the camera sees through it
    moved = depth_agreement(_views(depth, camera, nearer), nearer, mirrored)
    assert (np.abs(moved.residual_mm - 15.0) < 3.0).all() and (moved.explained < 0.5).all()
    farther = x.clone()
    farther[:, 5] += 30.0  # 30 mm behind it: hidden by the seen hand, confirmed nowhere
    hidden = depth_agreement(_views(depth, camera, farther), farther, mirrored)
    assert (hidden.explained < 0.3).all()
    assert set(own.record(0)) == {"depth_residual_mm", "depth_explained"}


def _reference_selection(measures: dict, rule: SelectionRule) -> np.ndarray:
    rows = range(len(measures["residual_mm"]))
    candidates = [
        k
        for k in rows
        if np.isfinite(measures["residual_mm"][k])
        and measures["support"][k] >= rule.min_support
        and measures["moved_mm"][k] <= rule.max_moved_mm
    ]
    ranked = sorted(candidates, key=lambda k: (-measures["explained"][k], k))  # the most confirmed first
    keep = ranked[: int(np.ceil(rule.keep_share * len(candidates)))]
    return np.array([k in keep for k in rows])


@pytest.mark.parametrize("seed", range(5))
def test_selection_equals_the_rule_in_words(seed):
    rng = np.random.default_rng(seed)
    count = 40
    measures = {
        "residual_mm": np.where(rng.uniform(size=count) < 0.1, np.nan, rng.gamma(2.0, 2.0, count)),
        "support": rng.choice([0.5, 0.7, 0.75, 0.8, 1.0], count),
        "explained": rng.choice([0.3, 0.5, 0.8, 0.9, 1.0], count),  # ties: the earlier frame first
        "moved_mm": rng.gamma(2.0, 8.0, count),
    }
    rule = SelectionRule(keep_share=float(rng.choice([0.3, 0.5, 1.0])))
    assert (select_frames(measures, rule) == _reference_selection(measures, rule)).all()


def test_a_selection_rule_out_of_range_is_refused():
    with pytest.raises(HandgraphError, match="keep_share"):
        SelectionRule(keep_share=0.0)
