"""Every page through Streamlit's AppTest: real scripts, real torch, real MNIST, no browser."""

import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from resnet_core.data.augment import to_model_input
from resnet_core.data.datasets import DATASETS, load_split
from resnet_core.depth_study.reference import load_reference
from resnet_core.files.checkpoints import load_checkpoint
from resnet_core.inside.convolution import feature_map, first_filter, model_input
from resnet_core.networks.layer_tables import layer_table
from resnet_core.networks.resnet import resnet18
from resnet_core.training.config import recipe
from resnet_core.training.progress import format_duration
from resnet_core.training.runner import make_loaders
from tests.conftest import REPO, bad_checkpoint, digit_on_canvas, new_session
from tests.waiting import finish, wait_until
from ui import keys
from ui.jobs.job import DONE, Job
from ui.jobs.registry import jobs
from ui.jobs.session import TRAINING
from ui.lab.in_advance import REFERENCE_FILE
from ui.lesson import LESSON
from ui.models.model_list import ModelEntry
from ui.training.lengths import RUN_LENGTHS, quick_config
from ui.training.view import why_training_looks_worse
from ui.training.work import TrainingWork

PAGES = [
    "app_pages/overview.py",
    "app_pages/convolution.py",
    "app_pages/architecture.py",
    "app_pages/train.py",
    "app_pages/draw.py",
    "app_pages/feature_maps.py",
    "app_pages/mistakes.py",
    "app_pages/teach.py",
    "app_pages/runs.py",
    "app_pages/residual_lab.py",
]


def stop(job: Job) -> None:
    job.stop(job.owner)
    finish(job, seconds=120)


def job_of(app: AppTest) -> Job | None:
    """The session's training job, as the page URL names it."""
    return app.session_state[keys.JOBS].get(TRAINING) if keys.JOBS in app.session_state else None


def by_label(widgets, label):
    return next(w for w in widgets if w.label == label)


@pytest.fixture
def no_starters(monkeypatch, tmp_path):
    """A server without starter models (an empty folder where they would be)."""
    (tmp_path / "no-starters").mkdir()
    monkeypatch.setenv("RESNET_STARTER_DIR", str(tmp_path / "no-starters"))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception_for_a_model_trained_on_the_test_device(
    app, trained_resnet18, mnist_test, page
):
    """With RESNET_TEST_DEVICE=cuda the model in use lives on the GPU, and every page must meet it there."""
    images, _ = mnist_test
    app.session_state[keys.ACTIVE_MODEL] = ModelEntry(trained_resnet18.model, "resnet18", "mnist", "test", 97.0)
    app.session_state[keys.DRAWING] = digit_on_canvas(images[0], 200, 40, 40)
    app.run()
    app.switch_page(page).run()
    assert not app.exception
    assert not app.error
    assert app.session_state[keys.ACTIVE_MODEL].model is trained_resnet18.model


def test_architecture_opens_on_the_model_in_use_and_tables_the_rows_torchinfo_reports(app):
    app.switch_page("app_pages/architecture.py").run()
    from ui.models.model_list import starter_models

    in_use = starter_models()[0]  # a new session's model in use
    opened_on = [next(s for s in app.selectbox if s.label.startswith(label)).value for label in ("Network", "Stem")]
    assert opened_on == [in_use.arch, in_use.stem]  # the net every other page shows
    next(s for s in app.selectbox if s.label == "Network").set_value("resnet18").run()
    expected = layer_table(resnet18(), depth=2).rows
    table = next(
        df.value for df in app.dataframe if "multiply-adds" in df.value.columns and "trainable" in df.value.columns
    )
    assert len(table) == len(expected)
    assert table["parameters"].tolist() == [row.parameters for row in expected]
    assert [m.value for m in app.metric][:2] == ["11.18M", "33.02M"]
    app.slider[0].set_value(1).run()
    table = next(df.value for df in app.dataframe if "trainable" in df.value.columns)
    assert len(table) == len(layer_table(resnet18(), depth=1).rows)


def test_overviews_path_walks_every_page_in_the_sidebars_lesson_order(app):
    app.run()  # Overview is the first page
    linked = [link.proto.page for link in app.get("page_link")]
    in_sidebar = [Path(step.path).stem for steps in LESSON.values() for step in steps]  # app.py's sections
    assert linked == in_sidebar[1:] and in_sidebar[0] == "overview"
    assert list(LESSON) == ["The idea", "Why shortcuts", "Inside", "Try it"]
    # Every page is in the lesson but the teacher's, which only a signed-in teacher sees.
    assert sorted([*in_sidebar, "teacher"]) == sorted(page.stem for page in (REPO / "app_pages").glob("*.py"))
    assert not app.exception


