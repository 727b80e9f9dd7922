"""The dense vote of AWR (Huang et al., AAAI 2020), shared by ``awr`` and by ``hgt``'s vote estimate.

Every cell p of a stride-4 map is a 3D point P_p of the crop in normalised (u, v, d): its centre, and the
nearest depth among its pixels (a point of the surface, where an average would mix hand and background).
Per cell and joint a network predicts a closeness H_j(p) and a unit direction U_j(p); within the radius r the
offset to the joint is r (1 - H) U, so each cell votes for a joint position, and the joint is the vote
weighted by a softmax of logits W_j over the cells that see the hand:

    J_j = sum_p softmax_p(W_j)(p) (P_p + r (1 - H_j(p)) U_j(p))

The dense maps are supervised directly (the dense loss), against H* = max(0, 1 - |J* - P_p| / r) and
U* = (J* - P_p) / |J* - P_p| on the cells within r of the joint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import torch
import torch.nn.functional as F

from handgraph.geometry.heatmaps import cell_centres

RADIUS = 0.4
"""r in normalised units: 50 mm of a 250 mm cube (a unit is half the cube)."""
BACKGROUND = 0.99
"""Cells whose nearest normalised depth is at least this hold no hand (the far value is 1) and do not vote."""


def unit_vectors(vectors: torch.Tensor) -> torch.Tensor:
    """(B, J, 3, N) -> the same vectors scaled to length 1 (F.normalize's result; its strided norm over the
    axis of 3 took a quarter of a training step)."""
    return vectors * lengths(vectors).clamp_min(1e-12).reciprocal()[:, :, None]


def lengths(vectors: torch.Tensor) -> torch.Tensor:
    """(B, J, 3, N) -> (B, J, N) Euclidean lengths over the axis of 3, as a sum of three squares."""
    return vectors.square().sum(dim=2).clamp_min(1e-24).sqrt()


def cell_points(depth: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(B, 1, S, S) normalised depth -> (B, 3, H W): each cell's centre (u, v) and its nearest depth."""
    batch = depth.shape[0]
    pooled = -F.adaptive_max_pool2d(-depth, (height, width)).reshape(batch, -1)
    v, u = torch.meshgrid(cell_centres(height, depth), cell_centres(width, depth), indexing="ij")
    plane = torch.stack([u.reshape(-1), v.reshape(-1)]).expand(batch, 2, -1)
    return torch.cat([plane, pooled[:, None]], dim=1)


def hand_cells(points: torch.Tensor) -> torch.Tensor:
    """(B, 3, N) cell points -> (B, N) bool: the cells that see the hand; a crop without one lets all vote."""
    hand = points[:, 2] < BACKGROUND
    return hand | ~hand.any(dim=1, keepdim=True)


def cell_votes(closeness: torch.Tensor, direction: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Each cell's vote P_p + r (1 - H_j(p)) U_j(p): closeness (B, J, N), unit direction (B, J, 3, N) and points
    (B, 3, N) -> (B, J, 3, N)."""
    return points[:, None] + RADIUS * (1 - closeness)[:, :, None] * direction


def vote_weights(logits: torch.Tensor, hand: torch.Tensor) -> torch.Tensor:
    """softmax_p(W) over the hand's cells: logits (B, J, ..., N) and hand (B, N) -> weights like logits."""
    mask = hand.reshape(hand.shape[0], *[1] * (logits.dim() - 2), hand.shape[1])
    return torch.softmax(logits.masked_fill(~mask, float("-inf")), dim=-1)


def dense_loss(
    closeness: torch.Tensor, direction: torch.Tensor, points: torch.Tensor, hand: torch.Tensor, weight: float
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """The dense maps' own loss, as a model's ``auxiliary``: true uvd_norm (B, J, 3) -> {"dense": loss}."""

    def loss(target_uvd_norm: torch.Tensor) -> dict[str, torch.Tensor]:
        offset = target_uvd_norm[..., None] - points[:, None]  # (B, J, 3, N)
        distance = lengths(offset)  # (B, J, N)
        near = (distance < RADIUS) & hand[:, None]
        target_closeness = (1 - distance / RADIUS).clamp_min(0.0)
        closeness_loss = F.smooth_l1_loss(closeness * hand[:, None], target_closeness * hand[:, None])
        unit = offset / distance[:, :, None].clamp_min(1e-6)
        direction_error = F.smooth_l1_loss(direction, unit, reduction="none").sum(dim=2)  # (B, J, N)
        direction_loss = (direction_error * near).sum() / near.sum().clamp_min(1)
        return {"dense": weight * (closeness_loss + direction_loss)}

    return loss


@dataclass
class VoteField:
    """What the vote needs besides its weights: per joint and cell the closeness (B, J, N) and unit direction
    (B, J, 3, N), and the cells' points (B, 3, N) and whether they see the hand (B, N)."""

    closeness: torch.Tensor
    direction: torch.Tensor
    points: torch.Tensor
    hand: torch.Tensor

    def vote(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The vote weighted by logits (B, J, H, W) or (B, J, N) -> joints (B, J, 3), weights (B, J, N)."""
        weights = vote_weights(logits.flatten(2), self.hand)
        return torch.einsum("bjn,bjcn->bjc", weights, self.votes), weights

    @cached_property
    def votes(self) -> torch.Tensor:
        """(B, J, 3, N) every cell's vote, built once per field: a model that votes several times shares it."""
        return cell_votes(self.closeness, self.direction, self.points)

    def vote_each(self, logits: list[torch.Tensor]) -> list[torch.Tensor]:
        """The vote under each of K logits (B, J, H, W) -> K joints (B, J, 3), from one set of cell votes: the
        (B, J, 3, N) votes' gradient is built once, not K times (most of a step's time otherwise)."""
        weights = vote_weights(torch.stack([each.flatten(2) for each in logits], dim=2), self.hand)  # (B, J, K, N)
        return list(torch.einsum("bjkn,bjcn->bjkc", weights, self.votes).unbind(dim=2))

    def loss(self, weight: float) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
        """``dense_loss`` of these maps."""
        return dense_loss(self.closeness, self.direction, self.points, self.hand, weight)


def vote_field(maps: torch.Tensor, depth: torch.Tensor, height: int, width: int) -> VoteField:
    """The field of raw maps (B, J, 4, H W), a closeness and a 3D direction per joint and cell, over the cells
    of depth (B, C, S, S) at H x W."""
    points = cell_points(depth[:, :1], height, width)
    return VoteField(maps[:, :, 0], unit_vectors(maps[:, :, 1:4]), points, hand_cells(points))
