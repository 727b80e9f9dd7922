import numpy as np
import pytest

from handgraph.layers.encodings import branch_ids, chain_positions, hop_distances, laplacian_eigenvectors
from handgraph.layers.gcn import normalized_adjacency
from handgraph.layouts import NYU14
from handgraph.skeleton import HAND, graph_edges


def test_hop_distances_on_the_hand():
    hops = hop_distances(HAND)
    assert (hops == hops.T).all() and (np.diag(hops) == 0).all()
    assert hops[4, 20] == 8  # thumb tip to little tip through the wrist
    assert hops[0, 8] == 4 and hops[5, 9] == 2
    assert (hops[np.array(HAND.bones)[:, 0], np.array(HAND.bones)[:, 1]] == 1).all()


def test_laplacian_eigenvectors_are_orthonormal_eigenvectors():
    vectors = laplacian_eigenvectors(HAND, 8)
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(8), atol=1e-10)
    adjacency = (hop_distances(HAND) == 1).astype(float)
    scale = 1 / np.sqrt(adjacency.sum(1))
    laplacian = np.eye(21) - scale[:, None] * adjacency * scale[None]
    ratios = (laplacian @ vectors) / np.where(np.abs(vectors) > 1e-9, vectors, np.nan)
    assert np.nanstd(ratios, axis=0).max() < 1e-6  # L v = lambda v column by column
    assert laplacian_eigenvectors(NYU14, 20).shape == (14, 20)  # padded when the graph is small


def test_kinematic_indices():
    assert chain_positions(HAND).tolist() == [0] + [1, 2, 3, 4] * 5
    assert branch_ids(HAND).tolist() == [0] + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4


def test_gcn_adjacency_is_symmetric_normalised():
    adjacency = normalized_adjacency(graph_edges(self_loops=False), 21).numpy()
    np.testing.assert_allclose(adjacency, adjacency.T)
    assert adjacency[0, 0] == pytest.approx(1 / 6)  # the wrist: five fingers plus itself