def test_convolution_takes_one_output_pixel_apart_then_halves_the_map_by_stride_and_by_pooling(app, mnist_test):
    app.switch_page("app_pages/convolution.py").run()
    assert not app.exception
    index = int(
        re.search(r"test image #(\d+)", next(c.value for c in app.caption if "test image #" in c.value)).group(1)
    )
    image = model_input(to_model_input(mnist_test[0][index : index + 1]))
    flt = first_filter(load_checkpoint(REPO / "assets" / "starter-resnet20.pt").model, 3)  # the model in use
    by_label(app.slider, "Filter").set_value(3).run()
    said = next(m.value for m in app.markdown if m.value.startswith("**Row"))
    row, col, total = re.search(r"Row (\d+), column (\d+):\*\* the 9 products add up to \*\*(-?[\d.]+)", said).groups()
    whole = feature_map(image, flt)
    assert float(total) == pytest.approx(whole[int(row), int(col)].item(), abs=0.006)
    assert abs(whole[int(row), int(col)]) == pytest.approx(
        whole.abs().max().item()
    )  # it starts where the map is strongest
    app.button(key="conv:next").click().run()
    assert by_label(app.slider, "Output pixel").value == 28 * int(row) + int(col) + 1
    app.radio(key="conv:show").set_value("Stride 2: every other place").run()
    assert "makes a 14×14 map" in next(m.value for m in app.markdown if m.value.startswith("**Row"))
    app.radio(key="conv:show").set_value("Max-pooling: the largest of each 2×2").run()
    pooled = next(m.value for m in app.markdown if m.value.startswith("**Row"))
    window = [float(v) for v in re.search(r"window holds ([-\d., ]+);", pooled).group(1).split(", ")]
    assert len(window) == 4 and f"the largest, **{max(window):.2f}**" in pooled and "from 28×28 to 14×14" in pooled
    assert not app.exception


def test_a_pages_settings_are_kept_while_the_student_visits_other_pages(app):
    symbols = "Your symbols (2 to 4, separated by commas)"
    app.switch_page("app_pages/architecture.py").run()
    by_label(app.selectbox, "Network").set_value("resnet20").run()
    assert by_label(app.selectbox, "Stem: the layers before the first block").value == "small"  # the net's own
    by_label(app.slider, "Table depth").set_value(1).run()
    app.switch_page("app_pages/teach.py").run()
    by_label(app.text_input, symbols).set_value("star, moon").run()
    app.switch_page("app_pages/overview.py").run()
    app.switch_page("app_pages/architecture.py").run()
    assert by_label(app.selectbox, "Network").value == "resnet20" and by_label(app.slider, "Table depth").value == 1
    assert [m.value for m in app.metric][2] == "20"  # the page shows what the kept settings choose
    app.switch_page("app_pages/teach.py").run()
    assert by_label(app.text_input, symbols).value == "star, moon" and not app.exception


SHAPE = "Shape"


def start_custom_run(app, dataset: str = "mnist", digits: int = 1_000, epochs: int = 1):
    """Start a Custom-length run on the Train page (the presets are longer than a test needs)."""
    app.switch_page("app_pages/train.py").run()
    by_label(app.selectbox, "Dataset").set_value(dataset)
    by_label(app.radio, "How long").set_value("Custom").run()
    by_label(app.select_slider, "Training digits").set_value(digits)
    by_label(app.number_input, "Epochs (passes over the digits)").set_value(epochs)
    by_label(app.button, "Start training").click().run()
    return job_of(app)


def train_on_1000(app, dataset: str = "mnist"):
    """Train on 1,000 digits for one pass, wait for it, and draw the page once more."""
    job = start_custom_run(app, dataset)
    finish(job)
    assert job.status == "done", job.error
    app.run()
    return job


def finished_run(app, result) -> Job:
    """A run that ended with `result` (a test session's trained model) as this session's own, named in its
    URL, without training again."""
    test_images = make_loaders(result.config, None, "cpu").test.images
    job = Job(TrainingWork(result.config, result=result, test_images=test_images), status=DONE)
    jobs.add(job)
    app.query_params[TRAINING] = job.id
    return job


def sidebar_choice(app) -> str:
    """The model in use as the sidebar's list shows it."""
    choice = app.sidebar.selectbox[0]
    return choice.options[choice.index]


def test_every_session_starts_with_the_starter_model_shared_by_all(app):
    app.switch_page("app_pages/draw.py").run()
    other = new_session()
    other.run()
    assert not app.exception and all("no trained model" not in i.value for i in app.info)
    assert sidebar_choice(app).startswith("Starter ResNet-20 · 99.")
    assert [option.split(" · ")[0] for option in app.sidebar.selectbox[0].options] == [
        "Starter ResNet-20",
        "Starter plain-20",
    ]
    assert keys.ACTIVE_MODEL not in app.session_state  # nothing copied into the session
    assert active_model_of(app) is active_model_of(other)  # one model per server, read-only
    app.sidebar.selectbox[0].set_value(1).run()  # a student picks the plain twin
    assert not app.exception and sidebar_choice(app).startswith("Starter plain-20")
    assert any(i.value.startswith("Draw a digit") and "Starter plain-20 · " in i.value for i in app.info)
    assert app.session_state[keys.ACTIVE_MODEL].model is not active_model_of(other)


