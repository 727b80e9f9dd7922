import copy

import pytest
import torch
from tolerance import assert_close

from handgraph.geometry.numerics import ulps
from handgraph.geometry.skeleton import HAND, graph_edges
from handgraph.layers.encodings import hop_distances
from handgraph.layers.interleaved import InterleavedBlock
from handgraph.layers.sia_gcn import SIAGCNLayer
from handgraph.layers.sia_gcn_reference import loop_forward

HOPS = torch.tensor(hop_distances(HAND))


def _block(channels: int = 2, size: tuple[int, int] = (6, 5), dim: int = 16, heads: int = 2) -> InterleavedBlock:
    torch.manual_seed(0)
    graph = SIAGCNLayer(channels, graph_edges(), 21, 3, 1, True)
    block = InterleavedBlock(graph, size, dim, heads, int(HOPS.max())).double()
    with torch.no_grad():  # away from the initial values that hide terms: attention scores, hop biases, W_out
        torch.nn.init.normal_(block.graph.score.weight)
        torch.nn.init.normal_(block.attention.attention.hop_bias.weight)
        torch.nn.init.normal_(block.token_to_map.weight, std=0.1)
    return block


def _attention_by_pairs(attention, tokens: torch.Tensor, hops: torch.Tensor) -> torch.Tensor:
    """Hop-biased attention written pair by pair: for each head h and joint i, the softmax over joints k of
    q_i . k_k / sqrt(d) + b_h[hop(i, k)], and the weighted sum of the values."""
    q, k, v = attention.query(tokens), attention.key(tokens), attention.value(tokens)  # (B, J, D)
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
                    ]
                )
                weights = torch.softmax(logits, dim=0)
                mixed[b, i, part] = sum(weights[j] * v[b, j, part] for j in range(joints))
    return attention.out(mixed)


def reference_block(block: InterleavedBlock, maps: torch.Tensor, tokens: torch.Tensor, hops: torch.Tensor):
    """The block's four steps as its docstring writes them, edge by edge and joint by joint."""
    maps = maps + loop_forward(block.graph, maps)  # SIA-GCN, one small convolution per edge
    tokens = torch.stack(
        [tokens[:, j] + block.map_to_token(maps[:, j].reshape(maps.shape[0], -1)) for j in range(maps.shape[1])],
        dim=1,
    )
    layer = block.attention
    tokens = tokens + _attention_by_pairs(layer.attention, layer.norm_attention(tokens), hops)
    tokens = tokens + layer.feed(layer.norm_feed(tokens))
    written = [block.token_to_map(block.norm_out(tokens[:, j])).reshape(maps[:, j].shape) for j in range(maps.shape[1])]
    return maps + torch.stack(written, dim=1), tokens


def _inputs(channels: int = 2, size: tuple[int, int] = (6, 5), dim: int = 16):
    torch.manual_seed(1)
    maps = torch.randn(2, 21, channels, *size, dtype=torch.float64, requires_grad=True)
    tokens = torch.randn(2, 21, dim, dtype=torch.float64, requires_grad=True)
    return maps, tokens


# In float64 both ways chain seven stages whose widest sums have 60 terms (a token's 2 x 6 x 5 cells; the
# 32 hidden units of the feed-forward; 21 joints under attention), in different orders: a few hundred
# roundings, each within an ulp of intermediates that these unit-scale inputs keep below 100. 4096 ulps of
# 100 (9e-11) bounds that with room; a weight a millionth off moves outputs by about 1e-6.
BOUND = ulps(100.0, torch.float64, 4096)


def test_block_equals_the_edge_by_edge_joint_by_joint_reference():
    block = _block()
    maps, tokens = _inputs()
    fast_maps, fast_tokens = block(maps, tokens, HOPS)
    slow_maps, slow_tokens = reference_block(block, maps, tokens, HOPS)
    assert_close(fast_maps, slow_maps, BOUND)
    assert_close(fast_tokens, slow_tokens, BOUND)
    upstream = [torch.randn_like(fast_maps), torch.randn_like(fast_tokens)]
    inputs = [maps, tokens, *block.parameters()]
    fast_grads = torch.autograd.grad([fast_maps, fast_tokens], inputs, upstream)
    slow_grads = torch.autograd.grad([slow_maps, slow_tokens], inputs, upstream)
    for mine, theirs in zip(fast_grads, slow_grads, strict=True):
        # a weight's gradient adds the 2 frames x 21 joints' terms of the product above: 42 times the sums
        assert_close(mine, theirs, ulps(100.0 * max(1.0, float(theirs.abs().max())), torch.float64, 42 * 4096))


@pytest.mark.parametrize("part", ["graph.weight", "map_to_token.weight", "token_to_map.weight"])
def test_the_bound_catches_one_weight_a_millionth_off(part):
    block = _block()
    maps, tokens = _inputs()
    wrong = copy.deepcopy(block)
    with torch.no_grad():
        wrong.get_parameter(part).view(-1)[7] *= 1 + 1e-6
    slow_maps, _ = reference_block(block, maps, tokens, HOPS)
    with pytest.raises(AssertionError):
        assert_close(wrong(maps, tokens, HOPS)[0], slow_maps, BOUND)


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
