"""Structural encodings of a hand skeleton for the graph transformer: hop distances, Laplacian eigenvectors,
finger and chain-position indices. All are fixed data of the skeleton, computed once."""

from __future__ import annotations

from collections import deque

import numpy as np

from handgraph.geometry.skeleton import JointLayout


def hop_distances(layout: JointLayout) -> np.ndarray:
    """(J, J) number of bones on the path between every two joints (breadth-first search on the tree)."""
    neighbours = [[] for _ in range(layout.num_joints)]
    for parent, child in layout.bones:
        neighbours[parent].append(child)
        neighbours[child].append(parent)
    distances = np.full((layout.num_joints, layout.num_joints), -1, dtype=np.int64)
    for start in range(layout.num_joints):
        distances[start, start] = 0
        queue = deque([start])
        while queue:
            joint = queue.popleft()
            for neighbour in neighbours[joint]:
                if distances[start, neighbour] < 0:
                    distances[start, neighbour] = distances[start, joint] + 1
                    queue.append(neighbour)
    return distances


def laplacian_eigenvectors(layout: JointLayout, dims: int) -> np.ndarray:
    """(J, dims) eigenvectors of the symmetric normalised Laplacian I - D^-1/2 A D^-1/2 with the smallest
    non-zero eigenvalues (Dwivedi & Bresson 2020); their sign is arbitrary, so training flips it at random."""
    adjacency = (hop_distances(layout) == 1).astype(np.float64)
    scale = 1.0 / np.sqrt(adjacency.sum(axis=1))
    laplacian = np.eye(layout.num_joints) - scale[:, None] * adjacency * scale[None, :]
    _, vectors = np.linalg.eigh(laplacian)
    chosen = vectors[:, 1 : dims + 1]
    return np.pad(chosen, ((0, 0), (0, dims - chosen.shape[1])))


def chain_positions(layout: JointLayout) -> np.ndarray:
    """(J,) bones between each joint and the root: 0 for the root, 4 for a canonical fingertip."""
    return hop_distances(layout)[layout.parents.index(-1)]


def branch_ids(layout: JointLayout) -> np.ndarray:
    """(J,) 0 for the root, otherwise 1 + the index of the root's child whose subtree holds the joint: the
    finger, for the canonical hand."""
    root = layout.parents.index(-1)
    branches = [child for parent, child in layout.bones if parent == root]
    ids = np.zeros(layout.num_joints, dtype=np.int64)
    for joint in range(layout.num_joints):
        walker = joint
        while walker != root and layout.parents[walker] != root:
            walker = layout.parents[walker]
        ids[joint] = 0 if walker == root else 1 + branches.index(walker)
    return ids
