"""Fitting predictions made on depth frames: refinement against each frame's depth, and a mesh per frame."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from handgraph.fitting.agreement import DepthAgreement, depth_agreement
from handgraph.fitting.mesh import hand_mesh, write_mesh
from handgraph.fitting.refine import depth_view, refine_against_depth
from handgraph.fitting.result import HandFits
from handgraph.fitting.targets import canonical_targets
from handgraph.geometry.camera import Intrinsics

REFINE_BATCH = 16


@dataclass
class FrameCrop:
    """Where a hand was predicted: the frame's depth (mm), its camera, and the crop's centre and cube."""

    depth_mm: np.ndarray
    camera: Intrinsics
    centre_xyz: np.ndarray
    cube_mm: float


def refine_fits(fits: HandFits, crop_of: Callable[[int], FrameCrop], progress: bool = True) -> HandFits:
    """Every fitted hand moved against its frame's depth (``refine``), in batches; the joints it was fitted to
    are the prior. ``crop_of(k)`` gives hand k's frame, read only when its batch comes. The result carries how
    well each refined hand explains its depth (``agreement``: its surface rendered over the crop the refinement
    saw, against the observed depth)."""
    net_joints, net_weights = canonical_targets(fits.joints, fits.layout)
    count, refined, agreements = len(fits.x), [], []
    batches = range(0, count, REFINE_BATCH)
    for start in tqdm(batches, desc="refining against the depth", unit="batch", disable=not progress):
        chunk = slice(start, min(start + REFINE_BATCH, count))
        views = []
        for k in range(chunk.start, chunk.stop):
            crop = crop_of(k)
            views.append(
                depth_view(crop.depth_mm, crop.camera, crop.centre_xyz, crop.cube_mm, fits.x[k], bool(fits.mirrored[k]))
            )
        x = refine_against_depth(views, fits.x[chunk], fits.mirrored[chunk], net_joints[chunk], net_weights[chunk])
        refined.append(x)
        agreements.append(depth_agreement(views, x, fits.mirrored[chunk]))
    agreement = DepthAgreement.joined(agreements) if agreements else None
    return replace(fits, x=torch.cat(refined), refined=np.ones(count, dtype=bool), agreement=agreement)


def write_meshes(fits: HandFits, paths: list[str | os.PathLike | None], progress: bool = True) -> list[str | None]:
    """One mesh file per hand (None in ``paths`` skips that hand). Returns the paths written, as strings."""
    written = []
    for index, path in enumerate(tqdm(paths, desc="meshes", unit="hand", disable=not progress)):
        if path is None:
            written.append(None)
            continue
        write_mesh(path, hand_mesh(fits.x[index], bool(fits.mirrored[index])))
        written.append(str(Path(path)))
    return written
