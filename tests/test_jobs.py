"""Training jobs of the app: off the script thread, one per device, stoppable, failures reported."""

import gc
import time
import weakref

import pytest

from resnet_core.training.config import TrainConfig
from resnet_core.training.trainer import StepProgress
from ui.jobs.training_job import DONE, FAILED, QUEUED, RUNNING, STOPPED, DeviceLocks, JobRegistry, TrainingJob


def _wait(condition, seconds=300):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert condition()


def test_a_second_job_on_the_same_device_waits_its_turn(data_dir):
    locks = DeviceLocks()
    config = TrainConfig(epochs=3, train_subset=1000, test_subset=200, device="cpu")
    first, second = TrainingJob(config, "first", str(data_dir)), TrainingJob(config, "second", str(data_dir))
    first.start(locks)
    _wait(lambda: first.status == RUNNING)
    second.start(locks)
    time.sleep(1)
    assert second.status == QUEUED and not second.steps
    assert locks.for_device("cpu").ahead_of(second) == [first]  # what the waiting page tells its student
    assert not first.stop("second") and not first.stop_event.is_set()  # only its own session stops a run
    assert first.stop("first")
    _wait(lambda: first.finished)
    assert first.status == STOPPED
    _wait(lambda: second.status == RUNNING)
    assert locks.for_device("cpu").ahead_of(second) == []
    second.stop("second")
    _wait(lambda: second.finished)
    assert second.status == STOPPED


def test_a_finished_job_keeps_model_test_images_and_curves(data_dir):
    job = TrainingJob(TrainConfig(epochs=1, train_subset=500, test_subset=100, device="cpu"), data_dir=str(data_dir))
    job.start(DeviceLocks())
    _wait(lambda: job.finished)
    assert job.status == DONE, job.error
    assert job.test_images.shape == (100, 28, 28) and len(job.result.test.labels) == 100
    assert job.steps and job.steps[-1].step == job.steps[-1].steps_per_epoch
    assert job.result.trainer.optimizer is None  # Adam's state let go: the app never resumes
    assert job.progress_fraction() == 1.0 and not job.result.model.training


def test_missing_data_fails_the_job_with_the_remedy(tmp_path):
    # A data folder under a plain file can neither hold MNIST nor receive a download,
    # so this fails the same way on a machine with internet as on one without.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    job = TrainingJob(TrainConfig(epochs=1, train_subset=100, device="cpu"), data_dir=str(blocker / "data"))
    job.start(DeviceLocks())
    _wait(lambda: job.finished, seconds=60)
    assert job.status == FAILED and "MNIST is not available" in job.error


def test_the_registry_keeps_unfinished_jobs_and_only_the_newest_finished_ones():
    registry = JobRegistry(keep_finished=2)
    config = TrainConfig(device="cpu")
    running = TrainingJob(config, status=RUNNING)  # never started: the registry only reads status
    old, middle, new = (TrainingJob(config, status=DONE) for _ in range(3))
    for job in (running, old, middle, new):
        registry.add(job)
    assert registry.get(old.id) is None  # the oldest finished run let go
    assert [registry.get(job.id) for job in (running, middle, new)] == [running, middle, new]
    assert registry.get("no-such-run") is None
    assert len({running.id, old.id, middle.id, new.id}) == 4


def test_a_run_the_registry_lets_go_frees_its_model(data_dir):
    # Nothing else (the finished worker thread, the progress callbacks, torch) may keep an
    # evicted run's model alive, or the server's memory would grow with every run.
    registry = JobRegistry(keep_finished=1)
    job = TrainingJob(TrainConfig(epochs=1, train_subset=200, test_subset=100, device="cpu"), data_dir=str(data_dir))
    registry.add(job)
    job.start(DeviceLocks())
    job.thread.join(timeout=300)  # not _wait(lambda: job...): that closure would keep `job` alive
    assert job.status == DONE, job.error
    model = weakref.ref(job.result.model)
    del job
    registry.add(TrainingJob(TrainConfig(device="cpu"), status=DONE))
    gc.collect()
    assert model() is None


def test_a_queued_run_that_is_stopped_leaves_the_line_at_once(data_dir):
    locks = DeviceLocks()
    config = TrainConfig(epochs=3, train_subset=1000, test_subset=200, device="cpu")
    first, second, third = (TrainingJob(config, name, str(data_dir)) for name in ("a", "b", "c"))
    first.start(locks)
    _wait(lambda: first.status == RUNNING)
    second.start(locks)
    _wait(lambda: locks.for_device("cpu").ahead_of(second) == [first])
    third.start(locks)
    _wait(lambda: locks.for_device("cpu").ahead_of(third) == [first, second])
    second.stop("b")
    _wait(lambda: second.finished)
    assert second.status == STOPPED and not second.steps and first.status == RUNNING
    assert locks.for_device("cpu").ahead_of(third) == [first]
    first.stop("a")
    _wait(lambda: third.status == RUNNING)
    third.stop("c")
    _wait(lambda: third.finished)


def test_time_left_counts_down_through_a_pause_and_follows_the_runs_own_pace():
    job = TrainingJob(TrainConfig(epochs=1), status=RUNNING, started=0.0, estimated_seconds=100.0)

    def reach(step: int) -> None:
        job.steps.append(StepProgress(1, step, 100, 0.5, 90.0, 1e-3, 500.0))

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
