"""The app's jobs: off the script thread, one per device, stoppable, failures reported, shared by settings."""

import gc
import time
import weakref

import pytest

from resnet_core.depth_study.twins import DepthSweep, TwinRun, default_twin_config
from resnet_core.training.config import TrainConfig
from resnet_core.training.trainer import StepProgress
from tests.conftest import TEST_DEVICE
from tests.waiting import finish, wait_until
from ui.jobs.device_queue import DeviceQueues
from ui.jobs.job import DONE, FAILED, OWNER_GONE_S, QUEUED, RUNNING, STOPPED, Job
from ui.jobs.registry import JobRegistry
from ui.lab.works import SweepWork, TwinWork
from ui.training.work import TrainingWork


def long_run(owner: str, data_dir) -> Job:
    """A run long enough to be caught running; the tests stop it."""
    config = TrainConfig(arch="resnet8", epochs=50, train_subset=1000, test_subset=200, device=TEST_DEVICE)
    return Job(TrainingWork(config, str(data_dir)), owner)


def test_a_second_job_on_the_same_device_waits_its_turn(data_dir):
    queues = DeviceQueues()
    first, second = long_run("first", data_dir), long_run("second", data_dir)
    first.start(queues)
    wait_until(lambda: first.status == RUNNING)
    second.start(queues)
    wait_until(lambda: queues.for_device(TEST_DEVICE).ahead_of(second) == [first])  # what the waiting page tells
    assert second.status == QUEUED and not second.work.steps
    assert not first.stop("second") and not first.stop_event.is_set()  # only its own session stops a run
    assert first.stop("first")
    finish(first)
    assert first.status == STOPPED
    wait_until(lambda: second.status == RUNNING)
    assert queues.for_device(TEST_DEVICE).ahead_of(second) == []
    second.stop("second")
    finish(second)
    assert second.status == STOPPED


def test_a_finished_job_keeps_model_test_images_and_curves(data_dir):
    job = Job(TrainingWork(TrainConfig(epochs=1, train_subset=500, test_subset=100, device=TEST_DEVICE), str(data_dir)))
    job.start(DeviceQueues())
    finish(job)
    work = job.work
    assert job.status == DONE, job.error
    assert work.test_images.shape == (100, 28, 28) and len(work.result.test.labels) == 100
    assert work.steps and work.steps[-1].step == work.steps[-1].steps_per_epoch
    assert work.result.trainer.optimizer is None  # Adam's state let go: the app never resumes
    assert work.progress().fraction == 1.0 and not work.result.model.training and work.has_model
    assert job.seconds_left() is None  # over: no time left to show


def test_missing_data_fails_the_job_with_the_remedy(tmp_path):
    # A data folder under a plain file can neither hold MNIST nor receive a download,
    # so this fails the same way on a machine with internet as on one without.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    job = Job(TrainingWork(TrainConfig(epochs=1, train_subset=100, device=TEST_DEVICE), str(blocker / "data")))
    job.start(DeviceQueues())
    finish(job, seconds=60)
    assert job.status == FAILED and "MNIST is not available" in job.error


def test_a_device_that_is_not_there_fails_the_job_with_a_message():
    job = Job(TrainingWork(TrainConfig(device="no-such-device")))
    job.start(DeviceQueues())
    finish(job, seconds=60)
    assert job.status == FAILED and job.error


def test_the_registry_keeps_unfinished_jobs_and_only_the_newest_finished_ones_of_each_kind(lab):
    registry = JobRegistry(keep_finished=2)
    config = TrainConfig(device=TEST_DEVICE)
    running = Job(TrainingWork(config), status=RUNNING)  # never started: the registry only reads status
    old, middle, new = (Job(TrainingWork(config), status=DONE) for _ in range(3))
    lab_run = Job(TwinWork(TwinRun(default_twin_config("resnet8"), lab)), status=DONE, key=("twins", 1))
    for job in (lab_run, running, old, middle, new):
        assert registry.add(job) is job
    assert registry.get(old.id) is None  # the oldest finished run let go
    assert [registry.get(job.id) for job in (running, middle, new)] == [running, middle, new]
    assert registry.get(lab_run.id) is lab_run  # another kind: the newest of each kind are kept
    assert registry.get("no-such-run") is None
    assert registry.newest_first() == [new, middle, running, lab_run]
    assert len({running.id, old.id, middle.id, new.id}) == 4


def test_jobs_with_the_same_settings_are_one_job_unless_it_was_stopped_or_failed(lab):
    registry = JobRegistry()
    config = default_twin_config("resnet8")
    first = Job(TwinWork(TwinRun(config, lab)), owner="a", key=("twins", "resnet8"))
    classmate = Job(TwinWork(TwinRun(config, lab)), owner="b", key=("twins", "resnet8"))
    other = Job(TwinWork(TwinRun(config, lab)), owner="b", key=("twins", "resnet20"))
    assert registry.add(first) is first
    assert registry.add(classmate) is first and registry.get(classmate.id) is None  # the first wins
    assert registry.add(other) is other and registry.find(("twins", "resnet20")) is other
    first.status = STOPPED
    assert registry.add(classmate) is classmate  # a stopped run is replaced by a new one
    assert registry.find(("twins", "resnet8")) is classmate and registry.get(first.id) is None
    assert registry.find(("twins", "resnet56")) is None


