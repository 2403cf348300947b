"""Overview: what a residual block is, the two block types, both families of depths, and where to go next."""

import streamlit as st

from ui import architecture_view, diagrams
from ui.lab.in_advance import what_opens_at_once
from ui.lesson import path_from_overview
from ui.resources import architecture_comparison
from ui.teacher_note import teacher_note

st.title("ResNet Explorer")
teacher_note(
    "A **residual network** is a stack of blocks that each learn a *correction* to their input rather than a "
    "whole new picture of it. A block computes some layers **F(x)** and then adds its input back: "
    "**out = ReLU(F(x) + x)**. If a block has nothing useful to add, it can learn F(x) ≈ 0 and pass its input "
    "through untouched. That shortcut lets gradients flow straight back through dozens of blocks, which is why "
    "ResNets can be 152 layers deep and still train.",
    "the dashed arrow in each block below: the shortcut that carries x around the layers to the **+**.",
)

basic, bottleneck = st.columns(2)
with basic:
    st.subheader("Basic block (ResNet-18, -34)")
    st.graphviz_chart(diagrams.basic_block())
    st.caption("Two 3×3 convolutions. Where the width or resolution changes, the shortcut is a 1×1 convolution.")
with bottleneck:
    st.subheader("Bottleneck block (ResNet-50, -101, -152)")
    st.graphviz_chart(diagrams.bottleneck_block())
    st.caption("1×1 squeezes the channels, 3×3 works on fewer of them, 1×1 widens them again (×4).")

st.subheader("Start here")
for number, step in enumerate(path_from_overview(), start=1):
    # The page's name is the link; what the class does there wraps below it (a phone cuts a long link short).
    st.page_link(step.path, label=f"{number}. {step.title}", icon=step.icon)
    st.caption(step.what)

st.subheader("The networks, measured on 28×28 digits")
st.markdown("**The five ImageNet-style depths** (He et al. 2016), as the library builds them for one-channel digits:")
architecture_view.comparison_table("imagenet", "imagenet")
opens_at_once = what_opens_at_once()
depths = [row.depth for row in architecture_comparison(None, "depth")]  # as measured for the table below
st.markdown(
    "**The depth family** (He et al. 2016, §4.2): three stages of 16, 32 and 64 channels that keep a "
    f"digit at 28×28, 14×14 and 7×7, from {min(depths)} to {max(depths)} layers. "
    "The Residual Lab trains any of them with and without shortcuts"
    + (f"; its results for {opens_at_once} are there at once, measured in advance." if opens_at_once else ".")
)
architecture_view.comparison_table(None, "depth")
