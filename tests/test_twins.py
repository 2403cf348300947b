import threading

import pytest
import torch

from resnet_core.depth_study.twins import TWINS, DepthSweep, TwinRun, default_twin_config
from resnet_core.training.evaluation import evaluate, tensor_batches
from tests.conftest import TEST_DEVICE


def test_twins_start_alike_and_differ_only_in_their_shortcuts(lab):
    run = TwinRun(default_twin_config("resnet20", device=TEST_DEVICE), lab)
    residual, plain = (run.nets[t].state_dict() for t in TWINS)
    assert set(plain) == {k for k in residual if "downsample" not in k}
    assert all(torch.equal(plain[k], residual[k]) for k in plain)
    assert run.nets["residual"].residual and not run.nets["plain"].residual
    assert run.depth == 20


def test_a_finished_run_has_both_curves_gradients_and_final_scores(trained_twins, lab):
    snap = trained_twins.snapshot()
    assert snap.finished and snap.steps_done == snap.total_steps == 3 * len(trained_twins.batches)
    for twin in TWINS:
        curves = snap.curves[twin]
        assert curves.steps == [1, *range(5, snap.total_steps + 1, 5)] + (
            [snap.total_steps] if snap.total_steps % 5 else []
        )
        assert len(curves.train_loss) == len(curves.steps) and all(v > 0 for v in curves.train_loss)
        assert curves.eval_steps[-1] == snap.total_steps and len(curves.test_accuracy) == 2
        assert len(snap.gradients[twin].steps) == -(-snap.total_steps // 10)
        final = snap.final[twin]
        net = trained_twins.nets[twin]
        assert final["train_loss"] == pytest.approx(
            evaluate(net, tensor_batches(lab.train_images, lab.train_labels)).loss
        )
        assert curves.test_accuracy[-1] == final["test_accuracy"]
    # Three epochs on 1,000 digits teach ResNet-8 something: better than chance (10%) on unseen digits.
    assert snap.final["residual"]["test_accuracy"] > 30


def test_same_settings_give_the_same_run(lab):
    config = default_twin_config("resnet8", device=TEST_DEVICE, train_subset=None)
    first, second = TwinRun(config, lab, evaluations=0), TwinRun(config, lab, evaluations=0)
    first.run()
    second.run()
    assert first.snapshot().curves == second.snapshot().curves


def test_stop_keeps_what_was_trained(lab):
    stop = threading.Event()
    run = TwinRun(default_twin_config("resnet8", device=TEST_DEVICE), lab)
    run.run(stop, on_report=stop.set)
    snap = run.snapshot()
    assert run.stopped and snap.finished and snap.steps_done == 1  # the first report comes after step 1
    assert all(len(snap.curves[t].steps) == 1 for t in TWINS) and snap.final is not None


def test_depth_sweep_measures_each_depth_in_order(lab):
    sweep = DepthSweep(["resnet8", "resnet20"], default_twin_config(device=TEST_DEVICE, batch_size=250), lab)
    sweep.run()
    points, running = sweep.snapshot()
    assert running is None and [p.depth for p in points] == [8, 20]
    for point in points:
        assert set(point.train_loss) == set(point.test_accuracy) == set(TWINS)
        assert all(0 <= acc <= 100 for acc in point.test_accuracy.values()) and point.seconds > 0
    with pytest.raises(ValueError, match="at least one depth"):
        DepthSweep([], default_twin_config(), lab)
