"""What each subcommand does: train, evaluate, predict, summary, export, archs.

Each takes the parsed arguments and returns the exit code; main() turns the errors they
raise into one `error: ...` line.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from resnet_core.data.datasets import DATASETS
from resnet_core.devices import describe_device, select_device
from resnet_core.digits.predictor import Predictor
from resnet_core.digits.preprocess import EmptyDrawing, preprocess_image
from resnet_core.files.checkpoints import (
    Checkpoint,
    CheckpointError,
    check_can_save,
    check_fits_dataset,
    load_checkpoint,
    save_checkpoint,
)
from resnet_core.files.images import InvalidImage
from resnet_core.training.config import TrainConfig, recipe
from resnet_core.training.precision import describe_precision
from resnet_core.training.trainer import HISTORY_KEYS, EpochStats

EXIT_INTERRUPTED = 130
# Settings that shape the network: a resumed run goes on with the saved one, so they cannot change.
MODEL_SHAPING = ("arch", "stem", "residual")


def _print_epoch(stats: EpochStats, total_epochs: int) -> None:
    val = f"  val loss {stats.val_loss:.4f} acc {stats.val_acc:.2f}%" if stats.val_acc is not None else ""
    cut = "  (stopped early)" if not stats.complete else ""
    print(
        f"epoch {stats.epoch}/{total_epochs}  train loss {stats.train_loss:.4f} acc {stats.train_acc:.2f}%{val}"
        f"  lr {stats.lr:.2e}  {stats.seconds:.1f} s  {stats.images_per_second:,.0f} img/s{cut}",
        flush=True,
    )


def _resumable(path: Path, overrides: dict) -> Checkpoint:
    """The checkpoint at `path`, if a run can go on from it with these flags; CheckpointError otherwise."""
    resume = load_checkpoint(path)
    state = resume.training_state
    if state is None:
        if resume.history is not None:
            raise CheckpointError(
                f"{path} was saved with --no-resume-state: it holds the weights and training curves but not the "
                "optimiser state --resume needs, so it cannot be resumed. Start a new run instead."
            )
        raise CheckpointError(f"{path} holds no training state to resume from.")
    if resume.config is None:
        raise CheckpointError(f"{path} holds no training settings to resume with.")
    if not isinstance(state.get("optimizer"), dict) or not isinstance(state.get("scheduler"), dict):
        raise CheckpointError(
            f"{path} holds no usable optimiser state, so it cannot be resumed. Start a new run instead."
        )
    missing = [key for key in HISTORY_KEYS if key not in (resume.history or {})]
    if missing:
        raise CheckpointError(f"{path}'s training history is damaged (no {missing[0]!r}), so it cannot be resumed.")
    saved = {"arch": resume.arch, **resume.model.model_kwargs}
    shortcuts = "with" if saved["residual"] else "without"
    held = {
        "arch": resume.arch,
        "stem": f"{resume.arch} with the {saved['stem']} stem",
        "residual": f"{resume.arch} {shortcuts} skip connections",
    }
    for name in MODEL_SHAPING:
        wanted = overrides.get(name)
        if wanted is not None and wanted != saved[name]:
            flag = {"arch": "--arch", "stem": "--stem"}.get(name) or ("--residual" if wanted else "--no-residual")
            raise CheckpointError(
                f"{flag} cannot change a resumed run: {path} holds a {held[name]}. Drop {flag}, or start a new run."
            )
    check_fits_dataset(resume, overrides.get("dataset"))
    return resume


def cmd_train(args: argparse.Namespace) -> int:
    from resnet_core.training.distributed import init_from_env, shutdown

    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    check_can_save(args.out)
    resume = _resumable(args.resume, overrides) if args.resume else None
    if resume is not None:
        config = dataclasses.replace(resume.config, **overrides)
        if config.epochs <= resume.epoch:
            raise ValueError(
                f"{args.resume} has trained {resume.epoch} epoch(s) already: pass --epochs with more than that."
            )
    else:
        config = recipe(args.recipe, **overrides)

    saved_epochs = []  # by this run: a file already at --out is not this run's to offer for --resume

    def save(model, metrics, trainer, epoch):
        # A slim file keeps the curves (history) but drops the optimiser and schedule state.
        state = trainer.training_state() if args.resume_state else None
        save_checkpoint(args.out, model, config, metrics, state, epoch=epoch, history=trainer.history)
        saved_epochs.append(epoch)

    rank, world_size = init_from_env(select_device(config.device).type)
    leader = rank == 0
    try:
        # One Ctrl-C handler from the first line printed to the last file saved, so the message
        # always says what was saved: a Ctrl-C while a checkpoint is written waits for the write.
        try:
            result = _train_and_save(config, args, resume, save, rank, world_size)
        except KeyboardInterrupt:
            if leader:
                then = (
                    f"continue with --resume {args.out}"
                    if args.resume_state
                    else "it cannot be resumed (--no-resume-state)"
                )
                saved = f"the last complete epoch is saved in {args.out}; {then}"
                print(
                    f"\ninterrupted: {saved if saved_epochs else 'no epoch had completed, nothing saved'}",
                    file=sys.stderr,
                )
            return EXIT_INTERRUPTED
        if leader and result.test is not None:
            tested = f"{len(result.test.labels):,} {DATASETS[config.dataset].items}"
            print(f"test accuracy {result.test.accuracy:.2f}% on {tested}; saved {args.out}")
        return 0
    finally:
        shutdown()


def _train_and_save(config: TrainConfig, args: argparse.Namespace, resume, save, rank: int, world_size: int):
    """Trains with a progress bar on the leading process, saving each complete epoch and the tested end."""
    from resnet_core.training.progress import ProgressBar
    from resnet_core.training.runner import run_training

    leader = rank == 0
    if leader:
        device = select_device(config.device)
        print(
            f"training {config.arch} ({config.model_stem} stem) on {describe_device(device)}, {world_size} process(es), "
            f"in {describe_precision(config.precision, device)}",
            flush=True,
        )
    bar = ProgressBar(config.epochs) if leader else None

    def on_step(progress):
        if bar is not None:
            bar.update(progress)

    def on_epoch(stats, trainer):
        if not leader:
            return
        _print_epoch(stats, config.epochs)
        if stats.complete:
            save(trainer.model, {"val_accuracy": stats.val_acc}, trainer, stats.epoch)
        if bar is not None:
            bar.start_epoch()

    result = run_training(
        config,
        args.data_dir,
        on_step=on_step,
        on_epoch=on_epoch,
        resume=resume,
        rank=rank,
        world_size=world_size,
    )
    if leader and result.test is not None:
        metrics = {
            "test_accuracy": result.test.accuracy,
            "test_loss": result.test.loss,
            "test_samples": len(result.test.labels),
        }
        save(result.model, metrics, result.trainer, result.trainer.epochs_done)
    return result


def cmd_evaluate(args: argparse.Namespace) -> int:
    from resnet_core.data.datasets import MNISTDataLoader
    from resnet_core.training.trainer import ResNetTrainer

    checkpoint = load_checkpoint(args.checkpoint)
    check_fits_dataset(checkpoint)
    dataset = checkpoint.config.dataset if checkpoint.config else "mnist"
    data = MNISTDataLoader(data_dir=args.data_dir, device=args.device, dataset=dataset, test_subset=args.test_subset)
    result = ResNetTrainer(checkpoint.model, device=data.device).test(data.get_test_loader())
    print(
        f"{checkpoint.arch} on {len(result.labels):,} {DATASETS[dataset].title} test images: "
        f"accuracy {result.accuracy:.2f}%  loss {result.loss:.4f}  errors {len(result.misclassified)}"
    )
    classes = DATASETS[dataset].classes
    print("per class: " + "  ".join(f"{c} {a:.1f}%" for c, a in zip(classes, result.per_class_accuracy)))
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    checkpoint = load_checkpoint(args.checkpoint)
    check_fits_dataset(checkpoint)
    predictor = Predictor(checkpoint.model)
    failures = 0
    for path in args.images:
        try:
            prepared = preprocess_image(path.read_bytes())
        except (OSError, InvalidImage, EmptyDrawing) as err:
            print(f"error: {path}: {one_line(err)}", file=sys.stderr)
            failures += 1
            continue
        probabilities = predictor(prepared.tensor)[0]
        top = probabilities.argsort(descending=True)[:3].tolist()
        alternatives = ", ".join(f"{i} {100 * probabilities[i]:.1f}%" for i in top[1:])
        print(f"{path}: {top[0]} ({100 * probabilities[top[0]]:.1f}%; then {alternatives})")
    return 1 if failures else 0


def cmd_summary(args: argparse.Namespace) -> int:
    from resnet_core.networks.layer_tables import format_count, layer_table, weightless_model

    table = layer_table(weightless_model(args.arch, stem=args.stem), depth=args.depth)
    header = f"{'layer':<28}{'type':<18}{'output shape':<20}{'params':>12}{'mult-adds':>14}"
    print(header)
    print("-" * len(header))
    for row in table.rows:
        name = "  " * (row.depth - 1) + row.name
        print(f"{name:<28}{row.type:<18}{str(list(row.output_shape)):<20}{row.parameters:>12,}{row.mult_adds:>14,}")
    print("-" * len(header))
    print(
        f"parameters {table.total_parameters:,} ({format_count(table.total_parameters)}), "
        f"multiply-adds {table.total_mult_adds:,} ({format_count(table.total_mult_adds)}) per 28x28 digit"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from resnet_core.files.export import FILE_ENDINGS, ONNX_OPSET, export_model

    checkpoint = load_checkpoint(args.checkpoint)
    default = args.checkpoint.with_name(args.checkpoint.stem + FILE_ENDINGS[args.format])
    out = export_model(checkpoint.model, args.out or default, args.format)
    what = f"ONNX, opset {ONNX_OPSET}" if args.format == "onnx" else "TorchScript"
    print(
        f"{out}: {checkpoint.arch} as {what}, input 'image' (N, {checkpoint.model.model_kwargs['in_chans']}, 28, 28) "
        "normalised as in training, output 'logits'"
    )
    return 0


def cmd_archs(args: argparse.Namespace) -> int:
    from resnet_core.networks.layer_tables import compare_architectures, format_count

    print(f"{'name':<11}{'depth':>6}{'block':>12}{'stages':>14}{'params':>12}{'mult-adds':>12}{'MB':>8}  description")
    for row in compare_architectures(stem=args.stem):
        stages = "[" + ",".join(map(str, row.blocks_per_stage)) + "]"
        print(
            f"{row.name:<11}{row.depth:>6}{row.block:>12}{stages:>14}{format_count(row.parameters):>12}"
            f"{format_count(row.mult_adds):>12}{row.size_mb:>8.1f}  {row.description}"
        )
    return 0


def one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


COMMANDS = {
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "summary": cmd_summary,
    "archs": cmd_archs,
    "export": cmd_export,
}
