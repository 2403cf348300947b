"""The Residual Lab page through Streamlit's AppTest, with ResNet-8 twins on 1,000 real digits."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from resnet_core.training.progress import format_duration
from tests.conftest import REPO
from tests.test_pages import finish, stop
from tests.test_teacher import sign_in_as_teacher
from ui import keys, teacher
from ui.caches import made_for
from ui.jobs.job import OWNER_GONE_S
from ui.jobs.registry import jobs
from ui.jobs.session import TWINS
from ui.lab.in_advance import reference
from ui.lab.settings import DEFAULTS, sweep_key, twin_key
from ui.lab.view import lesion_results, loss_slices, loss_text

PAGE = "app_pages/residual_lab.py"


@pytest.fixture
def lab_page(data_dir, monkeypatch):
    monkeypatch.setenv("RESNET_DATA_DIR", str(data_dir))
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    app.switch_page(PAGE).run()
    return app


def by_label(widgets, label):
    return next(w for w in widgets if w.label == label)


def choose(app, digits="1,000 digits", depth="resnet8", epochs=1):
    by_label(app.selectbox, "Training digits").set_value(digits)
    by_label(app.number_input, "Epochs").set_value(epochs)
    by_label(app.selectbox, "Depth").set_value(depth)
    app.run()


def ratio_chart(app) -> dict:
    """The ‖F(x)‖ / ‖x‖ bars of Inside a block, as Plotly's figure."""
    figures = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return next(f for f in figures if "‖" in json.dumps(f["layout"]["yaxis"].get("title", ""), ensure_ascii=False))


def markdown(app) -> str:
    return " ".join(m.value for m in app.markdown)


def train_twins(app):
    by_label(app.button, "Train the twins").click().run()
    job = jobs.find(twin_key("resnet8", "1,000 digits", 1))
    finish(job, seconds=120)
    assert job.status == "done", job.error
    app.run()
    return job


def test_a_twin_run_shows_both_curves_gradient_flow_and_the_trained_blocks(lab_page):
    app = lab_page
    assert not app.exception
    choose(app)
    job = train_twins(app)
    assert not app.exception
    text = markdown(app)
    assert "Measured in this run" in text and "Measured:** The gradient reaching the first block is" in text
    final = job.work.twins.final
    assert f"{final['residual']['test_accuracy']:.1f}% with" in text
    assert len(app.get("plotly_chart")) >= 4  # curves, gradient heatmap, block parts, ratio bars
    assert by_label(app.radio, "Network").options == ["residual", "plain", "model in use (resnet20)"]  # the starter
    by_label(app.radio, "Network").set_value("plain").run()
    assert not app.exception and any("‖F(x)‖ / ‖x‖" in c.value for c in app.caption)

    by_label(app.button, "Remove each block in turn").click().run()
    assert not app.exception
    said = markdown(app)  # a short run: the verdict depends on whether the nets learned, the measure is always there
    assert "Measured on 500 test digits** (the first 500 of the twins' 1,000" in said
    assert "with nothing removed the residual net scores" in said
    assert "single removals cost the residual net less than 5 points" in said or "Neither net learned" in said
    assert made_for(job.work.twins, "lesions") and set(lesion_results(job.work.twins)) == {"residual", "plain"}
    by_label(app.multiselect, "Or remove several blocks together").set_value(["layer1.0"]).run()
    assert [m.label for m in app.metric][-2:] == ["residual net without 1 block(s)", "plain net without 1 block(s)"]

    by_label(app.button, "Slice the landscape").click().run()
    assert not app.exception
    slices = loss_slices(job.work.twins)
    assert f"(α = 0) it is {loss_text(slices['residual'].losses[10])}" in markdown(app)


def test_another_session_with_the_same_settings_watches_the_run_without_a_stop(data_dir, monkeypatch):
    monkeypatch.setenv("RESNET_DATA_DIR", str(data_dir))
    owner = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
    owner.switch_page(PAGE).run()
    choose(owner, digits="10,000 digits", depth="resnet20", epochs=5)  # long enough to be caught running
    by_label(owner.button, "Train the twins").click().run()
    job = jobs.find(twin_key("resnet20", "10,000 digits", 5))
    try:
        assert any(b.label == "Stop" for b in owner.button)
        assert owner.query_params[TWINS] == job.id
        watcher = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
        watcher.switch_page(PAGE).run()
        choose(watcher, digits="10,000 digits", depth="resnet20", epochs=5)
        assert not watcher.exception
        assert not any(b.label in ("Stop", "Train the twins") for b in watcher.button)
        assert any("only they can stop it" in c.value for c in watcher.caption)
        assert watcher.session_state[keys.OWNER_TOKEN] != owner.session_state[keys.OWNER_TOKEN]
        assert not job.stop(watcher.session_state[keys.OWNER_TOKEN]) and not job.stop_event.is_set()

        owner.switch_page("app_pages/overview.py").run()
        owner.switch_page(PAGE).run()  # coming back finds the same settings, so the same run, with its Stop
        assert by_label(owner.selectbox, "Training digits").value == "10,000 digits"
        assert any(b.label == "Stop" for b in owner.button)

        job.owner_seen -= OWNER_GONE_S + 1  # the owner closed the tab (a reload is a new session)
        watcher.run()
        assert any("has left, so anyone may stop it" in c.value for c in watcher.caption)
        assert any(b.label == "Stop" for b in watcher.button)

        # The run's link, opened in a new browser, opens the lab with the run's settings, watching it.
        linked = AppTest.from_file(str(REPO / "app.py"), default_timeout=180)
        linked.query_params[TWINS] = job.id
        linked.switch_page(PAGE).run()
        assert not linked.exception
        assert by_label(linked.selectbox, "Depth").value == "resnet20"
        assert by_label(linked.selectbox, "Training digits").value == "10,000 digits"
        assert not any(b.label == "Train the twins" for b in linked.button)
    finally:
        stop(job)
    assert job.status == "stopped"
    owner.run()
    assert any(b.label == "Train the twins again" for b in owner.button)


