import numpy as np
import torch
from tolerance import assert_close

from handgraph.geometry.alignment import procrustes_aligned, similarity_transform
from handgraph.geometry.numerics import ulps
from handgraph.geometry.rotations import axis_angle_to_matrix


def _moved(points, rotation, scale, translation):
    return scale * points @ rotation.T + translation


def test_a_known_similarity_is_recovered_and_a_reflection_never_is():
    rng = np.random.default_rng(0)
    points = rng.normal(0.0, 60.0, (4, 21, 3))
    rotations = np.stack([axis_angle_to_matrix(rng.normal(0.0, 1.5, 3)) for _ in range(4)])
    scales, translations = rng.uniform(0.7, 1.4, 4), rng.normal(0.0, 300.0, (4, 3))
    moved = np.stack([_moved(points[k], rotations[k], scales[k], translations[k]) for k in range(4)])
    rotation, scale, translation = similarity_transform(points, moved)
    # an exact fit recovered through one 3 x 3 SVD in float64: the covariance sums 21 products of coordinates
    # up to 500 mm, and the SVD's iterations lose some thousand ulps of the unit-size rotation and scale
    assert_close(rotation, rotations, ulps(1.0, np.float64, 4096))
    assert_close(scale, scales, ulps(1.0, np.float64, 4096))
    assert_close(translation, translations, ulps(500.0, np.float64, 4096))
    mirrored = points * [-1.0, 1.0, 1.0]
    reflected, *_ = similarity_transform(points, mirrored)
    assert np.allclose(np.linalg.det(reflected), 1.0)  # a rotation, not the mirror that would fit exactly


def test_procrustes_alignment_forgives_place_turn_and_size_only():
    rng = np.random.default_rng(1)
    truth = rng.normal(0.0, 50.0, (3, 21, 3))
    noise = rng.normal(0.0, 5.0, truth.shape)
    wrong = _moved(truth + noise, axis_angle_to_matrix(np.array([0.3, -1.0, 0.2])), 1.2, np.array([40.0, 0, 9.0]))
    aligned = procrustes_aligned(wrong, truth)
    error = np.linalg.norm(aligned - truth, axis=-1).mean()
    assert error < np.linalg.norm(noise, axis=-1).mean()  # the best fit is no worse than undoing the move
    assert np.linalg.norm(wrong - truth, axis=-1).mean() > 10 * error
    on_tensors = procrustes_aligned(torch.as_tensor(wrong), torch.as_tensor(truth)).numpy()
    # the same float64 formula in torch and NumPy: their SVD and products may round apart by ulps of 300 mm
    assert_close(on_tensors, aligned, ulps(300.0, np.float64, 1024))
