"""MNIST and Fashion-MNIST as uint8 tensors on the training device, and loaders that batch them there.

The whole split fits in 47 MB, so it is read once through torchvision (imported then, not with
this module: it brings torch's compiler along, about 1.4 s of a server's start), kept as
uint8 on the device, and every batch is an index into it: no worker processes,
no per-sample Python in the training loop.
"""

from __future__ import annotations

import functools
import gzip
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from resnet_core.data.augment import normalize, random_affine
from resnet_core.devices import select_device

# Debian's dataset-fashion-mnist package installs the four .gz files here.
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


@dataclass(frozen=True)
class DatasetInfo:
    torchvision_class: str  # its class in torchvision.datasets
    folder: str  # torchvision keeps the files in <root>/<folder>/raw
    title: str
    classes: tuple[str, ...]
    items: str  # what its test set is called in messages: "digits", "images"


DATASETS = {
    "mnist": DatasetInfo("MNIST", "MNIST", "MNIST", tuple(str(d) for d in range(10)), "digits"),
    "fashion-mnist": DatasetInfo(
        "FashionMNIST",
        "FashionMNIST",
        "Fashion-MNIST",
        ("T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"),
        "images",
    ),
}
TRAINING_SET_SIZE = 60_000  # the training split of MNIST and of Fashion-MNIST alike
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


class DatasetUnavailable(RuntimeError):
    """The dataset files are missing and could not be downloaded."""


def default_data_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "resnet-explorer" / "data"


def resolve_data_dir(data_dir: str | os.PathLike | None = None, dataset: str = "mnist") -> Path:
    """The root torchvision reads: the argument, else $RESNET_DATA_DIR, else a per-user cache folder.

    Pointing at <root>/MNIST or <root>/MNIST/raw works too.
    """
    root = Path(data_dir or os.environ.get("RESNET_DATA_DIR") or default_data_dir()).expanduser()
    folder = _info(dataset).folder
    if root.name == "raw" and root.parent.name == folder:
        return root.parent.parent
    if root.name == folder and (root / "raw").is_dir():
        return root.parent
    return root


def _info(dataset: str) -> DatasetInfo:
    if dataset not in DATASETS:
        raise ValueError(f"Unknown dataset {dataset!r}: choose one of {', '.join(DATASETS)}.")
    return DATASETS[dataset]


def _raw_dir(root: Path, dataset: str) -> Path:
    return root / _info(dataset).folder / "raw"


def _has_raw_files(root: Path, dataset: str) -> bool:
    return all((_raw_dir(root, dataset) / name).is_file() for name in RAW_FILES)


