"""The Residual Lab's results measured in advance: made, stored and restored true to the nets they hold,
and the file that ships in assets/ matches the lab's default settings and its own figures."""

import pytest
import torch

from resnet_core.depth_study.reference import (
    LESION_DIGITS,
    REFERENCE_TEST_DIGITS,
    load_reference,
    measure_reference,
    restore_twins,
    save_reference,
    weights_file,
)
from resnet_core.depth_study.twins import TWINS, default_twin_config, lab_data
from resnet_core.inside.lesion import lesion_study
from resnet_core.training.evaluation import accuracy
from tests.conftest import REPO
from ui.lab.in_advance import REFERENCE_FILE, matches
from ui.lab.settings import DEFAULTS, DIGITS

SHIPPED = REPO / "assets" / REFERENCE_FILE


@pytest.fixture(scope="module")
def small_data(data_dir):
    return lab_data(train_subset=300, test_subset=REFERENCE_TEST_DIGITS, device="cpu", data_dir=data_dir)


def test_a_reference_restores_the_nets_it_measured_and_their_figures(small_data, tmp_path):
    config = default_twin_config(epochs=1, device="cpu")
    ref = measure_reference(["resnet8"], config, small_data, train_subset=300)
    save_reference(ref, tmp_path / "ref.pt")
    loaded = load_reference(tmp_path / "ref.pt")
    assert loaded.archs == ["resnet8"] and loaded.train_subset == 300 and loaded.config == config
    run = restore_twins(loaded, "resnet8", small_data)
    snap = run.snapshot()
    assert snap.finished and snap.steps_done == snap.total_steps == 5  # 300 digits in batches of 64
    assert len(snap.curves["residual"].train_loss) == len(snap.curves["plain"].train_loss) > 0
    assert snap.gradients["plain"].first_to_last() is not None
    images, labels = small_data.test_images, small_data.test_labels
    for twin in TWINS:
        # What the file says of each net is what the restored net does on the same digits.
        assert accuracy(run.nets[twin], images, labels) == snap.final[twin]["test_accuracy"]
        lesions = loaded.lesions("resnet8")[twin]
        again = lesion_study(run.nets[twin], images[:LESION_DIGITS], labels[:LESION_DIGITS])
        assert [r.accuracy for r in again] == [r.accuracy for r in lesions]
    (point,) = loaded.sweep_points(["resnet8"])
    assert point.depth == 8 and point.test_accuracy == {t: snap.final[t]["test_accuracy"] for t in TWINS}


def test_a_reference_without_one_of_its_weight_files_is_refused(small_data, tmp_path):
    ref = measure_reference(["resnet8"], default_twin_config(epochs=1, device="cpu"), small_data, train_subset=300)
    save_reference(ref, tmp_path / "ref.pt")
    weights_file(tmp_path / "ref.pt", "resnet8", "plain").unlink()
    with pytest.raises(ValueError, match="ref-resnet8-plain.pt is not a Residual Lab reference file"):
        load_reference(tmp_path / "ref.pt")


def test_a_file_that_is_no_reference_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="is not a Residual Lab reference file"):
        load_reference(path)
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(ValueError, match="is not a Residual Lab reference file"):
        load_reference(tmp_path / "text.pt")


def test_the_shipped_reference_covers_the_labs_default_settings():
    ref = load_reference(SHIPPED)
    files = [SHIPPED] + [weights_file(SHIPPED, arch, twin) for arch in ref.runs for twin in TWINS]
    assert all(path.stat().st_size <= 2 * 1024 * 1024 for path in files)  # small files, as the starters are
    assert matches(ref, DIGITS[DEFAULTS["lab:digits"]], DEFAULTS["lab:epochs"])
    assert DEFAULTS["lab:depth"] in ref.runs and set(DEFAULTS["lab:depths"]) <= set(ref.runs)
    assert ref.machine and ref.made
    assert REFERENCE_FILE in (REPO / "assets" / "README.md").read_text()


def test_the_shipped_nets_score_what_the_reference_says(data_dir):
    ref = load_reference(SHIPPED)
    data = lab_data(train_subset=300, test_subset=ref.test_subset, device="cpu", data_dir=data_dir)
    for arch in ref.archs:
        run = restore_twins(ref, arch, data)
        for twin in TWINS:
            assert accuracy(run.nets[twin], data.test_images, data.test_labels) == pytest.approx(
                ref.runs[arch]["final"][twin]["test_accuracy"], abs=0.05
            )


def test_a_depth_not_measured_gets_a_time_scaled_from_the_measured_ones():
    ref = load_reference(SHIPPED)
    for arch in ref.archs:  # each layer costs about the same, so a measured depth comes back near its own time
        assert ref.estimated_seconds([arch], ref.train_subset, ref.config.epochs) == pytest.approx(
            ref.seconds([arch]), rel=0.15
        )
    one = ref.estimated_seconds(["resnet32"], 6_000, 1)
    assert ref.estimated_seconds(["resnet32"], 12_000, 1) == pytest.approx(2 * one)
    assert ref.estimated_seconds(["resnet32"], 6_000, 3) == pytest.approx(3 * one)
    assert ref.estimated_seconds(["resnet8", "resnet56"], 6_000, 1) == pytest.approx(
        ref.estimated_seconds(["resnet8"], 6_000, 1) + ref.estimated_seconds(["resnet56"], 6_000, 1)
    )
    assert ref.estimated_seconds(["resnet20"], 6_000, 1) < one < ref.estimated_seconds(["resnet44"], 6_000, 1)
