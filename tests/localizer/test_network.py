import numpy as np
import torch
from tolerance import assert_close

from handgraph.geometry.numerics import ulps
from handgraph.localizer.network import (
    NEARER_HAND_SHARE,
    STRIDE,
    HandLocalizer,
    LocalizerConfig,
    decode,
    localizer_loss,
    targets,
)
from handgraph.preprocess.canvas import Canvas

CONFIG = LocalizerConfig(canvas=Canvas(width=64, height=48), width=4)


def _maps_from(target: dict, height: int, width: int) -> dict[str, torch.Tensor]:
    """Network outputs that say exactly the target: heat as logits, offsets and depth at the hands' cells."""
    count = target["heat"].shape[0]
    offset = torch.zeros(count, 2, height * width)
    depth = torch.zeros(count, 1, height * width)
    for b in range(count):
        for k in range(target["cell"].shape[1]):
            if target["present"][b, k]:
                offset[b, :, target["cell"][b, k]] = target["offset"][b, k]
                depth[b, 0, target["cell"][b, k]] = target["depth"][b, k]
    heat = torch.logit(target["heat"].clamp(1e-6, 1 - 1e-6))
    return {"heat": heat, "offset": offset.view(count, 2, height, width), "depth": depth.view(count, 1, height, width)}


def test_targets_decode_back_to_the_hand_centres():
    uvd = torch.tensor([[[20.3, 31.7, 612.0], [50.0, 10.0, 900.0]], [[3.2, 44.9, 350.0], [0.0, 0.0, 1.0]]])
    present = torch.tensor([[True, False], [True, False]])
    target = targets(uvd, present, 96.0, 12, 16)
    decoded = decode(_maps_from(target, 12, 16))
    # float32 through the targets and back (metres, cells): a few ulps of each value (pixels, mm up to 612)
    assert_close(decoded[:, :3], uvd[:, 0], ulps(uvd[:, 0], torch.float32, 16))
    assert (decoded[:, 3] > 0.999).all()  # the peak of a bump is 1


def test_decode_equals_a_loop_over_cells():
    """The nearest of the strong local peaks, by loops over cells and their neighbours."""
    torch.manual_seed(0)
    maps = {"heat": torch.randn(6, 1, 5, 7), "offset": torch.randn(6, 2, 5, 7), "depth": torch.randn(6, 1, 5, 7)}
    decoded = decode(maps).numpy()
    chose_a_weaker_peak = 0
    for b in range(6):
        heat = maps["heat"][b, 0].double().numpy()
        score = 1 / (1 + np.exp(-heat))
        best, nearest = None, np.inf
        for row in range(5):
            for column in range(7):
                around = heat[max(0, row - 1) : row + 2, max(0, column - 1) : column + 2]
                strong = score[row, column] >= NEARER_HAND_SHARE * score.max()
                depth = float(maps["depth"][b, 0, row, column])
                if heat[row, column] == around.max() and strong and depth < nearest:
                    best, nearest = (row, column), depth
        row, column = best
        chose_a_weaker_peak += heat[row, column] < heat.max()
        u = STRIDE * (column + float(maps["offset"][b, 0, row, column])) + 1.5
        v = STRIDE * (row + float(maps["offset"][b, 1, row, column])) + 1.5
        d = 1000 * (nearest + 1.5)
        expected = np.array([u, v, d, score[row, column]])
        # the same float32 inputs, combined in float32 there and float64 here: a few float32 ulps of each
        assert_close(decoded[b], expected, ulps(expected, np.float32, 4))
    assert chose_a_weaker_peak  # the rule differs from the best cell somewhere here


def test_no_hand_targets_are_all_zero_and_bumps_grow_with_nearness():
    uvd = torch.tensor([[[30.0, 20.0, 300.0]], [[30.0, 20.0, 1200.0]], [[30.0, 20.0, 600.0]]])
    target = targets(uvd, torch.tensor([[True], [True], [False]]), 96.0, 12, 16)
    assert target["heat"][2].max() == 0
    assert (target["heat"][0] > 0.5).sum() > (target["heat"][1] > 0.5).sum()


def test_every_parameter_learns_and_nothing_is_nan():
    torch.manual_seed(0)
    network = HandLocalizer(CONFIG)
    depth = torch.rand(4, 1, 48, 64) * 2000 * (torch.rand(4, 1, 48, 64) > 0.3)
    uvd = torch.tensor([[[20.0, 30.0, 600.0]]]).expand(4, 1, 3)
    maps = network(depth)
    assert maps["heat"].shape == (4, 1, 12, 16) and all(torch.isfinite(value).all() for value in maps.values())
    loss, terms = localizer_loss(maps, targets(uvd, torch.tensor([[True], [True], [False], [True]]), 96.0, 12, 16))
    loss.backward()
    for name, parameter in network.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
