from pathlib import Path

import pytest
import torch

from resnet_core.data.datasets import (
    DEBIAN_FASHION_DIR,
    TRAINING_SET_SIZE,
    DatasetUnavailable,
    DeviceBatches,
    MNISTDataLoader,
    load_split,
    resolve_data_dir,
    stratified_indices,
)
from tests.conftest import IN_CI, TEST_DEVICE


def test_full_splits_have_mnist_shapes(data_dir):
    train_x, train_y = load_split("mnist", train=True, data_dir=data_dir, download=False)
    test_x, test_y = load_split("mnist", train=False, data_dir=data_dir, download=False)
    assert train_x.shape == (60_000, 28, 28) and train_x.dtype == torch.uint8
    assert len(train_y) == TRAINING_SET_SIZE  # what the app's sentences count
    assert test_x.shape == (10_000, 28, 28) and test_y.shape == (10_000,)
    assert train_y.bincount().tolist()[:3] == [5923, 6742, 5958]
    # The well-known normalisation constants come from these very pixels.
    pixels = train_x.float() / 255
    assert pixels.mean().item() == pytest.approx(0.1307, abs=1e-4)
    assert pixels.std().item() == pytest.approx(0.3081, abs=1e-4)


def test_data_dir_comes_from_argument_then_environment(monkeypatch, tmp_path, data_dir):
    monkeypatch.setenv("RESNET_DATA_DIR", str(tmp_path))
    assert resolve_data_dir() == tmp_path
    assert resolve_data_dir(data_dir) == data_dir
    # Pointing at MNIST/raw or MNIST works as well as at the root.
    assert resolve_data_dir(data_dir / "MNIST" / "raw") == data_dir
    assert resolve_data_dir(data_dir / "MNIST") == data_dir


