import copy

import pytest
import torch
from tolerance import assert_close

from handgraph.geometry.numerics import ulps
from handgraph.geometry.skeleton import HAND, graph_edges
from handgraph.layers.encodings import hop_distances
from handgraph.layers.graph_transformer import HopBiasedAttention
from handgraph.layers.interleaved import BUMP_SIGMA, InterleavedBlock
from handgraph.layers.sia_gcn import SIAGCNLayer
from handgraph.layers.sia_gcn_reference import loop_forward

HOPS = torch.tensor(hop_distances(HAND))


def _block(channels: int = 2, size: tuple[int, int] = (6, 5), dim: int = 16, heads: int = 2) -> InterleavedBlock:
    torch.manual_seed(0)
    graph = SIAGCNLayer(channels, graph_edges(), 21, 3, 1, True)
    block = InterleavedBlock(graph, size, dim, heads, int(HOPS.max())).double()
    with torch.no_grad():  # away from the initial values that hide terms: attention scores, hop biases, the write
        torch.nn.init.normal_(block.graph.score.weight)
        torch.nn.init.normal_(block.attention.attention.hop_bias.weight)
        torch.nn.init.normal_(block.token_to_map.weight, std=0.3)
        for norm in (block.norm_in, block.norm_out, block.attention.norm_attention, block.attention.norm_feed):
            torch.nn.init.normal_(norm.weight, mean=1.0, std=0.2)
            torch.nn.init.normal_(norm.bias, std=0.2)
    return block


