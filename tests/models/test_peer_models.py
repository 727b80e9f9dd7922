"""a2j, awr and hgt's vote estimate: their votes against a loop over anchors or cells, and their own losses."""

import pytest
import torch
from tolerance import assert_close

from handgraph.geometry.heatmaps import cell_centres
from handgraph.geometry.numerics import summation_bound, ulps
from handgraph.models import create_model
from handgraph.models.dense_vote import BACKGROUND, RADIUS
from handgraph.training.losses import LossWeights, pose_loss

TINY = dict(input_size=32, width=8, blocks=1)


def _inputs(batch=2, size=32):
    torch.manual_seed(1)
    depth = torch.ones(batch, 1, size, size)
    depth[:, :, 8:24, 10:22] = torch.rand(batch, 1, 16, 12) * 0.6 - 0.3  # a hand in front of the far value
    crop = torch.tensor([[60.0, 60.0, 15.5, 15.5, 450.0, 250.0]]).expand(batch, 6)
    return depth, crop


def test_a2j_is_a_weighted_vote_of_its_anchors():
    model = create_model("a2j", **TINY).eval()
    depth, _ = _inputs()
    output = model.predict(depth)
    features = model.backbone(depth)
    offsets, depths, responses = model.offsets(features), model.depths(features), model.responses(features)
    size = features.shape[-1]
    centres = cell_centres(size, features)
    for b in range(2):
        for j in (0, 7, 20):
            weights = torch.softmax(responses[b, j].reshape(-1), dim=0).reshape(size, size)
            uvd, absolute = torch.zeros(3), torch.zeros(3)
            for row in range(size):
                for column in range(size):
                    w = weights[row, column]
                    vote = torch.stack(
                        [
                            centres[column] + offsets[b, 2 * j, row, column],
                            centres[row] + offsets[b, 2 * j + 1, row, column],
                            depths[b, j, row, column],
                        ]
                    )
                    uvd, absolute = uvd + w * vote, absolute + w * vote.abs()
            # float32 sums over the 64 anchors in another order (Higham), plus the softmax weights' and the
            # votes' own roundings (a few ulps of the same absolute sum)
            absolute = absolute.detach().numpy()
            bound = summation_bound(size * size, 1.0, torch.float32) * absolute + ulps(absolute, torch.float32, 8)
            assert_close(output["uvd_norm"][b, j], uvd, bound, f"frame {b} joint {j}")


def _vote_by_loop(depth, closeness, direction, logits, b, j, skip=None):
    """Joint j of frame b, cell by cell: each hand cell's point plus r (1 - closeness) times its unit direction,
    weighted by the softmax of the logits over the hand's cells. closeness and logits (B, J, H, W), direction
    (B, J, 3, H, W) not yet of unit length. ``skip`` (row, column) leaves one cell out (a deliberate error).
    Returns the vote and the weighted sum of the votes' absolute values."""
    size = closeness.shape[-1]
    centres = cell_centres(size, closeness)
    votes, weights = [], []
    for row in range(size):
        for column in range(size):
            nearest = depth[b, 0, 4 * row : 4 * row + 4, 4 * column : 4 * column + 4].min()
            if nearest >= BACKGROUND or (row, column) == skip:
                continue
            point = torch.stack([centres[column], centres[row], nearest])
            raw = direction[b, j, :, row, column]
            votes.append(point + RADIUS * (1 - closeness[b, j, row, column]) * raw / raw.norm())
            weights.append(logits[b, j, row, column])
    weights, votes = torch.softmax(torch.stack(weights), dim=0)[:, None], torch.stack(votes)
    return (weights * votes).sum(dim=0), (weights * votes.abs()).sum(dim=0)


def _vote_bound(absolute: torch.Tensor, cells: int = 64) -> torch.Tensor:
    """float32 sums of up to ``cells`` weighted votes in another order (Higham), plus the weights' and the
    unit directions' own roundings: ulps of the absolute sum of the terms."""
    absolute = absolute.detach().numpy()
    return summation_bound(cells, 1.0, torch.float32) * absolute + ulps(absolute, torch.float32, 16)