def active_model_of(app):
    from ui.models.model_list import starter_models

    return (
        app.session_state[keys.ACTIVE_MODEL].model
        if keys.ACTIVE_MODEL in app.session_state
        else starter_models()[0].model
    )


def test_a_worse_run_is_kept_in_the_list_and_does_not_replace_the_model_in_use(app):
    job = train_on_1000(app)
    assert not app.exception
    assert any("Test accuracy" in s.value and "measured once" in s.value for s in app.success)
    assert app.get("plotly_chart")
    work = job.work
    assert len(work.epochs) == 1 and work.epochs[0].train_images == 1000 and work.config.validation_size == 1000
    assert sidebar_choice(app).startswith("Starter ResNet-20")  # 1,000 digits score below the starter
    assert any("It is kept in the model list" in i.value for i in app.info)
    own = app.session_state[keys.OWN_MODELS]
    assert [m.model for m in own] == [work.result.model] and own[0].test_accuracy == work.result.test.accuracy
    by_label(app.button, "Use this run's model").click().run()
    assert app.session_state[keys.ACTIVE_MODEL].model is work.result.model
    assert sidebar_choice(app).startswith(f"Run {job.id[:4]}: resnet8 on 1,000 digits")


def test_a_finished_run_better_than_the_model_in_use_replaces_it(app, no_starters, trained_resnet18):
    finished_run(app, trained_resnet18)
    app.switch_page("app_pages/train.py").run()
    assert app.session_state[keys.ACTIVE_MODEL].model is trained_resnet18.model  # nothing better was in use
    assert any("now in use" in t.value for t in app.toast)
    assert any("Training finished. Test accuracy" in s.value for s in app.success)


def test_a_fashion_mnist_run_speaks_of_images_and_keeps_its_dataset(app):
    train_on_1000(app, "fashion-mnist")
    assert not app.exception
    assert any("on 10,000 test images" in s.value for s in app.success)
    assert any(m.value.startswith("**True ") and ", read as " in m.value for m in app.markdown)  # worst mistake
    assert sidebar_choice(app).startswith("Starter ResNet-20")  # other data: never switched in by itself
    by_label(app.button, "Use this run's model").click().run()
    assert app.session_state[keys.ACTIVE_MODEL].dataset == "fashion-mnist"
    assert any("trained on Fashion-MNIST" in c.value for c in app.sidebar.caption)


def test_a_link_to_a_run_shows_it_to_another_session_without_stop(app):
    job = start_custom_run(app, digits=10_000, epochs=5)  # long enough to be caught running
    try:
        wait_until(lambda: job.work.steps, seconds=120)  # trained a little: a Stop now keeps a model
        assert app.query_params[TRAINING] == job.id  # the link a reload or a classmate keeps
        viewer = new_session()  # a new session, empty state: a second browser with the link
        viewer.query_params[TRAINING] = job.id
        viewer.switch_page("app_pages/train.py").run()
        assert not viewer.exception and job_of(viewer) is job
        assert not any(b.label == "Stop" for b in viewer.button)
        assert any("only they can stop it" in c.value for c in viewer.caption)
        assert not job.stop(viewer.session_state[keys.OWNER_TOKEN]) and not job.stop_event.is_set()
        assert job.id in str(viewer.query_params[TRAINING]) and job.owner not in str(dict(viewer.query_params))
        viewer.switch_page("app_pages/overview.py").run()  # a page change clears the URL; the session puts it back
        assert viewer.query_params[TRAINING] == job.id
        app.run()
        assert any(b.label == "Stop" for b in app.button)
        by_label(app.button, "Stop").click().run()
        finish(job, seconds=120)
        assert job.status == "stopped"
        app.run()
        viewer.run()
        # A stopped run never replaces the model in use, in the starting session or the watching one.
        assert sidebar_choice(app).startswith("Starter ResNet-20") and sidebar_choice(viewer).startswith("Starter")
        assert [m.model for m in app.session_state[keys.OWN_MODELS]] == [job.work.result.model]
    finally:
        stop(job)

    gone = new_session()
    gone.query_params[TRAINING] = "a-run-this-server-never-had"
    gone.run()
    assert not gone.exception
    assert any("no longer on the server" in t.value for t in gone.toast)
    assert job_of(gone) is None and TRAINING not in gone.query_params


