"""ResNet Explorer's library: ResNets for 28x28 digits, a fast MNIST pipeline, training, inference and inspection.

from resnet_core import resnet18, MNISTDataLoader, ResNetTrainer
train_loader, test_loader = MNISTDataLoader(batch_size=128).get_data_loaders()
trainer = ResNetTrainer(resnet18(), device="cpu")
history = trainer.train(train_loader, test_loader, num_epochs=1, learning_rate=1e-3, weight_decay=1e-4)
"""

from resnet_core.data.datasets import DatasetUnavailable, MNISTDataLoader, load_split, stratified_indices
from resnet_core.devices import select_device
from resnet_core.digits.predictor import Predictor
from resnet_core.digits.preprocess import EmptyDrawing, NoDigitFound, preprocess_canvas
from resnet_core.digits.reading import Reading, predict, read_digit
from resnet_core.files.checkpoint_checks import CheckpointError
from resnet_core.files.checkpoints import Checkpoint, check_fits_dataset, load_checkpoint, save_checkpoint
from resnet_core.files.images import InvalidImage, load_image
from resnet_core.inside.feature_maps import feature_layer_names, feature_maps, layer_statistics
from resnet_core.networks.blocks import BasicBlock, Bottleneck
from resnet_core.networks.layer_tables import compare_architectures, layer_table, weightless_model
from resnet_core.networks.resnet import (
    ARCHITECTURES,
    ResNet,
    build_model,
    freeze,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)
from resnet_core.training.config import RECIPES, TrainConfig, recipe
from resnet_core.training.evaluation import evaluate
from resnet_core.training.trainer import ResNetTrainer, TrainingDiverged

__all__ = [
    "ARCHITECTURES",
    "BasicBlock",
    "Bottleneck",
    "Checkpoint",
    "CheckpointError",
    "DatasetUnavailable",
    "EmptyDrawing",
    "InvalidImage",
    "MNISTDataLoader",
    "NoDigitFound",
    "Predictor",
    "RECIPES",
    "Reading",
    "ResNet",
    "ResNetTrainer",
    "TrainConfig",
    "TrainingDiverged",
    "build_model",
    "check_fits_dataset",
    "compare_architectures",
    "evaluate",
    "feature_layer_names",
    "feature_maps",
    "freeze",
    "layer_statistics",
    "layer_table",
    "load_checkpoint",
    "load_image",
    "load_split",
    "predict",
    "preprocess_canvas",
    "read_digit",
    "recipe",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "save_checkpoint",
    "select_device",
    "stratified_indices",
    "weightless_model",
]
