"""The command line's parser: one subcommand per job, and one --flag per TrainConfig field for `train`."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from pathlib import Path

from resnet_core.data.datasets import DATASETS
from resnet_core.devices import DEVICE_CHOICES
from resnet_core.files.export import FORMATS as EXPORT_FORMATS
from resnet_core.networks.resnet import ARCHITECTURES, STEMS
from resnet_core.training.config import RECIPES, SCHEDULERS, TrainConfig
from resnet_core.training.precision import PRECISIONS

DEFAULT_OUT = Path("checkpoints") / "model.pt"
CHOICES = {
    "arch": tuple(ARCHITECTURES),
    "stem": tuple(STEMS),
    "dataset": tuple(DATASETS),
    "scheduler": SCHEDULERS,
    "precision": PRECISIONS,
}
# What an unset (None) setting means, for --help.
NONE_MEANS = {
    "stem": "the architecture's own: imagenet, or small for resnet8..110",
    "train_subset": "all 60,000 digits",
    "test_subset": "all 10,000 digits",
}


def _field_type(field: dataclasses.Field) -> type:
    hint = typing.get_type_hints(TrainConfig)[field.name]
    if isinstance(hint, types.UnionType):  # "int | None" -> int
        hint = next(t for t in typing.get_args(hint) if t is not type(None))
    return hint


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field; unset flags keep the recipe's (or resumed run's) value."""
    group = parser.add_argument_group("training settings (defaults: the chosen --recipe)")
    for field in dataclasses.fields(TrainConfig):
        flag = "--" + field.name.replace("_", "-")
        kind = _field_type(field)
        default = getattr(RECIPES["classic"], field.name)
        help_text = f"default {NONE_MEANS.get(field.name) if default is None else repr(default)} (classic recipe)"
        if kind is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS, help=help_text)
        else:
            group.add_argument(
                flag,
                type=kind,
                choices=CHOICES.get(field.name),
                default=argparse.SUPPRESS,
                metavar=None if field.name in CHOICES else field.name.upper(),
                help=help_text,
            )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m resnet_core", description="Train, evaluate and inspect ResNets on MNIST."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="train a ResNet and save a checkpoint")
    train.add_argument(
        "--recipe",
        choices=tuple(RECIPES),
        default="classic",
        help="starting settings: classic (10 epochs, Adam, step decay) or fast (one-cycle); default classic",
    )
    _add_config_flags(train)
    train.add_argument("--data-dir", help="folder holding MNIST/raw (default: $RESNET_DATA_DIR or a cache folder)")
    train.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"checkpoint to write (default: {DEFAULT_OUT})")
    train.add_argument("--resume", type=Path, help="continue the run saved in this checkpoint")
    train.add_argument(
        "--resume-state",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="keep the optimiser and schedule state --resume needs (default); --no-resume-state saves "
        "weights, settings, metrics and training curves only, a third of the size, and cannot be resumed",
    )

    evaluate = commands.add_parser("evaluate", help="test a checkpoint on the test set")
    evaluate.add_argument("--checkpoint", type=Path, required=True)
    evaluate.add_argument("--data-dir")
    evaluate.add_argument("--test-subset", type=int, help="stratified test digits (default: all)")
    evaluate.add_argument("--device", default="auto", choices=DEVICE_CHOICES)

    predict_cmd = commands.add_parser("predict", help="classify digit images (PNG, JPEG, GIF, BMP)")
    predict_cmd.add_argument("--checkpoint", type=Path, required=True)
    predict_cmd.add_argument("images", nargs="+", type=Path, metavar="IMAGE")

    summary = commands.add_parser("summary", help="layer table of an architecture")
    summary.add_argument("--arch", required=True, choices=tuple(ARCHITECTURES))
    summary.add_argument("--stem", choices=tuple(STEMS), help="default: the architecture's own")
    summary.add_argument("--depth", type=int, default=2, help="nesting depth of the table (default 2)")

    export = commands.add_parser("export", help="write a checkpoint's model as ONNX or TorchScript")
    export.add_argument("--checkpoint", type=Path, required=True)
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS)
    export.add_argument("--out", type=Path, help="default: the checkpoint's name with .onnx, or -torchscript.pt")

    archs = commands.add_parser("archs", help="list the architectures with measured sizes")
    archs.add_argument("--stem", choices=tuple(STEMS), help="default: each architecture's own")
    return parser
