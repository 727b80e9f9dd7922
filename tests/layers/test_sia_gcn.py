import copy

import numpy as np
import pytest
import torch
from tolerance import assert_close

from handgraph.geometry.numerics import summation_bound, ulps
from handgraph.geometry.skeleton import graph_edges
from handgraph.layers.sia_gcn import SIAGCNLayer
from handgraph.layers.sia_gcn_reference import DenseSIAGCN, loop_forward

# A 4-node path 0 - 1 - 2 - 3, edges both ways plus self-loops, as the hand graph is built.
PATH = np.array([[0, 1, 1, 2, 2, 3, 0, 1, 2, 3], [1, 0, 2, 1, 3, 2, 0, 1, 2, 3]])


@pytest.mark.parametrize(
    ("channels", "dilation", "attention", "score"),
    [(1, 1, True, "linear"), (2, 2, True, "linear"), (3, 1, False, "linear"), (2, 1, True, "leaky_relu")],
)
@pytest.mark.parametrize("reference", ["loop", "dense"])
def test_batched_layer_equals_the_per_edge_reference(channels, dilation, attention, score, reference):
    torch.manual_seed(0)
    edges = graph_edges()
    layer = SIAGCNLayer(channels, edges, 21, 3, dilation, attention, score=score).double()
    if attention:
        torch.nn.init.normal_(layer.score.weight)  # non-uniform attention
    torch.nn.init.normal_(layer.bias)
    x = torch.randn(2, 21, channels, 8, 6, dtype=torch.float64, requires_grad=True)  # H != W
    fast = layer(x)
    slow = loop_forward(layer, x) if reference == "loop" else DenseSIAGCN(layer)(x)
    # an output pixel sums at most 6 edges x 3 channels x 9 taps = 162 products in float64, in another order
    # here than there: Higham's bound with every term as large as the largest output
    assert_close(fast, slow, _bound(slow))
    upstream = torch.randn_like(fast)
    fast_grads = torch.autograd.grad(fast, [x, *layer.parameters()], upstream)
    slow_grads = torch.autograd.grad(slow, [x, *layer.parameters()], upstream)
    for mine, theirs in zip(fast_grads, slow_grads, strict=True):
        # a kernel's gradient sums over 2 frames x 48 pixels x the 162 products: 15552 terms at most
        assert_close(mine, theirs, summation_bound(15552, 15552 * float(theirs.abs().max()), torch.float64))


def _bound(slow: torch.Tensor) -> float:
    return summation_bound(162, 162 * float(slow.detach().abs().max()), torch.float64)


@pytest.mark.parametrize("reference", ["loop", "dense"])
def test_the_reference_bound_catches_one_kernel_weight_a_millionth_off(reference):
    torch.manual_seed(0)
    layer = SIAGCNLayer(2, graph_edges(), 21, 3, 1, True).double()
    x = torch.randn(2, 21, 2, 8, 6, dtype=torch.float64)
    wrong = copy.deepcopy(layer)
    with torch.no_grad():
        wrong.weight.view(-1)[17] *= 1 + 1e-6
    slow = loop_forward(layer, x) if reference == "loop" else DenseSIAGCN(layer)(x)
    assert_close(layer(x), slow, _bound(slow))
    with pytest.raises(AssertionError):
        assert_close(wrong(x), slow, _bound(slow))


def test_messages_flow_only_along_edges():
    torch.manual_seed(1)
    layer = SIAGCNLayer(1, PATH, 4, kernel_size=3, activation=False)
    x = torch.randn(1, 4, 1, 6, 6)
    poked = x.clone()
    poked[0, 0] += 5.0
    changed = (layer(poked) - layer(x)).abs().amax(dim=(0, 2, 3, 4))
    assert changed[0] > 0 and changed[1] > 0  # node 0 itself (self-loop) and its neighbour
    assert changed[2] == 0 and changed[3] == 0  # two and three hops away: untouched by one layer


def test_without_attention_a_node_averages_its_incoming_messages():
    torch.manual_seed(2)
    layer = SIAGCNLayer(1, PATH, 4, kernel_size=1, attention=False, activation=False)
    with torch.no_grad():
        layer.weight.fill_(1.0)  # 1x1 kernels of 1: each message is its source map
    x = torch.randn(1, 4, 1, 5, 5)
    out = layer(x)
    # a mean of 3 (or 2) float32 maps of |x| < 5, summed in any order: a few ulps of the largest
    assert_close(out[:, 1], (x[:, 0] + x[:, 1] + x[:, 2]) / 3, ulps(x.abs().max(), torch.float32, 4))
    assert_close(out[:, 3], (x[:, 2] + x[:, 3]) / 2, ulps(x.abs().max(), torch.float32, 4))


def test_edge_weights_sum_to_one_per_node():
    layer = SIAGCNLayer(2, graph_edges(), 21)
    torch.nn.init.normal_(layer.score.weight, std=3.0)
    weights = layer.edge_weights(torch.randn(3, 4 * 4, 2 * 21))  # (B, H W, c N)
    # softmax weights over at most 10 edges, normalised and summed again in float32
    assert_close(
        weights.sum(dim=-1), torch.ones(3, 21), summation_bound(10, 1.0, torch.float32) + ulps(1, torch.float32, 2)
    )
    assert (weights[:, layer.incoming == 0] == 0).all()  # nothing off the incoming edges


@pytest.mark.parametrize(("score", "ratio_after"), [("linear", 2.0), ("leaky_relu", 0.4)])
def test_only_the_gat_score_makes_weights_depend_on_the_target(score, ratio_after):
    layer = SIAGCNLayer(1, PATH, 4, kernel_size=3, score=score).double()
    with torch.no_grad():
        layer.score.weight.copy_(torch.tensor([[1.0, 0.0, 1.0, 0.0]]))  # s_e = mean(x_src) + mean(x_dst)
    levels = torch.tensor([0.0, 1.0, 5.0, -1.0], dtype=torch.float64)  # constant maps; node 2 is the target
    for target_level, expected in [(5.0, 2.0), (-10.0, ratio_after)]:
        levels[2] = target_level
        pixels = levels.expand(1, 36, 4)  # (B, H W, c N)
        weights = layer.edge_weights(pixels)[0, 2]  # node 2's weights over the 10 edges
        # edges 1 -> 2 (column 2) and 3 -> 2 (column 5) keep their sources; scores 6 and 4, then -9 and -11
        log_ratio = torch.log(weights[2] / weights[5])
        # the log of a ratio of two float64 softmax weights: a few roundings relative to the scores (<= 11)
        assert_close(log_ratio, torch.tensor(expected, dtype=torch.float64), ulps(11.0, torch.float64, 16))


def test_unknown_score_is_refused():
    with pytest.raises(ValueError, match="score must be one of"):
        SIAGCNLayer(1, PATH, 4, score="tanh")
