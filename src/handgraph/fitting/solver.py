"""Batched Levenberg-Marquardt with box bounds: B independent least-squares problems solved side by side.

Each problem minimises ||r(x)||^2 over x in [lower, upper]. Per iteration and problem, with J the Jacobian of r
with respect to a local step (see ``retract``) and g = J^T r:

    (J^T J + lambda diag(J^T J)) step = -g,   x <- clip(retract(x, step), lower, upper)

The step is kept where it lowers the cost (lambda shrinks) and refused where it does not (lambda grows).
Bounds are an active set: a parameter at a bound whose gradient points out of the box is held for that
iteration, so a joint pushed beyond its limit ends exactly at the limit.

Why not a library: pypose's LM solves one joint system over every parameter of a batch (a (B P)^2 matrix
where B independent P x P ones suffice) and has no bounds; theseus is built for GPU training loops and
pins its own torch; scipy's least_squares solves one problem at a time on the CPU. The loop is 30 lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

Residuals = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
"""x (B, P) -> residuals (B, R) and their Jacobian with respect to the local step, (B, R, P)."""


@dataclass
class Solution:
    x: torch.Tensor
    """(B, P) the parameters at the lowest cost found."""
    cost: torch.Tensor
    """(B,) the sum of squared residuals there."""
    iterations: int


def levenberg_marquardt(
    residuals: Residuals,
    x: torch.Tensor,
    retract: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    lower: torch.Tensor,
    upper: torch.Tensor,
    free: torch.Tensor | None = None,
    iterations: int = 30,
    damping: float = 1e-3,
    tolerance: float = 1e-4,
) -> Solution:
    """Minimise ||residuals(x)||^2 for each of B problems from x (B, P) within lower <= x <= upper (P,).

    ``free`` (P,) bool holds the parameters that may move (default: all). Stops after ``iterations`` or when
    no problem lowers its cost by more than ``tolerance`` of it.
    """
    free = torch.ones(x.shape[1], dtype=torch.bool) if free is None else free
    x = torch.clamp(x, lower, upper)
    r, jacobian = residuals(x)
    cost = (r * r).sum(dim=1)
    lam = torch.full_like(cost, damping)
    iteration = 0
    while iteration < iterations:
        iteration += 1
        gradient = (jacobian.mT @ r[..., None])[..., 0]  # (B, P)
        held = ~free | ((x <= lower) & (gradient > 0)) | ((x >= upper) & (gradient < 0))
        jacobian = jacobian * ~held[:, None, :]
        hessian = jacobian.mT @ jacobian  # (B, P, P)
        diagonal = hessian.diagonal(dim1=-2, dim2=-1)
        system = hessian + torch.diag_embed(lam[:, None] * diagonal + held.to(x.dtype) + 1e-9)
        step = -torch.linalg.solve(system, gradient * ~held)
        candidate = torch.clamp(retract(x, step), lower, upper)
        candidate_r, candidate_jacobian = residuals(candidate)
        candidate_cost = (candidate_r * candidate_r).sum(dim=1)
        better = candidate_cost < cost
        gain = torch.where(better, cost - candidate_cost, torch.zeros_like(cost))
        x = torch.where(better[:, None], candidate, x)
        r = torch.where(better[:, None], candidate_r, r)
        jacobian = torch.where(better[:, None, None], candidate_jacobian, jacobian)
        cost = torch.where(better, candidate_cost, cost)
        lam = torch.where(better, lam * 0.3, lam * 4.0).clamp(1e-9, 1e12)
        if bool((gain <= tolerance * cost + 1e-8).all()) and bool((better | (lam >= 1e6)).all()):
            break
    return Solution(x=x, cost=cost, iterations=iteration)
