import itertools
import json

import numpy as np
import pytest
import torch

from handgraph.errors import HandgraphError
from handgraph.synth import shards
from handgraph.synth.datasets import SynthShardDataset, SynthStream
from handgraph.synth.generator import SynthConfig, generate_frames
from handgraph.synth.shards import ShardedFrames, read_manifest, write_dataset
from handgraph.synth.splits import SPLITS, benchmark_split, check_training_seed

CONFIG = SynthConfig(size=32)


def test_write_and_read_back(tmp_path):
    manifest = write_dataset(tmp_path / "d", CONFIG, seed=3, count=10, shard_size=4, workers=1, progress=False)
    assert manifest["complete"] and [entry["count"] for entry in manifest["shards"]] == [4, 4, 2]
    assert SynthConfig.from_dict(read_manifest(tmp_path / "d")["config"]) == CONFIG
    frames = ShardedFrames(tmp_path / "d")
    expected = generate_frames(CONFIG, 3, range(10))
    assert len(frames) == 10
    for index in (0, 5, 9):
        for key, value in frames.frame(index).items():
            np.testing.assert_array_equal(value, expected[key][index], err_msg=key)


def test_worker_processes_write_the_same_bytes(tmp_path):
    one = write_dataset(tmp_path / "one", CONFIG, seed=4, count=12, shard_size=3, workers=1, progress=False)
    two = write_dataset(tmp_path / "two", CONFIG, seed=4, count=12, shard_size=3, workers=2, progress=False)
    assert [entry["sha256"] for entry in one["shards"]] == [entry["sha256"] for entry in two["shards"]]


def test_an_interrupted_run_leaves_nothing_a_reader_accepts_and_resumes(tmp_path, monkeypatch):
    folder = tmp_path / "d"
    real = shards.generate_frames

    def interrupt_third_shard(config, seed, indices):
        if indices[0] >= 8:
            raise KeyboardInterrupt
        return real(config, seed, indices)

    monkeypatch.setattr(shards, "generate_frames", interrupt_third_shard)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(folder, CONFIG, seed=5, count=12, shard_size=4, workers=1, progress=False)
    manifest = read_manifest(folder)
    assert not manifest["complete"] and len(manifest["shards"]) == 2
    with pytest.raises(
        HandgraphError, match=r"incomplete; run the same command \(handgraph synth, or handgraph data cache\) again"
    ):
        ShardedFrames(folder)
    # a half-written file from a killed writer never carries a shard's name
    assert sorted(path.name for path in folder.iterdir()) == ["manifest.json", "shard_00000.npz", "shard_00001.npz"]

    monkeypatch.setattr(shards, "generate_frames", real)
    resumed = write_dataset(folder, CONFIG, seed=5, count=12, shard_size=4, workers=1, progress=False)
    straight = write_dataset(tmp_path / "straight", CONFIG, seed=5, count=12, shard_size=4, workers=1, progress=False)
    assert resumed["complete"] and resumed["shards"] == straight["shards"]
    assert len(ShardedFrames(folder)) == 12


def test_a_damaged_shard_is_refused_and_rewritten(tmp_path):
    folder = tmp_path / "d"
    write_dataset(folder, CONFIG, seed=6, count=6, shard_size=3, workers=1, progress=False)
    shard = folder / "shard_00001.npz"
    shard.write_bytes(shard.read_bytes()[:1000])  # as if a non-atomic copy had been cut short
    with pytest.raises(HandgraphError, match="shard_00001.npz: missing or does not match its checksum"):
        ShardedFrames(folder)
    write_dataset(folder, CONFIG, seed=6, count=6, shard_size=3, workers=1, progress=False)
    assert len(ShardedFrames(folder)) == 6


def test_refuses_to_mix_or_overwrite(tmp_path):
    write_dataset(tmp_path / "d", CONFIG, seed=1, count=3, shard_size=3, workers=1, progress=False)
    with pytest.raises(HandgraphError, match="has seed 1, not 2; resume with the same settings"):
        write_dataset(tmp_path / "d", CONFIG, seed=2, count=3, shard_size=3, workers=1, progress=False)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(HandgraphError, match="not empty and holds no manifest.json"):
        write_dataset(tmp_path / "other", CONFIG, seed=1, count=3, workers=1, progress=False)
    for count, shard_size, message in ((0, 3, "--count must be positive"), (3, 0, "--shard-size must be positive")):
        with pytest.raises(HandgraphError, match=message):
            write_dataset(tmp_path / "new", CONFIG, seed=1, count=count, shard_size=shard_size, progress=False)