def test_a_run_stopped_before_its_first_step_keeps_nothing(app):
    job = start_custom_run(app, digits=10_000, epochs=5)
    stop(job)
    app.run()
    assert not job.work.has_model
    assert keys.OWN_MODELS not in app.session_state or not app.session_state[keys.OWN_MODELS]
    assert sidebar_choice(app).startswith("Starter ResNet-20")
    assert any("stopped before its first step" in w.value for w in app.warning)


def test_a_checkpoint_loaded_after_a_run_stays_active_on_the_train_page(app, no_starters, trained_resnet18):
    finished_run(app, trained_resnet18)
    app.run()
    assert app.session_state[keys.ACTIVE_MODEL].model is trained_resnet18.model  # the run was put in use
    loaded = ModelEntry(resnet18().eval(), "resnet18", "mnist", "uploaded other.pt", 98.0)
    app.session_state[keys.ACTIVE_MODEL] = loaded  # what the Draw page does with an upload
    app.switch_page("app_pages/train.py").run()
    assert app.session_state[keys.ACTIVE_MODEL] is loaded
    assert sidebar_choice(app) == "uploaded other.pt · 98.00%"


def test_the_identity_start_and_arithmetic_settings_reach_the_training_config(app):
    app.switch_page("app_pages/train.py").run()
    assert [t.label for t in app.toggle] == ["Shortcuts", "Augmentation", "Blocks start as identity"]
    assert app.toggle[0].value is True and app.toggle[2].value is False  # identity off: it did not help ResNet-18
    arithmetic = next(s for s in app.selectbox if s.label == "Arithmetic")
    assert arithmetic.value == "auto" and arithmetic.options == ["auto", "fp32", "bf16"]
    app.toggle[2].set_value(True)
    arithmetic.set_value("bf16")
    by_label(app.button, "Start training").click().run()
    job = job_of(app)
    stop(job)  # the settings are what this test is about, not another training run
    config = job.work.config
    assert config.zero_init_residual is True and config.residual is True and config.precision == "bf16"
    assert job.status in ("stopped", "done"), job.error


def test_shortcuts_off_trains_the_plain_twin_and_names_it_so(app):
    app.switch_page("app_pages/train.py").run()
    by_label(app.toggle, "Blocks start as identity").set_value(True)
    by_label(app.toggle, "Shortcuts").set_value(False)
    by_label(app.button, "Start training").click().run()
    job = job_of(app)
    stop(job)
    config = job.work.config
    assert config.residual is False and config.zero_init_residual is False  # no shortcut: no identity start
    assert not app.exception and "without shortcuts" in app.expander[0].label


def test_a_drawing_in_the_canvas_state_gives_a_prediction(app, trained_resnet18, mnist_test):
    images, labels = mnist_test
    app.session_state[keys.ACTIVE_MODEL] = ModelEntry(trained_resnet18.model, "resnet18", "mnist", "test", 97.0)
    index = next(i for i in range(100) if labels[i] == 3)
    app.session_state[keys.DRAWING] = digit_on_canvas(images[index], 200, 40, 40)
    app.switch_page("app_pages/draw.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Prediction"] == "3"
    confidence = next(m.proto.delta for m in app.metric if m.label == "Prediction")
    assert float(confidence.removesuffix("% sure")) > 50
    # The same drawing feeds the Feature Maps page, which opens on the model with the largest maps.
    app.switch_page("app_pages/feature_maps.py").run()
    assert not app.exception
    assert by_label(app.selectbox, "Maps of").value == 0  # the starter ResNet-20
    assert {m.label: m.value for m in app.metric}[SHAPE] == "16×28×28"
    by_label(app.selectbox, "Maps of").set_value(len(by_label(app.selectbox, "Maps of").options) - 1).run()
    assert {m.label: m.value for m in app.metric}[SHAPE] == "64×7×7"
    assert any("every block sees a 7×7 map" in c.value for c in app.caption)  # why the maps are small
    by_label(app.select_slider, "Layer").set_value("layer4.1").run()
    assert not app.exception
    assert {m.label: m.value for m in app.metric}[SHAPE] == "512×1×1"
    assert any("Each bar is one of 512 channels" in m.value for m in app.markdown)  # 1×1 maps as bars
    # The input's attribution maps, folded away: worked out only once opened.
    assert "Where it looks: which parts of this input made the answer" in [e.label for e in app.expander]
    assert "Explain the class" not in [s.label for s in app.selectbox]


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_odd_uploads_on_the_draw_page_get_a_message_not_a_traceback(app, trained_resnet18):
    app.session_state[keys.ACTIVE_MODEL] = ModelEntry(trained_resnet18.model, "resnet18", "imagenet", "test", 97.0)
    app.switch_page("app_pages/draw.py").run()
    next(r for r in app.radio if r.label == "Input").set_value("Upload a picture").run()
    uploads = {
        "blank.png": (_png(Image.new("L", (200, 200), 255)), "info", "This picture is blank: there is no digit in it"),
        "huge.png": (_png(Image.new("1", (13_500, 13_500))), "error", "far larger than the limit"),
        "notes.png": (b"not a picture", "error", "This file is not a PNG"),
    }
    for name, (data, kind, message) in uploads.items():
        by_label(app.file_uploader, "A picture of one digit").set_value((name, data, "image/png")).run()
        assert not app.exception, name
        assert any(message in element.value for element in getattr(app, kind)), name
        if kind == "error":  # the error says what to do; the upload hint does not repeat it under it
            assert not any("Upload a picture of one digit" in element.value for element in app.info), name