def test_a_depth_sweep_charts_each_depth_and_says_what_it_measured(lab_page):
    app = lab_page
    choose(app)
    by_label(app.multiselect, "Depths").set_value(["resnet8", "resnet20"]).run()
    by_label(app.button, "Run the sweep").click().run()
    job = jobs.find(sweep_key(["resnet8", "resnet20"], "1,000 digits", 1))
    finish(job, seconds=180)
    assert job.status == "done", job.error
    app.run()
    assert not app.exception
    assert "Measured in this sweep" in markdown(app) and "from 8 to 20 layers" in markdown(app)


def test_the_lab_opens_on_the_results_measured_in_advance_and_can_still_run_them_live(lab_page):
    app = lab_page  # the default settings: those assets/lab-reference.pt was measured with
    assert not app.exception
    ref = reference()
    assert ref is not None and not any(b.label in ("Train the twins", "Run the sweep") for b in app.button)
    assert [b.label for b in app.button].count("Run it live") == 2  # the twins' and the sweep's
    text = markdown(app)
    final = ref.runs["resnet56"]["final"]
    assert f"Measured in advance (resnet56, {ref.runs['resnet56']['steps_done']} steps" in text
    assert f"{final['residual']['test_accuracy']:.1f}% with, {final['plain']['test_accuracy']:.1f}% without" in text
    assert "Measured in this sweep:" in text and "Measured:** The gradient reaching the first block is" in text
    assert "with nothing removed the residual net scores" in text  # no button to press: it was measured too
    assert sum(f"Measured in advance on {ref.machine}" in c.value for c in app.caption) == 2  # twins and sweep
    assert jobs.find(twin_key("resnet56", DEFAULTS["lab:digits"], 1)) is None  # nothing trains

    # Inside a block, the model in use (a 20-layer starter) is charted alone, not under the 56-layer twins' blocks.
    net = by_label(app.radio, "Network")
    net.set_value(next(o for o in net.options if o.startswith("model in use"))).run()
    blocks = by_label(app.select_slider, "Block").options
    assert len(blocks) == 9 and not app.exception
    bars = [trace for trace in ratio_chart(app)["data"] if trace["type"] == "bar"]
    assert [(series["name"], series["x"]) for series in bars] == [(net.value, blocks)]

    # A student may not start it: as measured in advance it takes longer than the teacher allows them.
    next(b for b in app.button if b.label == "Run it live").click().run()
    assert "longer than the 5 minutes the teacher allows a student's run" in " ".join(w.value for w in app.warning)
    assert jobs.find(twin_key("resnet56", DEFAULTS["lab:digits"], 1)) is None

    sign_in_as_teacher(app, teacher.teacher_code())
    next(b for b in app.button if b.label == "Run it live").click().run()
    job = jobs.find(twin_key("resnet56", DEFAULTS["lab:digits"], 1))
    try:
        assert job is not None and not app.exception
        assert any(b.label == "Stop" for b in app.button)  # the live run replaces the one measured in advance
        assert sum(c.value.startswith("Measured in advance on") for c in app.caption) == 1  # the sweep's only
    finally:
        stop(job)


def test_a_depth_not_measured_in_advance_says_what_it_would_take_and_a_student_cannot_start_too_long_a_one(lab_page):
    app = lab_page
    by_label(app.selectbox, "Depth").set_value("resnet110").run()  # all 60,000 digits, 1 epoch: not measured
    assert not app.exception and any(b.label == "Train the twins" for b in app.button)
    seconds = reference().estimated_seconds(["resnet110"], None, 1)
    said = next(c.value for c in app.caption if c.value.startswith("Not measured in advance"))
    assert f"about {format_duration(seconds)}" in said
    assert "Results open at once for 8, 20 and 56 layers on all 60,000 digits for 1 epoch." in said
    by_label(app.button, "Train the twins").click().run()  # about twice the 56-layer pair: past a student's limit
    assert "longer than the 5 minutes the teacher allows a student's run" in " ".join(w.value for w in app.warning)
    assert jobs.find(twin_key("resnet110", DEFAULTS["lab:digits"], 1)) is None
