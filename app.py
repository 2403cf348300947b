"""ResNet Explorer: page setup, the sidebar every page shares, and navigation."""
# Pages live in app_pages/, not pages/: Streamlit runs a file in pages/ as a page of its own
# (without this frame) when a deep link reaches a fresh server before st.navigation has run.

# Imported before any session draws a chart: Plotly imports pandas lazily, and two sessions'
# first charts at once raced on a half-imported module ("partially initialized module 'pandas'").
import logging

import pandas  # noqa: F401
import streamlit as st

from resnet_core.data.datasets import DATASETS
from resnet_core.devices import describe_device, select_device
from ui import follow, keys, style, teacher, widget_state
from ui.jobs.session import TRAINING, session_job
from ui.lesson import LESSON, OVERVIEW
from ui.models.model_list import active_model, session_models, set_active_model, starter_models
from ui.page_end import PageEnd
from ui.training.view import adopt_result

st.set_page_config(page_title="ResNet Explorer", page_icon=":material/hub:", layout="wide")

# Sections in lesson order (ui.lesson), which Overview's "Start here" walks too.
sections = {
    section: [st.Page(step.path, title=step.title, icon=step.icon, default=step.path == OVERVIEW) for step in steps]
    for section, steps in LESSON.items()
}
teacher.teacher_code()  # made (and printed on the server's console) when the first page opens
# Always routable, so a reload of /teacher finds it (and says how to sign in); listed for the teacher only.
sections["Try it"].append(
    st.Page(
        "app_pages/teacher.py",
        title="Teacher",
        icon=":material/supervisor_account:",
        visibility="visible" if teacher.is_teacher() else "hidden",
    )
)
navigation = st.navigation(sections)
style.apply()
widget_state.keep_values()

job = session_job(TRAINING)
if job is not None:
    adopt_result(job)  # a run that ended since the last rerun becomes the active model, before the sidebar names it

with st.sidebar:
    st.subheader("Model in use")
    active, models = active_model(), session_models()
    if active is None:
        st.caption("None yet: train one on the Train page or load a checkpoint on Draw & Predict.")
    else:
        # Positions, not the models, are the options: Streamlit copies its options, and a copy of
        # a network is a second network (in memory, and never `is` the one in use). A fixed key
        # keeps one box while the list grows; the choice is written back here every run.
        st.session_state[keys.MODEL_CHOICE] = next(i for i, m in enumerate(models) if m is active)
        st.selectbox(
            "Model in use",
            range(len(models)),
            key=keys.MODEL_CHOICE,
            on_change=lambda: set_active_model(models[st.session_state[keys.MODEL_CHOICE]]),
            format_func=lambda i: models[i].label,
            label_visibility="collapsed",
            help="Every page uses this model. Your training runs and uploads join the list; the percentage "
            "is each model's accuracy on the test digits.",
        )
        trained_on = "" if active.dataset == "mnist" else f", trained on {DATASETS[active.dataset].title}"
        starter = active in starter_models()
        ready = " Trained in advance on MNIST, ready from the start." if starter else ""
        plain = "" if active.model.model_kwargs["residual"] else ", without shortcuts"
        st.caption(f"{active.arch} ({active.stem} stem){plain}{trained_on}.{ready}")
    st.subheader("Compute device")
    st.caption(describe_device(select_device("auto")))
    teacher.sign_in_box()
    follow.lead_or_follow(navigation.url_path)

try:
    navigation.run()
except PageEnd:
    pass  # the page ended early, having said why
except Exception:  # noqa: BLE001 - a page's fault must not show a class a traceback; the server log keeps it
    logging.getLogger("resnet_explorer").exception("The page %r failed", navigation.title)
    st.error(
        "Something went wrong on this page. Your drawing, your models and your runs are kept: try again, "
        "or choose another page or model. (The details are in the server's log.)"
    )
finally:  # also after a page that ended early; pages call ui.page_end.end_page, not st.stop (its docstring says why)
    follow.publish_if_leading(navigation.url_path)
