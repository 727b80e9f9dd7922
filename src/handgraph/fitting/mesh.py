"""A closed triangle mesh of a fitted hand: marching cubes over the distance field of its round cones.

The distance to the union of the cones is closed form (``surface_model``), sampled on a grid with one empty
cell of margin on every side, so its zero level set is a closed surface; scikit-image's marching cubes
(Lewiner et al. 2003) triangulates it and trimesh writes it as PLY, OBJ or GLB.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import trimesh
from skimage import measure

from handgraph.errors import HandgraphError
from handgraph.fitting.surface_model import fitted_cones
from handgraph.io.files import atomic_writer
from handgraph.synth.surface import round_cone_distance

MESH_FORMATS = ("ply", "obj", "glb")
DEFAULT_SPACING_MM = 2.0


def cone_distance_field(cones: tuple[torch.Tensor, ...], spacing_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """The union's distance on a grid around it, truncated at a few cells: (X, Y, Z) mm and the origin (3,) mm.

    cones: one hand's (K, 3) starts and ends and (K,) radii, as ``fitted_cones`` gives them for one frame. Each
    cone is evaluated only in its own box grown by the truncation, which is where the union can be nearer
    than the truncation; everywhere else the field holds the truncation, positive: outside.
    """
    start, end, start_radius, end_radius = cones
    reach = 3 * spacing_mm
    low = torch.minimum(start - start_radius[:, None], end - end_radius[:, None]) - reach  # (K, 3)
    high = torch.maximum(start + start_radius[:, None], end + end_radius[:, None]) + reach
    origin = low.min(0).values - spacing_mm
    shape = tuple(int(n) for n in torch.ceil((high.max(0).values + spacing_mm - origin) / spacing_mm) + 1)
    field = torch.full(shape, reach, dtype=start.dtype)
    for cone in range(len(start)):
        first = torch.floor((low[cone] - origin) / spacing_mm).long().tolist()
        last = torch.ceil((high[cone] - origin) / spacing_mm).long().tolist()
        axes = [origin[k] + spacing_mm * torch.arange(first[k], last[k] + 1, dtype=start.dtype) for k in range(3)]
        points = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
        pieces = (part[cone : cone + 1] for part in cones)
        distance = round_cone_distance(points.reshape(-1, 3), *pieces).reshape(points.shape[:3])
        box = field[first[0] : last[0] + 1, first[1] : last[1] + 1, first[2] : last[2] + 1]
        torch.minimum(box, distance, out=box)
    return field.numpy(), origin.numpy()


def hand_mesh(x: torch.Tensor, left: bool, spacing_mm: float = DEFAULT_SPACING_MM) -> trimesh.Trimesh:
    """The closed surface of one fitted hand x (42,), camera frame, mm; faces wound outwards."""
    cones = tuple(part[0] for part in fitted_cones(x[None], torch.tensor([float(left)], dtype=x.dtype)))
    distance, origin = cone_distance_field(cones, spacing_mm)
    distance[np.abs(distance) < 1e-3] = 1e-3  # a vertex exactly on a grid point would be shared by several cubes' edges
    vertices, faces, _, _ = measure.marching_cubes(distance, level=0.0, spacing=(spacing_mm,) * 3)
    mesh = trimesh.Trimesh(vertices=vertices + origin, faces=faces, process=False)  # already shares vertices
    if mesh.volume < 0:  # marching cubes winds by the field's gradient: make the normals point outwards
        mesh.invert()
    return mesh


def write_mesh(path: str | os.PathLike, mesh: trimesh.Trimesh) -> None:
    """Write a mesh as PLY, OBJ or GLB by the file's suffix, atomically."""
    kind = Path(path).suffix.lower().lstrip(".")
    if kind not in MESH_FORMATS:
        raise HandgraphError(f"{path}: cannot write a mesh as {kind!r}; expected a .ply, .obj or .glb file")
    data = mesh.export(file_type=kind)
    with atomic_writer(path, binary=True) as handle:
        handle.write(data if isinstance(data, bytes) else data.encode())
