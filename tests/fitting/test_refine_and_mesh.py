import numpy as np
import pytest
import torch
import trimesh
from fit_hands import random_hands

from handgraph.errors import HandgraphError
from handgraph.fitting import hand_model, refine
from handgraph.fitting.mesh import hand_mesh, write_mesh
from handgraph.fitting.surface_model import fitted_cones
from handgraph.geometry.camera import camera_preset
from handgraph.synth.raycast import render_depth
from handgraph.synth.surface import RoundCones, round_cone_distance


def _facing_hands(count: int, seed: int) -> torch.Tensor:
    """Hands 450 mm in front of an SR305, palm towards the camera, fingers up, half bent at most."""
    x = random_hands(count, seed=seed, limit_fraction=0.4)
    generator = torch.Generator().manual_seed(seed)
    x[:, :3] = torch.tensor([np.pi, 0.0, 0.0]) + 0.3 * torch.randn(count, 3, generator=generator, dtype=torch.float64)
    x[:, 3:6] = torch.tensor([0.0, 60.0, 450.0])
    return x


def test_refinement_against_a_rendered_frame_moves_a_perturbed_hand_towards_the_truth():
    camera = camera_preset("sr305")
    truth = _facing_hands(6, seed=11)
    mirrored = torch.zeros(6, dtype=torch.float64)
    cones = RoundCones.from_batched(*(part.numpy() for part in fitted_cones(truth, mirrored)))
    intrinsics = np.tile([camera.fx, camera.fy, camera.cx, camera.cy], (6, 1))
    depth = render_depth(cones, intrinsics, camera.height, camera.width)
    generator = torch.Generator().manual_seed(0)
    start = truth.clone()
    start[:, 6:26] += 0.2 * torch.randn(6, 20, generator=generator, dtype=torch.float64)
    start[:, 3:6] += 8 * torch.randn(6, 3, generator=generator, dtype=torch.float64)
    low, high = hand_model.parameter_bounds()
    start = torch.clamp(start, low, high)
    joints = hand_model.joints_of(truth, mirrored)
    network = hand_model.joints_of(start, mirrored)  # the prior: as wrong as the start
    views = [refine.depth_view(depth[k], camera, joints[k].mean(0).numpy(), 250.0, start[k], False) for k in range(6)]
    refined = refine.refine_against_depth(views, start, mirrored, network, torch.ones(6, 21, dtype=torch.float64))
    before = (network - joints).norm(dim=-1).mean(dim=1)
    after = (hand_model.joints_of(refined, mirrored) - joints).norm(dim=-1).mean(dim=1)
    assert (after < before).all(), (before, after)
    assert after.mean() < 0.6 * before.mean()


def test_the_mesh_is_closed_and_holds_the_cones_volume(tmp_path):
    x = random_hands(1, seed=12, limit_fraction=0.5)[0]
    mesh = hand_mesh(x, left=False)
    assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
    cones = tuple(part[0] for part in fitted_cones(x[None], torch.zeros(1, dtype=torch.float64)))
    low, high = mesh.bounds - 3, mesh.bounds + 3
    low, high = low[0], high[1]
    points = np.random.default_rng(0).uniform(low, high, size=(400_000, 3))
    inside = (round_cone_distance(torch.as_tensor(points), *cones).amin(-1) < 0).numpy().mean()
    sampled = inside * np.prod(high - low)  # Monte Carlo volume of the union, about 0.3 % standard error
    assert abs(mesh.volume - sampled) / sampled < 0.03
    for kind in ("ply", "obj", "glb"):
        path = tmp_path / f"hand.{kind}"
        write_mesh(path, mesh)
        loaded = trimesh.load(path, force="mesh")
        # not arithmetic: the files store vertices in float32 (PLY, GLB) or as text (OBJ), and the volume of a
        # closed mesh moves with them; 0.1 % is the format check, a missing or flipped face breaks watertightness
        assert loaded.is_watertight and abs(loaded.volume - mesh.volume) < 1e-3 * mesh.volume
    with pytest.raises(HandgraphError, match=r"hand.stl: cannot write a mesh as 'stl'; expected a .ply, .obj or .glb"):
        write_mesh(tmp_path / "hand.stl", mesh)
    assert not (tmp_path / "hand.stl").exists()
