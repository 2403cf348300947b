"""The teacher stays in charge: students' runs within limits, and the teacher's panel stops any run.
Real sessions through AppTest, real training on real MNIST."""

import streamlit as st

from resnet_core.data.augment import to_model_input
from resnet_core.devices import select_device
from resnet_core.training.config import TrainConfig
from tests.conftest import TEST_DEVICE, digit_on_canvas, new_session
from tests.test_pages import by_label, finished_run, job_of, start_custom_run, stop
from tests.waiting import wait_until
from ui import keys, teacher
from ui.jobs.device_queue import device_queues
from ui.jobs.job import STOPPED, Job
from ui.jobs.registry import jobs
from ui.jobs.session import TRAINING, remote_address
from ui.models.model_list import checkpoint_dir
from ui.teacher import refusal
from ui.training.work import TrainingWork


def sign_in_as_teacher(session, code: str) -> None:
    session.run()
    box = by_label(session.sidebar.text_input, "Teacher code")
    box.set_value(code)
    next(b for b in session.sidebar.button if b.label == "Sign in").click().run()


def test_a_students_run_longer_than_the_limit_is_refused_with_the_reason(app):
    assert start_custom_run(app, digits=55_000, epochs=50) is None
    warning = " ".join(w.value for w in app.warning)
    assert "longer than the 5 minutes the teacher allows a student's run" in warning and not app.exception


def test_a_student_has_one_run_at_a_time_and_the_teacher_stops_it_from_the_panel(app):
    job = start_custom_run(app, digits=5_000, epochs=50)  # long enough to be stopped by the teacher
    try:
        assert job is not None and not job.finished
        # A second run of the same student, here the Residual Lab's twins (run live): refused, with the reason.
        app.switch_page("app_pages/residual_lab.py").run()
        next(b for b in app.button if b.label == "Run it live").click().run()
        assert any("You have 1 run going already (a training run)" in w.value for w in app.warning)
        assert not app.exception

        # Another session cannot stop it, nor see the Teacher page, until it signs in with the code.
        room = new_session()
        room.switch_page("app_pages/teacher.py").run()  # a reload of /teacher before signing in
        assert any("enter the teacher code under **Teacher** in the sidebar" in w.value for w in room.warning)
        assert not any(b.label == "Stop" for b in room.button)
        sign_in_as_teacher(room, "not-the-code")
        assert any("That is not the teacher code" in e.value for e in room.sidebar.error)
        assert keys.TEACHER not in room.session_state
        sign_in_as_teacher(room, teacher.teacher_code())
        room.switch_page("app_pages/teacher.py").run()
        assert not room.exception
        row = next(m.value for m in room.markdown if m.value.startswith("**Training: resnet8, 5,000 digits × 50"))
        assert "a student's" in row
        next(b for b in room.button if b.label == "Stop").click().run()
        wait_until(lambda: job.status == STOPPED, seconds=120)
        app.switch_page("app_pages/train.py").run()
        # Kept weights if it had taken a step; it may still have waited for the device behind other runs.
        said = [i.value for i in app.info] + [w.value for w in app.warning]
        assert any(
            "stopped by the teacher; the weights so far are kept" in m or "The teacher stopped this run before" in m
            for m in said
        )
    finally:
        stop(job)


def test_the_teachers_own_runs_and_the_limits_they_set_apply(app, monkeypatch):
    monkeypatch.setattr(teacher.limits, "student_minutes", teacher.limits.student_minutes)
    sign_in_as_teacher(app, teacher.teacher_code())
    app.switch_page("app_pages/teacher.py").run()
    by_label(
        app.number_input, "Longest run a student may start (minutes, as this computer's speed predicts)"
    ).set_value(1).run()
    assert teacher.limits.student_minutes == 1
    job = start_custom_run(app, digits=55_000, epochs=50)  # the teacher's own: not limited
    try:
        assert job is not None and not app.warning
    finally:
        stop(job)