def test_awr_is_a_weighted_vote_of_the_hand_cells():
    model = create_model("awr", **TINY).eval()
    depth, _ = _inputs()
    output = model.predict(depth)
    maps = model.head(model.backbone(depth))  # (B, 5 J, H, W): closeness, direction, logit per joint
    maps = maps.unflatten(1, (21, 5))
    for b in range(2):
        for j in (0, 9, 20):
            expected, absolute = _vote_by_loop(depth, maps[:, :, 0], maps[:, :, 1:4], maps[:, :, 4], b, j)
            assert_close(output["uvd_norm"][b, j], expected, _vote_bound(absolute), f"frame {b} joint {j}")


def test_the_vote_bound_catches_one_dropped_cell():
    model = create_model("awr", **TINY).eval()
    depth, _ = _inputs()
    output = model.predict(depth)
    maps = model.head(model.backbone(depth)).unflatten(1, (21, 5))
    parts = (maps[:, :, 0], maps[:, :, 1:4], maps[:, :, 4])
    expected, absolute = _vote_by_loop(depth, *parts, 0, 9)
    assert_close(output["uvd_norm"][0, 9], expected, _vote_bound(absolute))
    dropped, _ = _vote_by_loop(depth, *parts, 0, 9, skip=(3, 3))  # a hand cell (the hand covers rows 2-5)
    with pytest.raises(AssertionError):
        assert_close(output["uvd_norm"][0, 9], dropped, _vote_bound(absolute))


def test_hgt_votes_with_the_refined_heatmaps_as_weights():
    model = create_model("hgt", first_estimate="vote", transformer_dim=16, transformer_heads=2, **TINY).eval()
    depth, _ = _inputs()
    output = model.predict(depth)
    body = model.body(depth)
    assert body["depth_maps"] is None  # the vote gives the depth
    maps = model.vote(body["features"]).unflatten(1, (21, 4))  # (B, J, 4, H, W): closeness, direction
    for b in range(2):
        for j in (0, 4, 20):
            expected, absolute = _vote_by_loop(depth, maps[:, :, 0], maps[:, :, 1:], body["refined"], b, j)
            assert_close(output["estimate"][b, j], expected, _vote_bound(absolute), f"frame {b} joint {j}")
    target = torch.rand(2, 21, 3) * 0.6 - 0.3
    own = output["auxiliary"](target)
    # a mean of 63 float32 terms below 2, in another order: Higham's bound
    mean = (output["estimate"] - target).abs().mean()
    assert_close(own["estimate"], mean, summation_bound(63, float(mean), torch.float32) + ulps(mean, torch.float32, 2))
    assert own["dense"] > 0


def test_the_peers_own_losses_are_added_to_the_pose_loss_and_can_be_learned():
    for name, term in (("a2j", "surround"), ("awr", "dense")):
        torch.manual_seed(0)
        model = create_model(name, **TINY).train()
        depth, crop = _inputs(4)
        target = torch.rand(4, 21, 3) * 0.6 - 0.3
        output = model(depth, crop)
        bones = torch.tensor([[0, 1], [1, 2]])
        total, terms = pose_loss(output, target, output["xyz"].detach() + 10, bones, LossWeights())
        own = output["auxiliary"](target)[term]
        assert terms[term] == float(own) > 0
        without = dict(output)
        del without["auxiliary"]
        base, _ = pose_loss(without, target, output["xyz"].detach() + 10, bones, LossWeights())
        assert_close(total, base + own, ulps(total, torch.float32, 4))  # one more float32 addition, another order
        optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
        first = float(own)
        for _ in range(60):  # the term alone: differentiable, and pointing the right way
            own = model(depth, crop)["auxiliary"](target)[term]
            optimiser.zero_grad()
            own.backward()
            optimiser.step()
        assert float(own) < 0.5 * first, (name, first, float(own))