def test_the_draw_page_names_the_classes_the_model_was_trained_on(app, trained_resnet18, mnist_test):
    images, labels = mnist_test
    # The MNIST-trained net under a Fashion-MNIST label: its class 3 must read as Fashion's class 3.
    active = ModelEntry(trained_resnet18.model, "resnet18", "mnist", "test", 97.0, dataset="fashion-mnist")
    app.session_state[keys.ACTIVE_MODEL] = active
    app.session_state[keys.DRAWING] = digit_on_canvas(
        images[next(i for i in range(100) if labels[i] == 3)], 200, 40, 40
    )
    app.switch_page("app_pages/draw.py").run()
    assert not app.exception
    assert {m.label: m.value for m in app.metric}["Prediction"] == DATASETS["fashion-mnist"].classes[3]


def test_the_feature_maps_page_shows_test_images_from_the_models_own_dataset(app, trained_resnet18):
    _, labels = load_split("fashion-mnist", train=False, download=False)
    active = ModelEntry(trained_resnet18.model, "resnet18", "mnist", "test", 97.0, dataset="fashion-mnist")
    app.session_state[keys.ACTIVE_MODEL] = active
    app.switch_page("app_pages/feature_maps.py").run()
    maps_of = by_label(app.selectbox, "Maps of")
    maps_of.set_value(len(maps_of.options) - 1).run()  # the Fashion-MNIST model, after the starters
    by_label(app.radio, "Pick").set_value("by class").run()
    bag = DATASETS["fashion-mnist"].classes.index("Bag")
    by_label(app.selectbox, "Class").set_value(bag).run()
    assert not app.exception
    first_bag = int((labels == bag).nonzero()[0])
    assert f"Fashion-MNIST test image #{first_bag}, label Bag" in [c.value for c in app.caption]
    assert app.session_state[f"{keys.TEST_IMAGE}:maps"] == first_bag


def test_without_a_model_the_pages_offer_a_way_forward(app, no_starters):
    checkpoint_hints = {
        "app_pages/draw.py": "or load a checkpoint above.",  # its uploader sits above the message
        "app_pages/feature_maps.py": "or load a checkpoint on the Draw & Predict page.",  # it has no uploader
    }
    for page, hint in checkpoint_hints.items():
        app.switch_page(page).run()
        assert any("no trained model yet" in i.value and i.value.endswith(hint) for i in app.info)
        assert any(b.label == "Train a quick resnet8 now" for b in app.button)


def test_while_the_sessions_run_trains_no_page_offers_a_second_one(app, no_starters):
    job = start_custom_run(app, epochs=20)
    try:
        for page in ("app_pages/draw.py", "app_pages/feature_maps.py"):
            app.switch_page(page).run()
            assert not app.exception
            assert not any(b.label == "Train a quick resnet8 now" for b in app.button)
            assert any("Your training run is still going" in i.value for i in app.info)
        assert job_of(app) is job
    finally:
        stop(job)


