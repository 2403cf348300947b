"""The server's one lead: a move is counted once, a new drawing alone is no move, and a teacher who has
left leads no one; the followed settings give a student the teacher's drawing."""

import numpy as np

from ui.lead import Presenter
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


def test_a_new_drawing_travels_with_the_lead_without_moving_the_class():
    presenter = Presenter()
    seven, one = np.zeros((280, 280, 4), np.uint8), np.ones((280, 280, 4), np.uint8)
    presenter.publish("draw", {}, {}, None, seven)
    assert presenter.lead().move == 1 and presenter.lead().drawing is seven
    presenter.publish("draw", {}, {}, None, one)  # another stroke on Draw & Predict, where students draw their own
    assert presenter.lead().move == 1 and presenter.lead().drawing is one
    presenter.publish("convolution", {}, {"conv:input": "Teacher's drawing"}, None, one)
    assert presenter.lead().move == 2 and presenter.lead().drawing is one
