"""ResNet Explorer: page setup, the sidebar every page shares, and navigation."""
# Pages live in app_pages/, not pages/: Streamlit runs a file in pages/ as a page of its own
# (without this frame) when a deep link reaches a fresh server before st.navigation has run.

# Imported before any session draws a chart: Plotly imports pandas lazily, and two sessions'
# first charts at once raced on a half-imported module ("partially initialized module 'pandas'").
import pandas  # noqa: F401
import streamlit as st

from resnet_core.data import DATASETS
from resnet_core.devices import describe_device, select_device
from ui.models import active_model
from ui.session_job import session_job
from ui.training_view import adopt_result

st.set_page_config(page_title="ResNet Explorer", page_icon=":material/hub:", layout="wide")

pages = [
    st.Page("app_pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("app_pages/architecture.py", title="Architecture", icon=":material/account_tree:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/draw.py", title="Draw & Predict", icon=":material/draw:"),
    st.Page("app_pages/feature_maps.py", title="Feature Maps", icon=":material/layers:"),
    st.Page("app_pages/residual_lab.py", title="Residual Lab", icon=":material/science:"),
]
navigation = st.navigation(pages)

job = session_job()
if job is not None:
    adopt_result(job)  # a run that ended since the last rerun becomes the active model, before the sidebar names it

with st.sidebar:
    st.subheader("Active model")
    active = active_model()
    if active is None:
        st.caption("None yet: train one on the Train page or load a checkpoint on Draw & Predict.")
    else:
        trained_on = "" if active.dataset == "mnist" else f", trained on {DATASETS[active.dataset].title}"
        st.markdown(f"**{active.arch}** ({active.stem} stem)  \n{active.source}{trained_on}")
        if active.test_accuracy is not None:
            st.metric("Test accuracy", f"{active.test_accuracy:.2f}%")
    st.subheader("Compute device")
    st.caption(describe_device(select_device("auto")))

navigation.run()
