import torch
from tolerance import assert_close

from handgraph.geometry.heatmaps import cell_centres, expected_value, gaussian_heatmaps, soft_argmax
from handgraph.geometry.numerics import summation_bound, ulps


def test_cell_centres_span_the_crop_like_align_corners_false():
    # (2 i + 1) / 4 - 1 is exact in binary: no rounding at all
    assert torch.equal(cell_centres(4, torch.zeros(1)), torch.tensor([-0.75, -0.25, 0.25, 0.75]))


def test_encode_then_decode_returns_the_positions():
    uv = torch.tensor([[[0.1, -0.3], [-0.55, 0.62], [0.0, 0.0]]])
    targets = gaussian_heatmaps(uv, 32, 40, sigma=1.5)
    cells = 32 * 40
    # a normalised sum of 1280 positive float32 terms adding up to 1, summed again: Higham's bound
    assert_close(targets.sum(dim=(-2, -1)), torch.ones(1, 3), summation_bound(cells, 1.0, torch.float32))
    decoded, probability = soft_argmax(torch.log(targets))
    # exp(log p) / sum: a few roundings per cell of p (<= 1) and the same 1280-term sum
    assert_close(probability, targets, ulps(1.0, torch.float32, 8) + summation_bound(cells, 1.0, torch.float32))
    # the expected position sums 1280 terms p_i c_i with sum |p_i c_i| <= 1; the Gaussians lie far enough from
    # the border that truncating them moves the mean by less than 1e-6
    assert_close(decoded, uv, summation_bound(cells, 1.0, torch.float32))


def test_soft_argmax_of_a_peak_and_expected_depth():
    logits = torch.full((1, 1, 8, 8), -1e4)
    logits[0, 0, 2, 5] = 0.0
    uv, probability = soft_argmax(logits)
    # every other cell's softmax weight is exp(-1e4) = 0 in float32: the sums hold one term, exactly
    assert torch.equal(uv, torch.tensor([[[(2 * 5 + 1) / 8 - 1, (2 * 2 + 1) / 8 - 1]]]))
    depth_maps = torch.arange(64.0).reshape(1, 1, 8, 8)
    assert torch.equal(expected_value(probability, depth_maps), torch.tensor([[21.0]]))
