"""Architecture: key figures, the layer table, a stage diagram and the net's family side by side."""

import pandas as pd
import streamlit as st

from resnet_core.models import ARCHITECTURES, STEMS
from resnet_core.summary import format_count
from ui import diagrams
from ui.resources import architecture_comparison, architecture_summary

st.title("Architecture")
left, right = st.columns([2, 1])
arch = left.selectbox("Network", list(ARCHITECTURES), format_func=lambda n: f"{n}: {ARCHITECTURES[n].description}")
family = ARCHITECTURES[arch].family
stem = right.radio(
    "Stem",
    list(STEMS),
    index=list(STEMS).index(ARCHITECTURES[arch].stem),
    horizontal=True,
    help="The layers before the first block. "
    + " ".join(f"{name}: {stem.layers}, {stem.size}." for name, stem in STEMS.items())
    + " Larger maps cost more multiply-adds: see below.",
)
depth = st.slider("Table depth", 1, 3, 2, help="1: stages only; 2: every block; 3: every layer inside a block")

table, shapes = architecture_summary(arch, stem, depth)
comparison = {row.name: row for row in architecture_comparison(stem, family)}
row = comparison[arch]

cols = st.columns(4)
cols[0].metric("Parameters", format_count(table.total_parameters), help=f"{table.total_parameters:,} exactly")
cols[1].metric("Multiply-adds per digit", format_count(table.total_mult_adds), help=f"{table.total_mult_adds:,}")
cols[2].metric("Depth (weighted layers)", row.depth)
cols[3].metric("Size (float32)", f"{row.size_mb:.1f} MB")

diagram, stage_table = st.columns([1, 1])
with diagram:
    st.graphviz_chart(diagrams.network_stages(arch, row.block, row.blocks_per_stage, shapes))
with stage_table:
    st.markdown("**Output shape per stage** (channels × height × width)")
    st.dataframe(
        pd.DataFrame({"stage": list(shapes), "output": ["×".join(map(str, s[1:])) for s in shapes.values()]}),
        hide_index=True,
        width="stretch",
    )

st.subheader("Layer table (torchinfo)")
st.dataframe(
    pd.DataFrame(
        {
            "layer": [("· " * (r.depth - 1)) + r.name for r in table.rows],
            "type": [r.type for r in table.rows],
            "input": [str(list(r.input_shape)) for r in table.rows],
            "output": [str(list(r.output_shape)) for r in table.rows],
            "parameters": [r.parameters for r in table.rows],
            "multiply-adds": [r.mult_adds for r in table.rows],
            "trainable": [r.trainable for r in table.rows],
        }
    ),
    hide_index=True,
    width="stretch",
    height=420,
)

st.subheader("The five ImageNet-style depths side by side" if family == "imagenet" else "The depth family side by side")
st.dataframe(
    pd.DataFrame(
        {
            "network": [r.name for r in comparison.values()],
            "layers": [r.depth for r in comparison.values()],
            "block": [r.block for r in comparison.values()],
            "blocks per stage": [str(list(r.blocks_per_stage)) for r in comparison.values()],
            "parameters": [r.parameters for r in comparison.values()],
            "multiply-adds": [r.mult_adds for r in comparison.values()],
            "size (MB)": [round(r.size_mb, 1) for r in comparison.values()],
        }
    ),
    hide_index=True,
    width="stretch",
)
