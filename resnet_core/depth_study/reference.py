"""The Residual Lab's results measured in advance: twin runs at several depths with their lesion studies
and loss slices, in one file the app opens at once, so a lesson does not wait for a live run.

    python -m resnet_core.depth_study.reference --out assets/lab-reference.pt   # tens of minutes on 2 cores
    # writes lab-reference.pt (the figures) and lab-reference-<arch>-<twin>.pt (each net's weights) beside it
    reference = load_reference("assets/lab-reference.pt")
    run = restore_twins(reference, "resnet56", data)   # a finished TwinRun with its trained nets

Every figure in the file was measured by `measure_reference` on the machine it names. The nets are
stored in half precision (half the size); the final losses, accuracies, lesions and slices are
measured on those stored weights, so what the page shows about a net is true of the net it holds.
"""

from __future__ import annotations

import argparse
import datetime
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from resnet_core.data.datasets import TRAINING_SET_SIZE
from resnet_core.depth_study.twins import TWINS, LabData, SweepPoint, TwinCurves, TwinRun, default_twin_config, lab_data
from resnet_core.devices import machine_name
from resnet_core.inside.gradient_flow import GradientFlow
from resnet_core.inside.lesion import LesionResult, lesion_study
from resnet_core.inside.loss_slice import LossSlice, loss_slice
from resnet_core.training.config import TrainConfig
from resnet_core.training.evaluation import accuracy, evaluate, tensor_batches

FORMAT = 1
LESION_DIGITS = 500  # test digits per lesioned net: 2 x 27 nets for ResNet-56 in well under a minute on 2 cores
SLICE_DIGITS = 500  # test digits per point of a loss slice
REFERENCE_DEPTHS = ("resnet8", "resnet20", "resnet56")
REFERENCE_TEST_DIGITS = 1_000  # the lab's test digits (lab_data's default)


@dataclass(frozen=True)
class Reference:
    """What load_reference reads: the runs by architecture, the settings and where they were measured."""

    config: TrainConfig  # the twins' recipe; each run's arch is its key in `runs`
    train_subset: int | None  # training digits (None: all 60,000)
    test_subset: int
    machine: str  # the CPU or GPU, cores and torch version the runs were timed on
    made: str  # ISO date
    runs: dict[str, dict]  # arch -> one run's record (see _record)

    @property
    def archs(self) -> list[str]:
        return list(self.runs)

    def seconds(self, archs: Sequence[str]) -> float:
        """Training and measuring time of these depths' twins, one after another, as measured."""
        return sum(self.runs[arch]["seconds"] for arch in archs)

    def estimated_seconds(self, archs: Sequence[str], train_subset: int | None, epochs: int) -> float:
        """What twins of these depths would take on the machine that measured these runs, one after another:
        the measured seconds per layer (nearly the same at every measured depth, since each layer costs about
        the same), scaled by layers, training digits and epochs."""
        per_layer = self.seconds(self.archs) / sum(_layers(arch) for arch in self.archs)
        digits = (train_subset or TRAINING_SET_SIZE) / (self.train_subset or TRAINING_SET_SIZE)
        return per_layer * sum(_layers(arch) for arch in archs) * digits * epochs / self.config.epochs

    def sweep_points(self, archs: Sequence[str]) -> list[SweepPoint]:
        """The depth sweep of `archs` as measured in advance (each depth's twins, after training)."""
        return [
            SweepPoint(
                arch,
                self.runs[arch]["depth"],
                {twin: self.runs[arch]["final"][twin]["train_loss"] for twin in TWINS},
                {twin: self.runs[arch]["final"][twin]["test_accuracy"] for twin in TWINS},
                self.runs[arch]["seconds"],
            )
            for arch in archs
        ]

    def lesions(self, arch: str) -> dict[str, list[LesionResult]]:
        return {
            twin: [LesionResult(tuple(r["removed"]), r["accuracy"], r["refused"]) for r in rows]
            for twin, rows in self.runs[arch]["lesions"].items()
        }

    def slices(self, arch: str) -> dict[str, LossSlice]:
        return {twin: LossSlice(**values) for twin, values in self.runs[arch]["slices"].items()}


def _layers(arch: str) -> int:
    """The depth family's weighted layers, as its name says: resnet56 has 56."""
    return int(arch.removeprefix("resnet"))


def _to_half_and_back(run: TwinRun) -> dict[str, dict[str, torch.Tensor]]:
    """Round both nets' weights to half precision, in place, and return them as stored."""
    stored = {}
    for twin, net in run.nets.items():
        state = {name: t.half() if t.is_floating_point() else t for name, t in net.state_dict().items()}
        net.load_state_dict(state)  # copies into the float32 tensors: the nets now hold the stored values
        stored[twin] = state
    return stored


def _final(run: TwinRun) -> dict[str, dict[str, float]]:
    data = run.data
    return {
        twin: {
            "train_loss": evaluate(net.eval(), tensor_batches(data.train_images, data.train_labels)).loss,
            "test_accuracy": accuracy(net, data.test_images, data.test_labels),
        }
        for twin, net in run.nets.items()
    }


