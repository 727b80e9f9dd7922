"""Random kinematic hands for the fitting tests: parameter vectors within the joint limits."""

from __future__ import annotations

import torch

from handgraph.fitting import hand_model
from handgraph.geometry import anatomy


def random_hands(count: int, seed: int, limit_fraction: float = 1.0) -> torch.Tensor:
    """(count, 42) hands: any rotation, 400-600 mm away, angles uniform within ``limit_fraction`` of each
    limit's range (centred), scale 0.8-1.2, each bone within 4 % of the scaled average."""
    generator = torch.Generator().manual_seed(seed)
    low, high = hand_model.parameter_bounds()
    middle, half = (low[6:26] + high[6:26]) / 2, (high[6:26] - low[6:26]) / 2 * limit_fraction
    x = torch.zeros(count, 42, dtype=torch.float64)
    x[:, :3] = torch.randn(count, 3, generator=generator, dtype=torch.float64) * 1.5
    x[:, 3:6] = torch.tensor([0.0, 0.0, 500.0]) + 60 * torch.randn(count, 3, generator=generator, dtype=torch.float64)
    x[:, 6:26] = middle + half * (2 * torch.rand(count, 20, generator=generator, dtype=torch.float64) - 1)
    x[:, 26] = torch.log(0.8 + 0.4 * torch.rand(count, generator=generator, dtype=torch.float64))
    average = torch.log(torch.as_tensor(anatomy.BONE_LENGTHS_MM, dtype=torch.float64)).reshape(15)
    x[:, 27:] = average + x[:, 26:27] + 0.04 * torch.randn(count, 15, generator=generator, dtype=torch.float64)
    return x