def test_missing_data_names_folder_files_and_remedy(tmp_path):
    with pytest.raises(DatasetUnavailable) as info:
        load_split("mnist", train=True, data_dir=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "t10k-labels-idx1-ubyte" in message
    assert "RESNET_DATA_DIR" in message


def test_with_nothing_configured_the_data_is_looked_for_in_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("RESNET_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert resolve_data_dir() == tmp_path / "resnet-explorer" / "data"
    with pytest.raises(DatasetUnavailable) as info:
        load_split("mnist", train=False, download=False)
    message = str(info.value)
    assert str(tmp_path / "resnet-explorer" / "data" / "MNIST" / "raw") in message
    assert "set RESNET_DATA_DIR (or pass data_dir" in message


def test_stratified_subset_keeps_class_shares_and_is_reproducible(mnist_test):
    _, labels = mnist_test
    idx = stratified_indices(labels, 1000, seed=3)
    assert idx.numel() == 1000 and idx.unique().numel() == 1000
    shares = labels[idx].bincount(minlength=10).float() / 1000
    expected = labels.bincount(minlength=10).float() / labels.numel()
    assert (shares - expected).abs().max() <= 0.0011
    assert torch.equal(idx, stratified_indices(labels, 1000, seed=3))
    assert not torch.equal(idx, stratified_indices(labels, 1000, seed=4))
    with pytest.raises(ValueError, match="between 1 and 10000"):
        stratified_indices(labels, 0)


def test_loader_yields_normalised_batches_covering_each_sample_once(data_dir):
    train, test = MNISTDataLoader(
        batch_size=128, data_dir=data_dir, device=TEST_DEVICE, train_subset=1000, test_subset=500, augment=False
    ).get_data_loaders()
    assert len(train) == 8 and len(test) == 1
    batches = list(train)
    x, y = batches[0]
    assert x.shape == (128, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert batches[-1][0].shape[0] == 1000 - 7 * 128
    every = torch.cat([b[0] for b in batches])
    assert every.mean().abs() < 0.1 and (every.std() - 1).abs() < 0.1
    # Shuffled: a new order each epoch, each image exactly once.
    first = torch.cat([b[1] for b in batches])
    second = torch.cat([b[1] for b in train])
    assert not torch.equal(first, second)
    assert torch.equal(first.sort().values, second.sort().values)
    assert torch.equal(next(iter(test))[1], next(iter(test))[1])  # the test order is fixed


def test_augmented_batches_differ_between_epochs(data_dir):
    images, labels = load_split("mnist", train=False, data_dir=data_dir, download=False)
    loader = DeviceBatches(images[:64], labels[:64], 64, shuffle=False, augment=True, device=TEST_DEVICE)
    first, second = next(iter(loader))[0], next(iter(loader))[0]
    assert not torch.allclose(first, second)
    plain = DeviceBatches(images[:64], labels[:64], 64, shuffle=False, augment=False, device=TEST_DEVICE)
    assert (next(iter(plain))[0] - first).abs().mean() > 0.05


def test_shards_split_an_epoch_into_equal_shares(mnist_test):
    images, _ = mnist_test
    ids = torch.arange(1003)  # stand in for labels, to see which sample went where
    seen = []
    for rank in range(2):
        loader = DeviceBatches(images[:1003], ids, 100, True, False, TEST_DEVICE, seed=5).shard(rank, 2)
        # Equal shares: a DDP process with one batch more would wait forever in its all-reduce.
        assert loader.num_samples == 502 and len(loader) == 6
        seen.append(torch.cat([y for _, y in loader]))
    # Every sample; the padding repeats the first of the shuffled order at the end of the last shard.
    assert set(torch.cat(seen).tolist()) == set(ids.tolist())
    assert set(seen[0].tolist()) & set(seen[1].tolist()) == {seen[1][-1].item()} == {seen[0][0].item()}


def test_a_training_batch_of_one_image_is_dropped(mnist_test):
    images, labels = mnist_test
    training = DeviceBatches(images[:201], labels[:201], 100, True, True, TEST_DEVICE)
    assert len(training) == 2 and [len(y) for _, y in training] == [100, 100]
    testing = DeviceBatches(images[:201], labels[:201], 100, False, False, TEST_DEVICE)
    assert [len(y) for _, y in testing] == [100, 100, 1]  # every test image counts


def test_fashion_mnist_is_read_from_the_debian_package(tmp_path):
    if not DEBIAN_FASHION_DIR.is_dir():
        message = "apt-get install dataset-fashion-mnist"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    images, labels = load_split("fashion-mnist", train=False, data_dir=tmp_path, download=False)
    assert images.shape == (10_000, 28, 28) and labels.bincount().tolist() == [1000] * 10
    assert (Path(tmp_path) / "FashionMNIST" / "raw" / "t10k-images-idx3-ubyte").is_file()


def test_unknown_dataset_is_refused():
    with pytest.raises(ValueError, match="mnist, fashion-mnist"):
        MNISTDataLoader(dataset="cifar")


def test_validation_digits_are_held_out_of_training_stratified_and_fixed(data_dir):
    def split(train_subset):
        loader = MNISTDataLoader(
            data_dir=data_dir, device=TEST_DEVICE, train_subset=train_subset, validation_size=5_000
        )
        train, validation, _ = loader.get_split_loaders()
        return train, validation

    train, validation = split(None)
    assert validation.labels.numel() == 5_000 and train.labels.numel() == 55_000
    # No held-out digit is trained on: compare the images themselves, not positions.
    trained = {bytes(image.cpu().numpy()) for image in train.images}
    assert not any(bytes(image.cpu().numpy()) in trained for image in validation.images[:500])
    all_labels = load_split("mnist", train=True, data_dir=data_dir, download=False)[1]
    expected = all_labels.bincount(minlength=10).float() / all_labels.numel()
    assert ((validation.labels.bincount(minlength=10).float() / 5_000) - expected).abs().max() <= 0.001
    # The same digits are held out whatever subset trains, so runs compare on one validation set.
    small_train, small_validation = split(1_000)
    assert torch.equal(small_validation.images, validation.images) and small_train.labels.numel() == 1_000
    assert not validation.shuffle and not validation.augment


def test_asking_for_validation_digits_that_are_not_held_out_says_how(data_dir):
    with pytest.raises(ValueError, match="validation_size > 0"):
        MNISTDataLoader(data_dir=data_dir, device=TEST_DEVICE).get_validation_loader()
    with pytest.raises(ValueError, match="left after holding out 5,000"):
        MNISTDataLoader(
            data_dir=data_dir, device=TEST_DEVICE, train_subset=58_000, validation_size=5_000
        ).get_train_loader()