def _record(run: TwinRun) -> dict:
    """One finished twin run as plain values and tensors (loadable with weights_only)."""
    weights = _to_half_and_back(run)
    snap = run.snapshot()
    images, labels = run.data.test_images, run.data.test_labels
    return {
        "depth": run.depth,
        "steps_done": snap.steps_done,
        "total_steps": snap.total_steps,
        "seconds": snap.seconds,
        "curves": {twin: asdict(curves) for twin, curves in snap.curves.items()},
        "gradients": {twin: asdict(flow) for twin, flow in snap.gradients.items()},
        "final": _final(run),
        "weights": weights,
        "lesions": {
            twin: [asdict(r) for r in lesion_study(net, images[:LESION_DIGITS], labels[:LESION_DIGITS])]
            for twin, net in run.nets.items()
        },
        "slices": {
            twin: asdict(loss_slice(net, images[:SLICE_DIGITS], labels[:SLICE_DIGITS]))
            for twin, net in run.nets.items()
        },
    }


def measure_reference(
    archs: Sequence[str],
    config: TrainConfig,
    data: LabData,
    train_subset: int | None,
    on_run: Callable[[str, dict], None] | None = None,
) -> Reference:
    """Train the twins at each depth of `archs` on `data` (its training digits, `train_subset` of them),
    one depth after another, and measure what the lab shows of each; on_run(arch, record) after each."""
    runs = {}
    for arch in archs:
        run = TwinRun(replace(config, arch=arch), data)
        run.run()
        runs[arch] = _record(run)
        if on_run is not None:
            on_run(arch, runs[arch])
    return Reference(
        config, train_subset, len(data.test_labels), machine_name(), datetime.date.today().isoformat(), runs
    )


def weights_file(path: str | os.PathLike, arch: str, twin: str) -> Path:
    """Where save_reference puts one net's weights: beside the reference file, one small file per net
    (lab-reference.pt -> lab-reference-resnet56-plain.pt)."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{arch}-{twin}{path.suffix}")


def save_reference(reference: Reference, path: str | os.PathLike) -> None:
    """The figures to `path`, each net's weights to its weights_file beside it."""
    runs = {
        arch: {key: value for key, value in run.items() if key != "weights"} for arch, run in reference.runs.items()
    }
    values = asdict(reference) | {"config": reference.config.to_dict(), "runs": runs, "format": FORMAT}
    torch.save(values, path)
    for arch, run in reference.runs.items():
        for twin, state in run["weights"].items():
            torch.save(state, weights_file(path, arch, twin))


def _load(path: Path) -> object:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - an unreadable or missing file is reported as one
        raise ValueError(f"{path} is not a Residual Lab reference file: {err}") from None


def load_reference(path: str | os.PathLike) -> Reference:
    """The files save_reference wrote; raises ValueError if they are not (or not all there, or of another format)."""
    values = _load(Path(path))
    if not isinstance(values, dict) or values.get("format") != FORMAT:
        raise ValueError(f"{path} is not a Residual Lab reference file of format {FORMAT}.")
    values.pop("format")
    for arch, run in values["runs"].items():
        run["weights"] = {twin: _load(weights_file(path, arch, twin)) for twin in TWINS}
    return Reference(**(values | {"config": TrainConfig.from_dict(values["config"])}))


def restore_twins(reference: Reference, arch: str, data: LabData) -> TwinRun:
    """The finished TwinRun measured at `arch`: trained nets, curves, gradient flow and final figures."""
    record = reference.runs[arch]
    run = TwinRun(replace(reference.config, arch=arch), data)
    for twin, net in run.nets.items():
        net.load_state_dict(
            {name: t.float() if t.is_floating_point() else t for name, t in record["weights"][twin].items()}
        )
        net.eval()
    run.restore(
        curves={twin: TwinCurves(**values) for twin, values in record["curves"].items()},
        gradients={twin: GradientFlow(**values) for twin, values in record["gradients"].items()},
        steps_done=record["steps_done"],
        seconds=record["seconds"],
        final=record["final"],
    )
    return run


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="assets/lab-reference.pt")
    parser.add_argument("--depths", nargs="+", default=list(REFERENCE_DEPTHS))
    parser.add_argument("--train-subset", type=int, default=None, help="training digits (default: all 60,000)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    data = lab_data(
        train_subset=args.train_subset, test_subset=REFERENCE_TEST_DIGITS, device="cpu", data_dir=args.data_dir
    )
    config = default_twin_config(epochs=args.epochs, device="cpu")

    def report(arch: str, record: dict) -> None:
        final = record["final"]
        print(
            f"{arch}: {record['seconds']:.0f} s; training loss {final['residual']['train_loss']:.3f} with "
            f"shortcuts, {final['plain']['train_loss']:.3f} without; test accuracy "
            f"{final['residual']['test_accuracy']:.1f}% / {final['plain']['test_accuracy']:.1f}%",
            flush=True,
        )

    reference = measure_reference(args.depths, config, data, args.train_subset, on_run=report)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    save_reference(reference, args.out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size / 1e6:.1f} MB), measured on {reference.machine}")


if __name__ == "__main__":
    main()
