import torch

from handgraph.heatmaps import cell_centres, expected_value, gaussian_heatmaps, soft_argmax


def test_cell_centres_span_the_crop_like_align_corners_false():
    torch.testing.assert_close(cell_centres(4, torch.zeros(1)), torch.tensor([-0.75, -0.25, 0.25, 0.75]))


def test_encode_then_decode_returns_the_positions():
    uv = torch.tensor([[[0.1, -0.3], [-0.55, 0.62], [0.0, 0.0]]])
    targets = gaussian_heatmaps(uv, 32, 40, sigma=1.5)
    torch.testing.assert_close(targets.sum(dim=(-2, -1)), torch.ones(1, 3))
    decoded, probability = soft_argmax(torch.log(targets))
    torch.testing.assert_close(probability, targets)
    torch.testing.assert_close(decoded, uv, atol=1e-4, rtol=0)


def test_soft_argmax_of_a_peak_and_expected_depth():
    logits = torch.full((1, 1, 8, 8), -1e4)
    logits[0, 0, 2, 5] = 0.0
    uv, probability = soft_argmax(logits)
    torch.testing.assert_close(uv, torch.tensor([[[(2 * 5 + 1) / 8 - 1, (2 * 2 + 1) / 8 - 1]]]))
    depth_maps = torch.arange(64.0).reshape(1, 1, 8, 8)
    torch.testing.assert_close(expected_value(probability, depth_maps), torch.tensor([[21.0]]))