def test_broken_manifests(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(HandgraphError, match="manifest.json: not valid JSON"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "handgraph-synth", "version": 1}))
    with pytest.raises(HandgraphError, match="missing field"):
        read_manifest(tmp_path)
    with pytest.raises(HandgraphError, match="not a handgraph synthetic dataset"):
        read_manifest(tmp_path / "nowhere")


def test_torch_dataset_over_shards(tmp_path):
    write_dataset(tmp_path / "d", CONFIG, seed=7, count=5, shard_size=5, workers=1, progress=False)
    dataset = SynthShardDataset(tmp_path / "d")
    item = dataset[2]
    expected = generate_frames(CONFIG, 7, [2])
    assert item["depth"].shape == (1, 32, 32) and item["depth"].dtype == torch.float32
    # uint16 depths are whole numbers below 2^24, exact in float32; xyz is float32 on both sides: bitwise
    np.testing.assert_array_equal(item["depth"][0].numpy(), expected["depth"][0])
    assert torch.equal(item["xyz"], torch.from_numpy(expected["xyz"][0]))


def test_stream_batches_are_the_same_with_any_number_of_workers():
    stream = SynthStream(CONFIG, seed=8, batch_size=4, count=14)
    single = list(torch.utils.data.DataLoader(stream, batch_size=None, num_workers=0))
    double = list(torch.utils.data.DataLoader(stream, batch_size=None, num_workers=2))
    assert [len(batch["index"]) for batch in single] == [4, 4, 4, 2]
    assert len(single) == len(double)
    for mine, theirs in zip(single, double, strict=True):
        for key in mine:
            assert torch.equal(mine[key], theirs[key]), key
    assert single[0]["depth"].shape == (4, 1, 32, 32)


def test_benchmark_splits_are_fixed_and_kept_out_of_training():
    assert benchmark_split("test").seed != benchmark_split("validation").seed
    assert {split.count for split in SPLITS.values()} == {1000, 2000, 500}  # the families' test splits: 500
    with pytest.raises(HandgraphError, match="is the test split's"):
        check_training_seed(benchmark_split("test").seed)
    check_training_seed(0)
    with pytest.raises(HandgraphError, match="unknown synthetic split"):
        benchmark_split("train")


def test_shard_stream_reads_every_frame_once_an_epoch_and_resumes_exactly(tmp_path):
    from handgraph.synth.datasets import ShardStream

    write_dataset(tmp_path / "d", CONFIG, seed=5, count=10, shard_size=4, workers=1, progress=False)
    stream = ShardStream(tmp_path / "d", seed=1, batch_size=5)
    batches = list(itertools.islice(iter(stream), 4))  # two epochs of 10 frames
    for epoch in (0, 1):
        seen = np.concatenate([batch["index"].numpy() for batch in batches[2 * epoch : 2 * epoch + 2]])
        assert sorted(seen.tolist()) == list(range(10))
    shard_of = stream.order(0) // 4  # read shard by shard: three shards, three runs
    assert np.count_nonzero(np.diff(shard_of)) == 2
    resumed = next(iter(ShardStream(tmp_path / "d", seed=1, batch_size=5, start_batch=3)))
    for key, value in batches[3].items():  # the same frames read from the same shards: bitwise
        assert torch.equal(resumed[key], value), key


def test_results_of_different_benchmark_versions_are_not_compared():
    from handgraph.synth.splits import BENCHMARK_VERSION, SPLITS, same_benchmark_version

    assert same_benchmark_version({"hgt_seed0.json": 2, "regress_seed0.json": 2}) == 2 == SPLITS["test"].version
    assert max(split.version for split in SPLITS.values()) == BENCHMARK_VERSION == SPLITS["test-egocentric"].version
    assert same_benchmark_version({"old.json": None}) is None  # results from before the version was recorded
    with pytest.raises(HandgraphError, match="cannot be compared") as refused:
        same_benchmark_version({"new.json": 2, "old.json": None})
    assert "old.json: not recorded" in str(refused.value) and "new.json: 2" in str(refused.value)