def test_sessions_do_not_share_models(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_DATA_DIR", str(data_dir))
    first = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    second = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    first.session_state[keys.ACTIVE_MODEL] = ModelEntry(resnet18().eval(), "resnet18", "mnist", "session A", None)
    first.run()
    second.run()
    assert sidebar_choice(first) == "session A" and sidebar_choice(second).startswith("Starter ResNet-20")
    assert keys.ACTIVE_MODEL not in second.session_state and keys.OWN_MODELS not in second.session_state


def test_without_data_train_explains_and_other_pages_still_work(monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_DATA_DIR", str(tmp_path))
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    app.switch_page("app_pages/train.py").run()
    warning = " ".join(w.value for w in app.warning)
    assert "not on this machine yet" in warning and str(tmp_path / "MNIST" / "raw") in warning
    assert "RESNET_DATA_DIR" in warning
    for page in ("app_pages/overview.py", "app_pages/architecture.py"):
        app.switch_page(page).run()
        assert not app.exception and not app.error
    app.switch_page("app_pages/residual_lab.py").run()
    assert not app.exception and "RESNET_DATA_DIR" in " ".join(e.value for e in app.error)
    app.switch_page("app_pages/draw.py").run()  # the starter model needs no data files
    assert not app.exception and sidebar_choice(app).startswith("Starter ResNet-20")


def test_odd_entries_in_the_checkpoints_folder_do_not_break_the_draw_page(app, tmp_path, trained_resnet18):
    from resnet_core.files.checkpoints import save_checkpoint

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    for kind in ("a folder", "a dangling link", "a pipe"):
        bad_checkpoint(folder, kind, name=f"{kind.split()[-1]}.pt")
    save_checkpoint(folder / "real.pt", trained_resnet18.model, trained_resnet18.config, {"test_accuracy": 97.5})
    app.switch_page("app_pages/draw.py").run()
    assert not app.exception and not app.error
    saved = by_label(app.selectbox, "Saved checkpoint")
    assert saved.options == ["real.pt"]
    by_label(app.button, "Use it").click().run()
    assert not app.exception and sidebar_choice(app) == "checkpoint real.pt · 97.50%"


def test_a_waiting_run_is_told_its_place_in_line_and_when_it_starts(app):
    first = start_custom_run(app, digits=10_000, epochs=5)
    classmate = new_session()
    second = start_custom_run(classmate)
    try:
        wait_until(lambda: first.work.steps, seconds=120)
        classmate.run()
        waiting = " ".join(i.value for i in classmate.info)
        assert "1 run is ahead of yours (yours is number 2 in line)" in waiting
        assert "Yours starts in about" in waiting and "and then takes about" in waiting
        assert second.estimated_seconds > 0 and second.status == "queued"
        assert any(b.label == "Stop" for b in classmate.button)  # a run waiting in line can be stopped
        app.run()  # the first's page: its progress bar says how far it is and how long is left
        assert not app.exception and not app.info
    finally:
        for job in (second, first):
            stop(job)


def test_a_checkpoint_for_other_images_is_refused_with_the_reason_and_nothing_changes(app, tmp_path):
    from resnet_core.files.checkpoints import checkpoint_bytes
    from resnet_core.networks.resnet import build_model

    colour_model = checkpoint_bytes(build_model("resnet8", in_chans=3).eval())
    app.switch_page("app_pages/draw.py").run()
    by_label(app.file_uploader, "Checkpoint file (.pt) made by this project").set_value(
        ("colour.pt", colour_model, "application/octet-stream")
    ).run()
    assert not app.exception
    assert any("built for 3-channel images" in e.value for e in app.error)
    assert sidebar_choice(app).startswith("Starter ResNet-20")
    app.run()  # the reason stays while the file does, and the file is not tried again
    assert any("built for 3-channel images" in e.value for e in app.error)


def test_a_dot_on_the_canvas_is_no_digit_and_a_photo_of_a_digit_is_read(app, mnist_test):
    import numpy as np

    from tests.photo_digits import photo_of_digit

    dot = np.zeros((280, 280, 4), np.uint8)
    dot[..., 3] = 255
    dot[135:145, 135:145, :3] = 255
    app.session_state[keys.DRAWING] = dot
    app.switch_page("app_pages/draw.py").run()
    assert not app.exception and any("No digit found" in i.value for i in app.info)
    assert not app.metric  # no answer is made up for a dot

    images, labels = mnist_test
    index = next(i for i in range(100) if labels[i] == 7)
    photo = photo_of_digit(images[index].numpy(), np.random.default_rng(0))
    by_label(app.radio, "Input").set_value("Upload a picture").run()
    by_label(app.file_uploader, "A picture of one digit").set_value(("seven.jpg", photo, "image/jpeg")).run()
    assert not app.exception
    assert {m.label: m.value for m in app.metric}["Prediction"] == "7"


def test_the_draw_page_shows_where_the_model_looks_with_occlusion_and_the_sanity_check(app, mnist_test):
    images, labels = mnist_test
    index = next(i for i in range(100) if labels[i] == 7)
    app.session_state[keys.DRAWING] = digit_on_canvas(images[index], 200, 40, 40)
    app.switch_page("app_pages/draw.py").run()
    assert not app.exception
    assert "Where it looks" in [e.label for e in app.expander]
    assert "Explain the class" not in [s.label for s in app.selectbox]  # folded: no maps worked out per stroke
    app.session_state["draw:where"] = True  # the student opens it
    app.run()
    assert by_label(app.selectbox, "Explain the class").value == 7  # the starter's answer
    assert app.get("image")[-1].captions == [
        "Grad-CAM, layer1 (28×28)",
        "Grad-CAM, layer2 (14×14)",
        "Grad-CAM, layer3 (7×7)",
        "saliency",
        "Integrated Gradients",
    ]
    by_label(app.toggle, "Cover parts of the digit (occlusion)").set_value(True).run()
    by_label(app.toggle, "Sanity check").set_value(True).run()
    assert not app.exception
    verdict = next(c.value for c in app.caption if c.value.startswith("Grad-CAM at layer3. Rank correlation"))
    assert float(re.search(r"pictures: (-?[\d.]+)", verdict).group(1)) < 0.5 and "Passed" in verdict
    by_label(app.selectbox, "Explain the class").set_value(1).run()  # any class, not only the answer
    assert not app.exception


def test_why_it_fails_shows_the_starters_mistakes_and_places_the_drawing_among_the_test_digits(app, mnist_test):
    images, labels = mnist_test
    app.session_state[keys.DRAWING] = digit_on_canvas(images[next(i for i in range(50) if labels[i] == 4)], 200, 40, 40)
    app.switch_page("app_pages/mistakes.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    right = float(metrics["Right, of these 2,000"].rstrip("%"))
    mistakes = int(metrics["Mistakes"].split(" of ")[0])
    assert 98.5 < right < 100 and mistakes == round(2000 * (100 - right) / 100)  # the starter's 99.58% on all
    # The sidebar's figure is on all 10,000 test digits, and the page says so.
    assert any(
        "The sidebar's 99.58% is the score recorded with the model" in c.value and "all 10,000 test digits" in c.value
        for c in app.caption
    )
    # The weakest: every class whose accuracy prints as the lowest figure (98.97% and 98.98% both read 99.0%).
    printed = [f"{a:.1f}" for a in json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["y"]]
    named = metrics[next(label for label in metrics if label.startswith("Weakest"))].split(":")[0].split(", ")
    assert named == [str(c) for c, a in enumerate(printed) if float(a) == min(map(float, printed))]
    hardest = app.get("image")[1].captions  # after the confusion cell's images
    assert len(hardest) == 24 and all(re.fullmatch(r"\d \d+%, said \d", c) for c in hardest)
    charts = [c.proto.spec for c in app.get("plotly_chart")]
    assert any('"your drawing"' in spec for spec in charts)  # the drawing among the test digits
    assert {b.proto.label for b in app.get("download_button")} == {"Download ONNX", "Download TorchScript"}
    by_label(app.selectbox, "Image").set_value(by_label(app.selectbox, "Image").options[1]).run()
    assert not app.exception and [e.label for e in app.expander].count("Where it looks") == 1
    assert "Explain the class" in [s.label for s in app.selectbox]  # open here: the close look asked for


def test_teach_it_adds_drawings_learns_new_symbols_and_answers_with_them(app, data_dir):
    fashion, fashion_labels = load_split("fashion-mnist", train=False, download=False)
    app.switch_page("app_pages/teach.py").run()
    by_label(app.text_input, "Your symbols (2 to 4, separated by commas)").set_value("trouser").run()
    assert any("Name 2 to 4 symbols" in w.value and "Until then: circle, cross, heart." in w.value for w in app.warning)
    by_label(app.text_input, "Your symbols (2 to 4, separated by commas)").set_value("trouser, bag, sneaker").run()
    # A drawing on the canvas becomes an example of the chosen symbol, and the canvas is emptied.
    first_trouser = int((fashion_labels == 1).nonzero()[0])
    app.session_state[keys.TEACH_DRAWING] = digit_on_canvas(fashion[first_trouser], 200, 40, 40)
    app.run()
    by_label(app.button, "Add as an example of trouser").click().run()
    assert not app.exception
    assert len(app.session_state[keys.TEACH_EXAMPLES]) == 1 and keys.TEACH_DRAWING not in app.session_state
    # Four more of each (as if drawn), then Teach.
    for label, fashion_label in enumerate((1, 8, 7)):
        members = (
            (fashion_labels == fashion_label).nonzero().flatten()[1:6]
            if label == 0
            else ((fashion_labels == fashion_label).nonzero().flatten()[:5])
        )
        for i in members.tolist()[: 4 if label == 0 else 5]:
            app.session_state[keys.TEACH_EXAMPLES].append((label, to_model_input(fashion[i : i + 1])))
    app.run()
    by_label(app.button, "Teach").click().run()
    assert not app.exception
    metrics = {m.label: m for m in app.metric}
    assert metrics["Parameters trained"].value == "195"  # 64 features × 3 symbols + 3: the new head alone
    assert re.fullmatch(r"[0-3] of 3", metrics["Right on held-out drawings"].value)  # each symbol's last drawing
    assert app.session_state[keys.TAUGHT].model.fc.out_features == 3
    assert sidebar_choice(app).startswith("Starter ResNet-20")  # a copy learned: the model in use is unchanged
    # Try it: a bag drawn on the canvas is answered with the new symbols.
    bag = int((fashion_labels == 8).nonzero()[10])
    by_label(app.radio, "Canvas").set_value("Try it").run()
    app.session_state[keys.TEACH_DRAWING] = digit_on_canvas(fashion[bag], 200, 40, 40)
    app.run()
    assert not app.exception
    assert {m.label: m.value for m in app.metric}["It says"] in ("trouser", "bag", "sneaker")


def test_runs_lists_starters_and_saved_files_compares_them_and_repeats_one_on_the_train_page(app, tmp_path):
    import shutil

    folder = tmp_path / "checkpoints"
    folder.mkdir()
    shutil.copy(REPO / "assets" / "starter-plain20.pt", folder / "my-plain-run.pt")
    bad_checkpoint(folder, "a text file", "notes.pt")  # unreadable: left out
    app.switch_page("app_pages/runs.py").run()
    assert not app.exception
    shown = app.table[0].value  # the class's table, at body size
    assert shown.index.tolist()[:2] == ["Starter ResNet-20", "Starter plain-20"]
    assert (
        shown["test accuracy (%)"].tolist()[:2] == ["99.58", "99.52"] and shown["test digits"].tolist()[0] == "10,000"
    )
    table = app.dataframe[0].value  # every column
    # The server's finished runs follow (other tests' runs, in this process's shared registry), then the lab's twins.
    assert set(table["from"].tolist()[3:]) <= {"run on this server", "Residual Lab run", "Residual Lab, in advance"}
    assert table["from"].tolist()[-6:] == ["Residual Lab, in advance"] * 6  # 8, 20 and 56 layers, with and without
    assert table["test digits"].tolist()[:3] == [10_000] * 3 and table["test digits"].tolist()[-1] == 1_000
    assert any("tested on fewer are left out" in c.value for c in app.caption)  # the lab's 1,000-digit twins
    ref = load_reference(REPO / "assets" / REFERENCE_FILE)
    lab_time = format_duration(ref.runs["resnet56"]["seconds"]) + " with its twin"  # the pair trains together
    assert shown.loc["Lab: resnet56 with shortcuts", "training time"] == lab_time
    # Twins' recorded times far apart (the starters' are, twofold) are said to be the machine's, not the shortcuts'.
    residual, plain = (load_checkpoint(REPO / "assets" / f"starter-{n}.pt").history for n in ("resnet20", "plain20"))
    far_apart = not 1 / 1.5 <= sum(residual["seconds"]) / sum(plain["seconds"]) <= 1.5
    assert far_apart == any("most of that gap is the machine's load" in c.value for c in app.caption)
    table = table.head(3)
    assert table["name"].tolist() == ["Starter ResNet-20", "Starter plain-20", "my-plain-run.pt"]
    assert table["test accuracy (%)"].tolist() == [99.58, 99.52, 99.52]
    starter = load_checkpoint(REPO / "assets" / "starter-resnet20.pt").model
    assert table["parameters"].tolist()[0] == sum(p.numel() for p in starter.parameters())
    assert table["network"].tolist()[1] == "resnet20, small stem, plain" and table["recipe"].tolist()[0] == "fast"
    by_label(app.multiselect, "Compare").set_value([2]).run()
    by_label(app.button, "Train my-plain-run.pt again on the Train page").click().run()
    assert not app.exception
    state = app.session_state
    assert state["train:arch"] == "resnet20" and state["train:length"] == "Custom"
    assert state["train:epochs"] == 4 and state["train:digits"] == 55_000 and state["train:lr"] == 3e-3
    assert by_label(app.selectbox, "Network").value == "resnet20"  # the Train page shows them


def test_the_train_pages_defaults_are_the_sprint_at_the_quick_length(app):
    app.switch_page("app_pages/train.py").run()
    quick = next(o for o in by_label(app.radio, "How long").options if o.startswith("Quick"))
    assert quick.startswith("Quick: all 55,000 digits × 1 pass")  # and the time it takes here, measured
    by_label(app.button, "Start training").click().run()
    job = job_of(app)
    stop(job)
    assert job.work.config == quick_config() == RUN_LENGTHS["Quick"].apply(recipe("sprint"))


def test_the_train_chart_says_why_training_figures_sit_below_validation():
    sprint = why_training_looks_worse(recipe("sprint"))
    # Targets 91% sure of the right class (label smoothing 0.1 over 10 classes): entropy 0.50.
    assert "only 91% sure of the right class" in sprint and "cannot fall below 0.50" in sprint
    assert "smoothing" not in why_training_looks_worse(recipe("classic"))


def test_while_the_machine_trains_run_lengths_say_why_they_have_no_time(app):
    job = start_custom_run(app, digits=5_000, epochs=50)
    try:
        by_label(app.selectbox, "Network").set_value("resnet44").run()  # a net not timed on this server yet
        assert any(c.value.startswith("No times yet: this machine is training") for c in app.caption)
        assert all(
            option.endswith("passes") or option.endswith("pass") or option == "Custom"
            for option in by_label(app.radio, "How long").options
        )
    finally:
        stop(job)
