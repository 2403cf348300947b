"""Every page through Streamlit's AppTest: real scripts, real torch, real MNIST, no browser."""

import io
import time

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from resnet_core.data import DATASETS, load_split
from resnet_core.models import resnet18
from resnet_core.summary import layer_table
from tests.conftest import REPO, digit_on_canvas
from ui import keys
from ui.models import ActiveModel
from ui.session_job import URL_PARAM

PAGES = [
    "app_pages/overview.py",
    "app_pages/architecture.py",
    "app_pages/train.py",
    "app_pages/draw.py",
    "app_pages/feature_maps.py",
    "app_pages/residual_lab.py",
]


def wait_for(condition, seconds: float) -> None:
    """Poll a background thread's result; the assertions after the call say what was expected."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.5)


@pytest.fixture
def app(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_DATA_DIR", str(data_dir))
    monkeypatch.setenv("RESNET_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    return AppTest.from_file(str(REPO / "app.py"), default_timeout=120)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(app, page):
    app.run()
    app.switch_page(page).run()
    assert not app.exception
    assert not app.error


def test_architecture_table_has_the_rows_torchinfo_reports(app):
    app.switch_page("app_pages/architecture.py").run()
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


def train_on_1000(app, dataset: str = "mnist"):
    """Start a 1,000-image run on the Train page, wait for it, and draw the page once more."""
    app.switch_page("app_pages/train.py").run()
    app.selectbox[2].set_value(dataset)
    app.selectbox[3].set_value("1,000 images (seconds)")
    app.button[0].click().run()
    job = app.session_state[keys.TRAINING_JOB]
    wait_for(lambda: job.finished, seconds=300)
    assert job.status == "done", job.error
    app.run()
    return job


def test_a_tiny_training_run_finishes_with_chart_and_accuracy(app):
    job = train_on_1000(app)
    assert not app.exception
    assert any("Test accuracy" in s.value for s in app.success)
    assert app.get("plotly_chart")
    active = app.session_state[keys.ACTIVE_MODEL]
    assert active.source == "trained in this session" and active.test_accuracy == job.result.test.accuracy
    assert len(job.epochs) == 1 and job.epochs[0].train_images == 1000


def test_a_fashion_mnist_run_speaks_of_images_and_keeps_its_dataset(app):
    train_on_1000(app, "fashion-mnist")
    assert not app.exception
    assert any("on 10,000 test images" in s.value for s in app.success)
    assert any("Misclassified test images" in m.value for m in app.markdown)
    assert app.session_state[keys.ACTIVE_MODEL].dataset == "fashion-mnist"
    assert any("trained on Fashion-MNIST" in m.value for m in app.sidebar.markdown)


def test_a_reloaded_page_finds_its_run_through_the_url(app):
    job = train_on_1000(app)
    assert app.query_params[URL_PARAM] == job.id  # the link a reload keeps
    reloaded = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)  # a new session, empty state
    reloaded.query_params[URL_PARAM] = job.id
    reloaded.switch_page("app_pages/train.py").run()
    assert not reloaded.exception
    assert reloaded.session_state[keys.TRAINING_JOB] is job
    assert any("Training finished" in s.value for s in reloaded.success)
    assert reloaded.session_state[keys.ACTIVE_MODEL].model is job.result.model
    assert any("trained in this session" in m.value for m in reloaded.sidebar.markdown)

    gone = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    gone.query_params[URL_PARAM] = "a-run-this-server-never-had"
    gone.run()
    assert not gone.exception
    assert any("no longer on the server" in t.value for t in gone.toast)
    assert keys.TRAINING_JOB not in gone.session_state and URL_PARAM not in gone.query_params


def test_a_checkpoint_loaded_after_a_run_stays_active_on_the_train_page(app):
    train_on_1000(app)
    loaded = ActiveModel(resnet18().eval(), "resnet18", "mnist", "uploaded other.pt", 98.0)
    app.session_state[keys.ACTIVE_MODEL] = loaded  # what the Draw page does with an upload
    app.switch_page("app_pages/train.py").run()
    assert app.session_state[keys.ACTIVE_MODEL] is loaded
    assert any("uploaded other.pt" in m.value for m in app.sidebar.markdown)


def test_the_identity_start_and_arithmetic_settings_reach_the_training_config(app):
    app.switch_page("app_pages/train.py").run()
    assert [t.label for t in app.toggle] == ["Augmentation", "Blocks start as identity"]
    assert app.toggle[1].value is False  # off like the fast recipe: it did not help ResNet-18
    arithmetic = next(s for s in app.selectbox if s.label == "Arithmetic")
    assert arithmetic.value == "auto" and arithmetic.options == ["auto", "fp32", "bf16"]
    app.selectbox[3].set_value("1,000 images (seconds)")
    app.toggle[1].set_value(True)
    arithmetic.set_value("bf16")
    app.button[0].click().run()
    job = app.session_state[keys.TRAINING_JOB]
    job.stop()  # the settings are what this test is about, not another training run
    wait_for(lambda: job.finished, seconds=120)
    assert job.config.zero_init_residual is True and job.config.residual is True
    assert job.config.precision == "bf16"
    assert job.status in ("stopped", "done"), job.error


def test_a_drawing_in_the_canvas_state_gives_a_prediction(app, trained_resnet18, mnist_test):
    images, labels = mnist_test
    app.session_state[keys.ACTIVE_MODEL] = ActiveModel(trained_resnet18.model, "resnet18", "mnist", "test", 97.0)
    index = next(i for i in range(100) if labels[i] == 3)
    app.session_state[keys.DRAWING] = digit_on_canvas(images[index], 200, 40, 40)
    app.switch_page("app_pages/draw.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Prediction"] == "3"
    assert float(metrics["Confidence"].rstrip("%")) > 50
    # The same drawing feeds the Feature Maps page.
    app.switch_page("app_pages/feature_maps.py").run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Shape (C×H×W)"] == "64×7×7"


def _png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_odd_uploads_on_the_draw_page_get_a_message_not_a_traceback(app, trained_resnet18):
    app.session_state[keys.ACTIVE_MODEL] = ActiveModel(trained_resnet18.model, "resnet18", "imagenet", "test", 97.0)
    app.switch_page("app_pages/draw.py").run()
    next(r for r in app.radio if r.label == "Input").set_value("Upload a picture").run()
    uploads = {
        "blank.png": (_png(Image.new("L", (200, 200), 255)), "info", "This picture is blank: there is no digit in it"),
        "huge.png": (_png(Image.new("1", (13_500, 13_500))), "error", "far larger than the limit"),
        "notes.png": (b"not a picture", "error", "This file is not a PNG"),
    }
    for name, (data, kind, message) in uploads.items():
        app.file_uploader[0].set_value((name, data, "image/png")).run()
        assert not app.exception, name
        assert any(message in element.value for element in getattr(app, kind)), name


def test_the_draw_page_names_the_classes_the_model_was_trained_on(app, trained_resnet18, mnist_test):
    images, labels = mnist_test
    # The MNIST-trained net under a Fashion-MNIST label: its class 3 must read as Fashion's class 3.
    active = ActiveModel(trained_resnet18.model, "resnet18", "mnist", "test", 97.0, dataset="fashion-mnist")
    app.session_state[keys.ACTIVE_MODEL] = active
    app.session_state[keys.DRAWING] = digit_on_canvas(
        images[next(i for i in range(100) if labels[i] == 3)], 200, 40, 40
    )
    app.switch_page("app_pages/draw.py").run()
    assert not app.exception
    assert {m.label: m.value for m in app.metric}["Prediction"] == DATASETS["fashion-mnist"].classes[3]


def test_the_feature_maps_page_shows_test_images_from_the_models_own_dataset(app, trained_resnet18):
    _, labels = load_split("fashion-mnist", train=False, download=False)
    active = ActiveModel(trained_resnet18.model, "resnet18", "mnist", "test", 97.0, dataset="fashion-mnist")
    app.session_state[keys.ACTIVE_MODEL] = active
    app.switch_page("app_pages/feature_maps.py").run()
    app.radio[1].set_value("by class").run()
    bag = DATASETS["fashion-mnist"].classes.index("Bag")
    app.selectbox[0].set_value(bag).run()
    assert not app.exception
    first_bag = int((labels == bag).nonzero()[0])
    assert f"Fashion-MNIST test image #{first_bag}, label Bag" in [c.value for c in app.caption]
    assert app.session_state[keys.DIGIT_INDEX] == first_bag


def test_without_a_model_the_pages_offer_a_way_forward(app):
    checkpoint_hints = {
        "app_pages/draw.py": "or upload a checkpoint above.",  # its uploader sits above the message
        "app_pages/feature_maps.py": "or load a checkpoint on the Draw & Predict page.",  # it has no uploader
    }
    for page, hint in checkpoint_hints.items():
        app.switch_page(page).run()
        assert any("no trained model yet" in i.value and i.value.endswith(hint) for i in app.info)
        assert any(b.label == "Train a quick ResNet-18 now" for b in app.button)


def test_while_the_sessions_run_trains_no_page_offers_a_second_one(app):
    app.switch_page("app_pages/train.py").run()
    app.selectbox[3].set_value("1,000 images (seconds)")
    app.number_input[0].set_value(20)
    app.button[0].click().run()
    job = app.session_state[keys.TRAINING_JOB]
    try:
        for page in ("app_pages/draw.py", "app_pages/feature_maps.py"):
            app.switch_page(page).run()
            assert not app.exception
            assert not any(b.label == "Train a quick ResNet-18 now" for b in app.button)
            assert any("Your training run is still going" in i.value for i in app.info)
        assert app.session_state[keys.TRAINING_JOB] is job
    finally:
        job.stop()
        wait_for(lambda: job.finished, seconds=120)


def test_sessions_do_not_share_models(data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("RESNET_DATA_DIR", str(data_dir))
    first = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    second = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    first.session_state[keys.ACTIVE_MODEL] = ActiveModel(resnet18().eval(), "resnet18", "mnist", "session A", None)
    first.run()
    second.run()
    assert "session A" in " ".join(m.value for m in first.sidebar.markdown)
    assert keys.ACTIVE_MODEL not in second.session_state


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
    app.switch_page("app_pages/draw.py").run()
    assert any(b.label == "Train a quick ResNet-18 now" and b.disabled for b in app.button)
