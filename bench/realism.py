"""Real frames beside synthetic frames of the same camera: what the localiser and the pose model see.

Rows of docs/figures/real_vs_synthetic.png: the real frames on the localiser's canvas (the RealSense SR305
sequence and the NYU frame), synthetic scenes of the same sensors on that canvas (people facing the camera,
the first two of seed 21 whose hand is in view, and a wearer's hands holding things), then the pose model's
128 x 128 crops, real (around the localiser's centre) and synthetic (``synth.generator`` with the same
sensor preset and distance, and an SR305 egocentric hand holding an object, 300-700 mm away). Printed and
written to bench/results/realism.json, per source, over the hand's pixels in the crops (within 120 mm of the
crop centre's depth): the share of holes in and at the edge of the hand, and the roughness (median absolute
second difference along rows, mm: noise, not the surface's tilt).

    .venv/bin/python bench/realism.py [--quick]
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from _common import ROOT, arguments, print_table, write_result  # noqa: E402

from handgraph.geometry.camera import camera_preset  # noqa: E402
from handgraph.inference.localizing import Localizer  # noqa: E402
from handgraph.io.depth_images import depth_files, read_depth  # noqa: E402
from handgraph.io.files import atomic_writer  # noqa: E402
from handgraph.io.overlay import depth_display  # noqa: E402
from handgraph.preprocess.crop import crop_depth, intrinsics_tensor, make_crops  # noqa: E402
from handgraph.synth.generator import SynthConfig, generate_frames  # noqa: E402
from handgraph.synth.scenes import SceneConfig, generate_scenes  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "real"
CUBE_MM, SIZE, HAND_BAND_MM = 250.0, 128, 120.0


def real_crops(localizer: Localizer, frames: list[tuple[np.ndarray, object]]) -> list[tuple[np.ndarray, float]]:
    """(128 x 128 crop in mm of a 250 mm cube around the localiser's centre, the centre's depth) per frame."""
    crops = []
    for depth, camera in frames:
        detection = localizer(depth, camera)
        if not detection.found:
            raise SystemExit("the localiser found no hand on a real frame; see bench/localizer.py")
        centre = detection.centre_xyz
        intrinsics = intrinsics_tensor(camera)
        crop = make_crops(intrinsics, torch.tensor(centre[None], dtype=torch.float32), CUBE_MM, SIZE)
        pixels = crop_depth(torch.tensor(depth[None], dtype=torch.float32), intrinsics, crop, SIZE)[0, 0].numpy()
        crops.append((pixels, float(centre[2])))
    return crops


def hand_statistics(crops: list[tuple[np.ndarray, float]]) -> dict:
    """Over the hand (pixels within ``HAND_BAND_MM`` of the crop centre's depth): the share of holes among hand
    and hole pixels, a hole being a missing pixel at least half of whose 5 x 5 neighbours are hand pixels; and
    the roughness, the median absolute second difference of depth along rows of hand pixels (a plane has
    none, whatever its tilt; sensor noise of deviation s gives about 1.65 s)."""
    from scipy import ndimage

    missing, roughness = [], []
    for pixels, centre_z in crops:
        hand = np.abs(pixels - centre_z) < HAND_BAND_MM
        holes = (pixels == 0) & (ndimage.uniform_filter(hand.astype(float), size=5) >= 0.5)
        missing.append(holes.sum() / max(1, holes.sum() + hand.sum()))
        triples = hand[:, 2:] & hand[:, 1:-1] & hand[:, :-2]
        roughness.append(np.median(np.abs(np.diff(pixels, n=2, axis=1))[triples]))
    return {"missing_share": float(np.mean(missing)), "roughness_mm": float(np.median(roughness))}


def synthetic_crops(preset: str, distance: tuple[float, float], count: int, **family) -> list[tuple[np.ndarray, float]]:
    """Crops of ``preset``'s synthetic hands ``distance`` mm away; ``family``: SynthConfig's family fractions."""
    config = SynthConfig(preset=preset, distance_mm=distance, left_fraction=0.0, **family)
    frames = generate_frames(config, 11, np.arange(count))
    unit = config.sensor.depth_unit_mm
    return [
        (depth * unit, float(centre[2])) for depth, centre in zip(frames["depth"], frames["centre_xyz"], strict=True)
    ]


def main() -> None:
    args = arguments(__doc__).parse_args()
    localizer = Localizer()
    sr305 = [
        (read_depth(path, 0.125), camera_preset("sr305")) for path in depth_files(SHARED / "sr305/20210326-231615")
    ]
    nyu = [(read_depth(SHARED / "nyu/depth_1_0000001.png"), camera_preset("nyu"))]
    count = 16 if args.quick else 100
    sources = {
        "real SR305 (11 frames)": real_crops(localizer, sr305),
        "synthetic sr305": synthetic_crops("sr305", (500.0, 700.0), count),
        "real NYU (1 frame)": real_crops(localizer, nyu),
        "synthetic kinect": synthetic_crops("kinect", (650.0, 850.0), count),
        "synthetic sr305, egocentric, holding": synthetic_crops(
            "sr305", (300.0, 700.0), count, egocentric_fraction=1.0, object_fraction=1.0
        ),
    }
    statistics = {name: hand_statistics(crops) for name, crops in sources.items()}
    print_table(
        ["source", "missing share", "roughness mm"],
        [[name, f"{s['missing_share']:.3f}", f"{s['roughness_mm']:.2f}"] for name, s in statistics.items()],
    )
    scenes = {
        name: generate_scenes(SceneConfig(sensors=(name,), hand_fraction=1.0, facing_fraction=1.0), 21, range(16))
        for name in ("sr305", "kinect")
    }
    scenes["egocentric"] = generate_scenes(
        SceneConfig(sensors=("sr305",), hand_fraction=1.0, egocentric_fraction=1.0, object_fraction=1.0), 21, range(16)
    )
    for frames in scenes.values():  # show the first two whose hand is in view
        frames["depth"] = frames["depth"][frames["hand_present"].any(axis=1)]
    figure, axes = plt.subplots(3, 4, figsize=(16, 11))
    panels = [
        (localizer.canvas_of(*sr305[0]), "real SR305 frame 0 (canvas)"),
        (localizer.canvas_of(*sr305[6]), "real SR305 frame 120 (canvas)"),
        (localizer.canvas_of(*nyu[0]), "real NYU frame (canvas)"),
        (scenes["egocentric"]["depth"][0], "synthetic sr305 egocentric, holding (canvas)"),
        (scenes["sr305"]["depth"][0], "synthetic sr305 scene (canvas)"),
        (scenes["sr305"]["depth"][1], "synthetic sr305 scene (canvas)"),
        (scenes["kinect"]["depth"][0], "synthetic kinect scene (canvas)"),
        (scenes["kinect"]["depth"][1], "synthetic kinect scene (canvas)"),
        (sources["real SR305 (11 frames)"][0][0], "real SR305 frame 0 (pose crop)"),
        (sources["synthetic sr305"][0][0], "synthetic sr305 (pose crop)"),
        (sources["real NYU (1 frame)"][0][0], "real NYU frame (pose crop)"),
        (sources["synthetic kinect"][0][0], "synthetic kinect (pose crop)"),
    ]
    for axes_k, panel in zip(axes.ravel(), panels, strict=True):
        axes_k.set_xticks([])
        axes_k.set_yticks([])
        if panel is None:  # an empty slot
            axes_k.set_axis_off()
            continue
        image, title = panel
        valid = image[image > 0]
        near = np.percentile(valid, 1) if valid.size else 0.0
        axes_k.imshow(depth_display(image, near - 20, near + 600), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes_k.set_facecolor("black")
        axes_k.set_title(title, fontsize=10)
    figure.tight_layout()
    folder = (ROOT / "bench/results/quick/figures") if args.quick else (ROOT / "docs/figures")
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_writer(folder / "real_vs_synthetic.png", binary=True) as handle:
        figure.savefig(handle, format="png", dpi=60)
    plt.close(figure)
    write_result(
        "realism", args.quick, {"synthetic_frames": count, "hand_band_mm": HAND_BAND_MM}, {"hands": statistics}
    )


if __name__ == "__main__":
    main()