def test_a_run_the_registry_lets_go_frees_its_model(data_dir):
    # Nothing else (the finished worker thread, the progress callbacks, torch) may keep an
    # evicted run's model alive, or the server's memory would grow with every run.
    registry = JobRegistry(keep_finished=1)
    job = Job(TrainingWork(TrainConfig(epochs=1, train_subset=200, test_subset=100, device=TEST_DEVICE), str(data_dir)))
    registry.add(job)
    job.start(DeviceQueues())
    finish(job)
    assert job.status == DONE, job.error
    model = weakref.ref(job.work.result.model)
    del job
    registry.add(Job(TrainingWork(TrainConfig(device=TEST_DEVICE)), status=DONE))
    gc.collect()
    assert model() is None


def test_a_queued_run_that_is_stopped_leaves_the_line_at_once(data_dir):
    queues = DeviceQueues()
    first, second, third = (long_run(name, data_dir) for name in ("a", "b", "c"))
    first.start(queues)
    wait_until(lambda: first.status == RUNNING)
    second.start(queues)
    wait_until(lambda: queues.for_device(TEST_DEVICE).ahead_of(second) == [first])
    third.start(queues)
    wait_until(lambda: queues.for_device(TEST_DEVICE).ahead_of(third) == [first, second])
    second.stop("b")
    finish(second, seconds=5)  # the line is checked twice a second
    assert second.status == STOPPED and not second.work.steps and first.status == RUNNING
    assert queues.for_device(TEST_DEVICE).ahead_of(third) == [first]
    first.stop("a")
    wait_until(lambda: third.status == RUNNING)
    third.stop("c")
    finish(third)


def test_a_lab_run_is_a_job_like_any_other(lab):
    twins = Job(TwinWork(TwinRun(default_twin_config("resnet8", epochs=1), lab)), owner="student")
    assert twins.work.progress().text == "Training both networks: starting…"
    twins.start(DeviceQueues())
    finish(twins)
    assert twins.status == DONE, twins.error
    progress = twins.work.progress()
    assert progress.fraction == 1.0 and twins.work.twins.final is not None
    assert progress.text == "Training both networks: measuring both networks on the training and test digits…"


def test_a_sweeps_progress_counts_each_depth_by_its_layers(lab):
    sweep = SweepWork(DepthSweep(["resnet8", "resnet20"], default_twin_config(epochs=1), lab))
    before = sweep.progress()
    assert before.fraction == 0 and before.text == "Depth 1 of 2 (resnet8): starting…"
    job = Job(sweep)
    job.start(DeviceQueues())
    seen = []  # (text, fraction) while it runs
    while not job.finished:
        progress = sweep.progress()
        seen.append((progress.text, progress.fraction))
        time.sleep(0.005)
    assert job.status == DONE, job.error
    assert sweep.progress().fraction == 1.0 and len(sweep.sweep.points) == 2
    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions) and all(0 <= f <= 1 for f in fractions)  # never back, never past the end
    # The first depth is 8 of the sweep's 28 layers: the bar reaches 8/28 as the second begins.
    first = [f for text, f in seen if text.startswith("Depth 1 of 2 (resnet8)")]
    second = [f for text, f in seen if text.startswith("Depth 2 of 2 (resnet20)")]
    assert first and second and max(first) <= 8 / 28 + 1e-9 <= min(second) + 2e-9


def test_time_left_counts_down_through_a_pause_and_follows_the_runs_own_pace():
    job = Job(TrainingWork(TrainConfig(epochs=1)), status=RUNNING, started=0.0, estimated_seconds=100.0)

    def reach(step: int) -> None:
        job.work.steps.append(StepProgress(1, step, 100, 0.5, 90.0, 1e-3, 500.0))

    reach(10)
    first = job.seconds_left(now=10.0)
    assert first == pytest.approx(90)  # the estimate and the run's pace agree: 90 s to go
    # The steps pause (an epoch's validation): the figure keeps counting down, it never jumps up.
    figures = [job.seconds_left(now=t) for t in range(11, 31)]
    assert all(later <= earlier for earlier, later in zip([first, *figures], figures))
    # From then on the run goes at half the estimated pace (a step every 2 s): the figure follows it.
    for t in range(40, 151, 2):
        reach(t // 2)
        left = job.seconds_left(now=float(t))
    assert left == pytest.approx(200 - 150, abs=10)  # 75 of 100 steps done at 150 s


def test_the_starter_keeps_their_run_while_connected_on_any_page_and_the_teacher_may_always_stop_it():
    connected = [True]
    job = Job(TrainingWork(TrainConfig(device=TEST_DEVICE)), owner="starter", owner_connected=lambda: connected[0])
    job.owner_seen -= OWNER_GONE_S + 1  # no page has polled the run for a while: the starter is on another page
    assert not job.can_stop("classmate") and not job.stop("classmate")
    assert job.can_stop("starter") and job.can_stop("classmate", teacher=True)
    connected[0] = False  # the starter's tab closed
    job.owner_seen -= OWNER_GONE_S + 1
    assert job.stop("classmate") and job.stop_event.is_set()