def _linear(layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """W x + b, one output unit at a time."""
    return torch.stack([(x * layer.weight[k]).sum(-1) + layer.bias[k] for k in range(layer.out_features)], -1)


def _layer_norm(norm: torch.nn.LayerNorm, x: torch.Tensor) -> torch.Tensor:
    """(x - mean) / sqrt(biased variance + eps) * weight + bias over the last axis."""
    centred = x - x.mean(-1, keepdim=True)
    return centred / torch.sqrt(centred.square().mean(-1, keepdim=True) + norm.eps) * norm.weight + norm.bias


def _attention_by_pairs(attention: HopBiasedAttention, tokens: torch.Tensor, hops: torch.Tensor) -> torch.Tensor:
    """Hop-biased attention written pair by pair: for each head h and joint i, the softmax over joints k of
    q_i . k_k / sqrt(d) + b_h[hop(i, k)], and the weighted sum of the values."""
    q, k, v = (_linear(part, tokens) for part in (attention.query, attention.key, attention.value))  # (B, J, D)
    batch, joints, _ = tokens.shape
    heads, size = attention.heads, attention.head_dim
    mixed = torch.zeros_like(q)
    for b in range(batch):
        for h in range(heads):
            part = slice(h * size, (h + 1) * size)
            for i in range(joints):
                logits = torch.stack(
                    [
                        q[b, i, part] @ k[b, j, part] / size**0.5 + attention.hop_bias.weight[hops[i, j], h]
                        for j in range(joints)
                    ]  # fmt: skip
                )
                weights = torch.exp(logits - logits.max()) / torch.exp(logits - logits.max()).sum()
                mixed[b, i, part] = sum(weights[j] * v[b, j, part] for j in range(joints))
    return _linear(attention.out, mixed)


def _bump(centre: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(2,) normalised (u, v) -> (height, width) Gaussian of BUMP_SIGMA cells summing to 1, cell by cell."""
    bump = torch.zeros(height, width, dtype=centre.dtype)
    for row in range(height):
        for column in range(width):
            du = ((2 * column + 1) / width - 1 - centre[0]) * width / 2  # in cells
            dv = ((2 * row + 1) / height - 1 - centre[1]) * height / 2
            bump[row, column] = torch.exp(-(du**2 + dv**2) / (2 * BUMP_SIGMA**2))
    return bump / bump.sum()


def reference_block(block: InterleavedBlock, maps: torch.Tensor, tokens: torch.Tensor, hops: torch.Tensor):
    """The block's four steps as its docstring writes them: SIA-GCN edge by edge, then joint by joint the read,
    the attention pair by pair, and the write. Returns the maps, the tokens and the largest magnitude met."""
    maps = maps + loop_forward(block.graph, maps)  # SIA-GCN, one small convolution per edge
    batch, joints, channels, height, width = maps.shape
    read = [
        _linear(block.map_to_token, _layer_norm(block.norm_in, maps[:, j].reshape(batch, -1))) for j in range(joints)
    ]
    tokens = tokens + torch.stack(read, dim=1)
    layer = block.attention
    tokens = tokens + _attention_by_pairs(layer.attention, _layer_norm(layer.norm_attention, tokens), hops)
    hidden = _linear(layer.feed[0], _layer_norm(layer.norm_feed, tokens))
    hidden = 0.5 * hidden * (1 + torch.erf(hidden / 2**0.5))  # GELU
    tokens = tokens + _linear(layer.feed[2], hidden)
    written = torch.empty_like(maps)
    for b in range(batch):
        for j in range(joints):
            out = _linear(block.token_to_map, _layer_norm(block.norm_out, tokens[b, j]))
            gamma, amplitude, centre = out[:channels], out[channels : 2 * channels], torch.tanh(out[2 * channels :])
            bump = _bump(centre, height, width)
            for ch in range(channels):
                written[b, j, ch] = (1 + gamma[ch]) * maps[b, j, ch] + amplitude[ch] * bump
    largest = max(float(x.detach().abs().max()) for x in (maps, tokens, hidden, written))
    return written, tokens, largest


def _inputs(channels: int = 2, size: tuple[int, int] = (6, 5), dim: int = 16):
    torch.manual_seed(1)
    maps = torch.randn(2, 21, channels, *size, dtype=torch.float64, requires_grad=True)
    tokens = torch.randn(2, 21, dim, dtype=torch.float64, requires_grad=True)
    return maps, tokens


def _bound(largest: float) -> float:
    """Both ways chain seven stages whose widest sums have 60 terms (a map's 2 x 6 x 5 cells into a token; the
    32 hidden units of the feed-forward; 21 joints under attention), in different orders: each stage's
    rounding is at most its terms' count in ulps of the largest intermediate (Higham's bound with every term
    that large), carried through the later stages' unit-scale weights. 60 x 7 x 8 ulps covers it with room."""
    return ulps(largest, torch.float64, 60 * 7 * 8)


def test_block_equals_the_edge_by_edge_joint_by_joint_reference():
    block = _block()
    maps, tokens = _inputs()
    fast_maps, fast_tokens = block(maps, tokens, HOPS)
    slow_maps, slow_tokens, largest = reference_block(block, maps, tokens, HOPS)
    assert_close(fast_maps, slow_maps, _bound(largest))
    assert_close(fast_tokens, slow_tokens, _bound(largest))
    upstream = [torch.randn_like(fast_maps), torch.randn_like(fast_tokens)]
    inputs = [maps, tokens, *block.parameters()]
    fast_grads = torch.autograd.grad([fast_maps, fast_tokens], inputs, upstream)
    slow_grads = torch.autograd.grad([slow_maps, slow_tokens], inputs, upstream)
    for mine, theirs in zip(fast_grads, slow_grads, strict=True):
        # a weight's gradient adds up the 2 frames x 21 joints (x 30 cells for a kernel tap) of such chains
        assert_close(mine, theirs, 2 * 21 * 30 * _bound(max(largest, float(theirs.abs().max()))))


@pytest.mark.parametrize("part", ["graph.weight", "map_to_token.weight", "token_to_map.weight", "norm_in.weight"])
def test_the_bound_catches_one_weight_a_millionth_off(part):
    block = _block()
    maps, tokens = _inputs()
    wrong = copy.deepcopy(block)
    with torch.no_grad():
        wrong.get_parameter(part).view(-1)[7] *= 1 + 1e-6
    slow_maps, slow_tokens, largest = reference_block(block, maps, tokens, HOPS)
    wrong_maps, wrong_tokens = wrong(maps, tokens, HOPS)
    with pytest.raises(AssertionError):
        assert_close(torch.cat([wrong_maps.flatten(), wrong_tokens.flatten()]),
                     torch.cat([slow_maps.flatten(), slow_tokens.flatten()]), _bound(largest))  # fmt: skip


def test_maps_pass_only_along_bones_before_tokens_mix_them():
    """With the token side silenced (W_in and W_out zero), a change in one joint's map reaches only the joints
    one bone away: SIA-GCN's reach per block."""
    block = _block()
    with torch.no_grad():
        block.map_to_token.weight.zero_()
        block.token_to_map.weight.zero_()
    maps, tokens = _inputs()
    moved = maps.detach().clone()
    moved[:, 5] += 1.0  # index MCP
    changed = (block(moved, tokens, HOPS)[0] - block(maps, tokens, HOPS)[0]).abs().flatten(2).amax(dim=(0, 2))
    reached = set(torch.nonzero(changed > 0).flatten().tolist())
    assert reached == set(torch.nonzero(HOPS[5] <= 1).flatten().tolist())


def test_token_j_writes_into_map_j_only():
    """With the attention and feed-forward silenced (their output layers zero) tokens do not mix, and a change
    in one token changes its own joint's map and no other."""
    block = _block()
    with torch.no_grad():
        for last in (block.attention.attention.out, block.attention.feed[-1]):
            last.weight.zero_()
            last.bias.zero_()
    maps, tokens = _inputs()
    moved = tokens.detach().clone()
    moved[:, 9] += 1.0
    changed = (block(maps, moved, HOPS)[0] - block(maps, tokens, HOPS)[0]).abs().flatten(2).amax(dim=(0, 2))
    assert torch.nonzero(changed > 0).flatten().tolist() == [9]