def _unpack_debian_fashion(root: Path) -> None:
    # torchvision wants the uncompressed files under <root>/FashionMNIST/raw.
    raw = _raw_dir(root, "fashion-mnist")
    raw.mkdir(parents=True, exist_ok=True)
    for name in RAW_FILES:
        with gzip.open(DEBIAN_FASHION_DIR / f"{name}.gz", "rb") as src, open(raw / f".{name}.part", "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(raw / f".{name}.part", raw / name)


def _unavailable_message(root: Path, dataset: str, reason: str) -> str:
    info = _info(dataset)
    files = ", ".join(RAW_FILES)
    hint = "apt-get install dataset-fashion-mnist, or " if dataset == "fashion-mnist" else ""
    return (
        f"{info.title} is not available: {reason}\n"
        f"Looked in {_raw_dir(root, dataset)} for the four files {files}.\n"
        f"To fix it: connect to the internet once (torchvision downloads them there), or {hint}"
        f"copy the files into that folder, or set RESNET_DATA_DIR (or pass data_dir; --data-dir on the "
        f"command line) to a folder that holds {info.folder}/raw/."
    )


def load_split(
    dataset: str = "mnist", train: bool = True, data_dir: str | os.PathLike | None = None, download: bool = True
) -> tuple[Tensor, Tensor]:
    """One split as (images (N, 28, 28) uint8, labels (N,) int64) on the CPU; read once, then shared: do not modify."""
    root = resolve_data_dir(data_dir, dataset)
    _info(dataset)
    if dataset == "fashion-mnist" and not _has_raw_files(root, dataset) and DEBIAN_FASHION_DIR.is_dir():
        try:
            _unpack_debian_fashion(root)
        except OSError:
            root = default_data_dir()
            if not _has_raw_files(root, dataset):
                _unpack_debian_fashion(root)
    if not download and not _has_raw_files(root, dataset):
        raise DatasetUnavailable(_unavailable_message(root, dataset, "the files are missing and download is off."))
    return _read_split(dataset, train, root, download)


@functools.lru_cache(maxsize=4)
def _read_split(dataset: str, train: bool, root: Path, download: bool) -> tuple[Tensor, Tensor]:
    # One copy per split and process: the app, the trainer and the evaluator share it.
    # Callers index it (which copies) and never write into it.
    import torchvision.datasets

    try:
        ds = getattr(torchvision.datasets, _info(dataset).torchvision_class)(str(root), train=train, download=download)
    except (RuntimeError, OSError, ValueError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DatasetUnavailable(_unavailable_message(root, dataset, f"download failed ({first_line}).")) from None
    return ds.data, ds.targets


def stratified_indices(labels: Tensor, size: int, seed: int = 0) -> Tensor:
    """`size` indices with each class in its share of `labels`, the same for the same seed. Sorted."""
    n = labels.numel()
    if not 0 < size <= n:
        raise ValueError(f"Subset size must be between 1 and {n}, got {size}.")
    generator = torch.Generator().manual_seed(seed)
    classes, counts = labels.unique(return_counts=True)
    exact = counts.double() * size / n
    quota = exact.floor().long()
    # Largest remainders get the places rounding left over.
    leftover = size - int(quota.sum())
    quota[torch.argsort(exact - quota, descending=True)[:leftover]] += 1
    chosen = []
    for cls, k in zip(classes.tolist(), quota.tolist()):
        members = (labels == cls).nonzero().flatten()
        chosen.append(members[torch.randperm(members.numel(), generator=generator)[:k]])
    return torch.cat(chosen).sort().values


class DeviceBatches:
    """Batches of (x (B, 1, 28, 28) float normalised, y (B,) int64) cut from uint8 tensors on one device.

    Shuffled by torch.randperm on that device each epoch; augmentation is batched.
    `shard(rank, world_size)` restricts each epoch to one process's share for DDP; the
    shares are equal, so with 1,003 images on 2 processes one image is seen twice.
    """

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        batch_size: int,
        shuffle: bool,
        augment: bool,
        device: torch.device | str,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.augment = augment
        # (images in [0, 1], generator=...) -> images; benchmarks swap in other strengths.
        self.augmentation: Callable[..., Tensor] = random_affine
        self.drop_last = drop_last
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.rank, self.world_size = 0, 1

    def shard(self, rank: int, world_size: int) -> DeviceBatches:
        self.rank, self.world_size = rank, world_size
        return self

    @property
    def num_samples(self) -> int:
        """Samples this process sees per epoch: its shard, the same size on every process."""
        return -(-self.labels.numel() // self.world_size)

    def __len__(self) -> int:
        full, rest = divmod(self.num_samples, self.batch_size)
        # BatchNorm cannot train on a batch of one image (one value per channel), so a shuffled
        # (training) epoch drops a last batch of one, as drop_last would.
        keep_rest = rest > 1 or (rest == 1 and not self.shuffle)
        return full + 1 if keep_rest and not self.drop_last else full

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = self.labels.numel()
        if self.shuffle:
            order = torch.randperm(n, device=self.device, generator=self.generator)
        else:
            order = torch.arange(n, device=self.device)
        if self.world_size > 1:
            # Every process must take as many steps, or DDP's gradient all-reduce waits forever
            # for the one that stopped: pad with the start of the order, as DistributedSampler does.
            total = self.num_samples * self.world_size
            order = order.repeat(-(-total // n))[:total][self.rank :: self.world_size]
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            idx = order[start : start + self.batch_size]
            x = self.images[idx].unsqueeze(1).float().div_(255.0)
            if self.augment:
                x = self.augmentation(x, generator=self.generator)
            yield normalize(x), self.labels[idx]


class MNISTDataLoader:
    """MNIST (or Fashion-MNIST) on the device: MNISTDataLoader(batch_size=128).get_data_loaders() -> (train, test).

    The loaders yield (x, y) already on `device`; only the training loader
    shuffles and augments (rotation +-10 degrees, translation +-10%).
    With `validation_size` > 0, that many stratified training digits (chosen by `seed`) are
    held out: `get_split_loaders()` gives (train, validation, test), and the training loader
    never sees the held-out digits, so the test set can be kept for one final measurement.
    """

    def __init__(
        self,
        batch_size: int = 128,
        data_dir: str | os.PathLike | None = None,
        augment: bool = True,
        device: torch.device | str | None = None,
        dataset: str = "mnist",
        train_subset: int | None = None,
        test_subset: int | None = None,
        seed: int = 0,
        download: bool = True,
        test_batch_size: int = 1000,
        validation_size: int = 0,
    ) -> None:
        _info(dataset)
        if validation_size < 0:
            raise ValueError(f"validation_size must be 0 or more, got {validation_size}.")
        self.batch_size = batch_size
        self.data_dir = data_dir
        self.augment = augment
        self.device = select_device(device)
        self.dataset = dataset
        self.train_subset = train_subset
        self.test_subset = test_subset
        self.seed = seed
        self.download = download
        self.test_batch_size = test_batch_size
        self.validation_size = validation_size

    def _split_training_set(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(train images, train labels, validation images, validation labels): disjoint, both stratified."""
        images, labels = load_split(self.dataset, True, self.data_dir, self.download)
        held_out = torch.zeros(labels.numel(), dtype=torch.bool)
        if self.validation_size:
            if self.validation_size >= labels.numel():
                raise ValueError(
                    f"validation_size {self.validation_size:,} leaves no training digits of {labels.numel():,}."
                )
            # A seed of its own, so the held-out digits stay the same whatever subset is trained on.
            held_out[stratified_indices(labels, self.validation_size, seed=self.seed + 1)] = True
        remaining = (~held_out).nonzero().flatten()
        size = self.train_subset
        if size is not None and size != remaining.numel():
            if size > remaining.numel():
                raise ValueError(
                    f"Training subset {size:,} is larger than the {remaining.numel():,} digits left after holding "
                    f"out {self.validation_size:,} for validation."
                )
            remaining = remaining[stratified_indices(labels[remaining], size, self.seed)]
        return images[remaining], labels[remaining], images[held_out], labels[held_out]

    def load_tensors(self, train: bool) -> tuple[Tensor, Tensor]:
        """The (subset of the) split as uint8 images and labels on the CPU; training without the held-out digits."""
        if train:
            return self._split_training_set()[:2]
        images, labels = load_split(self.dataset, False, self.data_dir, self.download)
        if self.test_subset is not None and self.test_subset != labels.numel():
            idx = stratified_indices(labels, self.test_subset, self.seed)
            images, labels = images[idx], labels[idx]
        return images, labels

    def get_train_loader(self) -> DeviceBatches:
        images, labels = self.load_tensors(train=True)
        return DeviceBatches(images, labels, self.batch_size, True, self.augment, self.device, self.seed)

    def get_validation_loader(self) -> DeviceBatches:
        """The held-out training digits, in a fixed order; raises ValueError when validation_size is 0."""
        if not self.validation_size:
            raise ValueError("No validation digits are held out: pass validation_size > 0.")
        images, labels = self._split_training_set()[2:]
        return DeviceBatches(images, labels, self.test_batch_size, False, False, self.device)

    def get_test_loader(self) -> DeviceBatches:
        images, labels = self.load_tensors(train=False)
        return DeviceBatches(images, labels, self.test_batch_size, False, False, self.device)

    def get_data_loaders(self) -> tuple[DeviceBatches, DeviceBatches]:
        """(shuffled, augmented training batches; test batches in file order)."""
        return self.get_train_loader(), self.get_test_loader()

    def get_split_loaders(self) -> tuple[DeviceBatches, DeviceBatches, DeviceBatches]:
        """(training, validation (held-out training digits), test) loaders."""
        return self.get_train_loader(), self.get_validation_loader(), self.get_test_loader()