def test_settings_too_big_for_this_machine_are_refused_before_anything_runs(app):
    app.switch_page("app_pages/train.py").run()
    by_label(app.selectbox, "Network").set_value("resnet152")
    by_label(app.selectbox, "Stem").set_value("small")
    by_label(app.selectbox, "Batch size").set_value(512).run()
    by_label(app.button, "Start training").click().run()
    error = " ".join(e.value for e in app.error)
    assert "resnet152 with the small stem at batch 512 needs about 31.9 GB for one training step" in error
    assert "choose a batch of at most 128," in error and not app.exception  # the largest offered that fits
    assert job_of(app) is None


def test_teach_it_takes_at_most_twenty_examples_of_a_symbol(app, mnist_test):
    images, _ = mnist_test
    app.session_state[keys.TEACH_EXAMPLES] = [(0, to_model_input(images[i : i + 1])) for i in range(20)]
    app.session_state[keys.TEACH_DRAWING] = digit_on_canvas(images[0], 200, 40, 40)
    app.switch_page("app_pages/teach.py").run()
    add = next(b for b in app.button if b.label.startswith("Add as an example of circle"))
    assert add.disabled and any("has 20 examples, the most it takes" in c.value for c in app.caption)
    by_label(app.radio, "This drawing is a").set_value(1).run()  # another symbol still takes examples
    assert not next(b for b in app.button if b.label.startswith("Add as an example of cross")).disabled


def test_a_finished_run_is_saved_once_and_only_by_whoever_started_it(app, trained_resnet18):
    job = finished_run(app, trained_resnet18)
    app.switch_page("app_pages/train.py").run()
    job.owner = app.session_state[keys.OWNER_TOKEN]  # the run is this session's own
    app.run()
    watcher = new_session()
    watcher.query_params[TRAINING] = job.id
    watcher.switch_page("app_pages/train.py").run()
    assert not any(b.label == "Save to checkpoints folder" for b in watcher.button) and not watcher.exception
    by_label(app.button, "Save to checkpoints folder").click().run()
    assert any(c.value.startswith("Saved on the server as resnet18-") for c in app.caption)
    assert not any(b.label == "Save to checkpoints folder" for b in app.button)
    assert len(list(checkpoint_dir().glob("*.pt"))) == 1


def test_a_clients_clear_cache_loses_no_run_and_no_place_in_line(app):
    job = start_custom_run(app, digits=1_000, epochs=20)
    try:
        st.cache_data.clear()  # what the server does on any client's "Clear cache" message
        st.cache_resource.clear()
        watcher = new_session()
        watcher.query_params[TRAINING] = job.id
        watcher.switch_page("app_pages/train.py").run()
        assert job_of(watcher) is job and not watcher.exception
        assert device_queues.for_device(select_device(TEST_DEVICE)).busy
    finally:
        stop(job)


def test_a_reload_does_not_make_a_student_new_runs_from_their_device_still_count():
    job = jobs.add(Job(TrainingWork(TrainConfig(device=TEST_DEVICE)), owner="before-reload", owner_address="10.0.0.7"))
    try:
        assert "You have 1 run going already" in refusal("after-reload", "10.0.0.7", None)
        assert refusal("after-reload", "10.0.0.8", None) is None  # a classmate's phone
        assert refusal("after-reload", None, None) is None  # address unknown: the session alone counts
    finally:
        job.status = STOPPED  # never started: nothing runs


def test_every_browser_on_the_teachers_computer_is_its_own_student_and_a_device_is_one_student():
    # Tornado reports a local IPv4 connection on a dual-stack socket as "::ffff:127.0.0.1".
    for here in ("127.0.0.1", "::1", "::ffff:127.0.0.1", None, "", "not an address"):
        assert remote_address(here) is None
    assert remote_address("::ffff:192.168.1.23") == "192.168.1.23" == remote_address("192.168.1.23")
    assert remote_address("fe80::1") == "fe80::1"
