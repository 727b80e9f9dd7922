import numpy as np
from tolerance import assert_close

from handgraph.geometry.layouts import NYU14
from handgraph.geometry.numerics import summation_bound, ulps
from handgraph.geometry.skeleton import HAND, graph_edges
from handgraph.layers.encodings import branch_ids, chain_positions, hop_distances, laplacian_eigenvectors
from handgraph.layers.gcn import normalized_adjacency


def test_hop_distances_on_the_hand():
    hops = hop_distances(HAND)
    assert (hops == hops.T).all() and (np.diag(hops) == 0).all()
    assert hops[4, 20] == 8  # thumb tip to little tip through the wrist
    assert hops[0, 8] == 4 and hops[5, 9] == 2
    assert (hops[np.array(HAND.bones)[:, 0], np.array(HAND.bones)[:, 1]] == 1).all()


def test_laplacian_eigenvectors_are_orthonormal_eigenvectors():
    vectors = laplacian_eigenvectors(HAND, 8)
    # LAPACK's eigenvectors are orthonormal to a backward error of a modest multiple of n eps (n = 21) per
    # entry; the product sums 21 terms of |v| <= 1
    assert_close(vectors.T @ vectors, np.eye(8), ulps(1.0, np.float64, 64 * 21) + summation_bound(21, 1.0, np.float64))
    adjacency = (hop_distances(HAND) == 1).astype(float)
    scale = 1 / np.sqrt(adjacency.sum(1))
    laplacian = np.eye(21) - scale[:, None] * adjacency * scale[None]
    eigenvalues = np.diag(vectors.T @ laplacian @ vectors)  # Rayleigh quotients
    # L v = lambda v column by column, to the eigensolver's residual: a multiple of n eps ||L|| (||L|| <= 2)
    assert_close(laplacian @ vectors, vectors * eigenvalues, ulps(2.0, np.float64, 64 * 21))
    assert laplacian_eigenvectors(NYU14, 20).shape == (14, 20)  # padded when the graph is small


def test_kinematic_indices():
    assert chain_positions(HAND).tolist() == [0] + [1, 2, 3, 4] * 5
    assert branch_ids(HAND).tolist() == [0] + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4


def test_gcn_adjacency_is_symmetric_normalised():
    adjacency = normalized_adjacency(graph_edges(self_loops=False), 21).numpy()
    # d_i^-1/2 d_j^-1/2 computed on each side: the same float32 products, in the other order
    assert_close(adjacency, adjacency.T, ulps(1.0, np.float32, 2))
    assert_close(adjacency[0, 0], 1 / 6, ulps(1 / 6, np.float32, 2))  # the wrist: five fingers plus itself
