"""The server's one lead: a move is counted once, and a teacher who has left leads no one."""

from ui.follow import Presenter
from ui.lesson import OVERVIEW, page_of


def test_a_lead_counts_its_moves_once_and_ends_with_the_teachers_session():
    presenter, connected = Presenter(), [True]
    assert presenter.lead() is None
    presenter.publish("residual_lab", {}, {"lab:depth": "resnet20"}, lambda: connected[0])
    presenter.publish("residual_lab", {}, {"lab:depth": "resnet20"}, lambda: connected[0])  # a rerun, no move
    assert presenter.lead().move == 1
    presenter.publish("residual_lab", {"twins": "ab12"}, {"lab:depth": "resnet20"}, lambda: connected[0])
    assert presenter.lead().move == 2 and presenter.lead().runs == {"twins": "ab12"}
    connected[0] = False  # the teacher's laptop closed
    assert presenter.lead() is None
    presenter.stop()
    assert presenter.lead() is None


def test_a_url_path_names_its_lesson_page_and_the_teachers_page_is_none():
    assert page_of("") == OVERVIEW and page_of("residual_lab") == "app_pages/residual_lab.py"
    assert page_of("convolution") == "app_pages/convolution.py"
    assert page_of("teacher") is None and page_of("nowhere") is None
