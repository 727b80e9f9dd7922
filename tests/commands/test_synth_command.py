import json

import pytest
from PIL import Image

from handgraph.cli import main


def test_synth_writes_a_dataset_and_a_preview(tmp_path, capsys):
    out, preview = tmp_path / "data", tmp_path / "grid.png"
    arguments = ["synth", "--out", str(out), "--count", "6", "--shard-size", "4", "--size", "48", "--workers", "1"]
    assert main([*arguments, "--preview", str(preview), "--preview-count", "4"]) == 0
    assert "wrote 6 frames (48x48, preset kinect)" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["complete"] and manifest["count"] == 6 and len(manifest["shards"]) == 2
    with Image.open(preview) as image:
        assert image.format == "PNG" and image.width > 400
    # the same command again finds everything done
    assert main(arguments) == 0


def test_full_frame_realsense(tmp_path):
    assert (
        main(
            [
                "synth",
                "--out",
                str(tmp_path / "d"),
                "--count",
                "1",
                "--full-frame",
                "--preset",
                "realsense",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    manifest = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert manifest["image_shape"] == [480, 640] and manifest["depth_unit_mm"] == 0.125


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--count", "0"], "--count must be positive"),
        (["--size", "-5"], "size must be an integer from 8 to 4096"),
        (["--preset", "kinect3"], "unknown preset 'kinect3'"),
        (["--seed", "-1"], "--seed must be a non-negative integer"),
        (["--size", "64", "--full-frame"], "not allowed with argument"),
    ],
)
def test_bad_arguments_get_one_line_errors(tmp_path, capsys, arguments, message):
    try:
        code = main(["synth", "--out", str(tmp_path / "d"), "--workers", "1", *arguments])
    except SystemExit as exit_info:
        code = exit_info.code
    assert code != 0
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
