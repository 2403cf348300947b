"""Architecture: key figures, the layer table, a stage diagram and the net's family side by side."""

import pandas as pd
import streamlit as st

from resnet_core.networks.layer_tables import format_count
from resnet_core.networks.resnet import ARCHITECTURES, STEMS
from ui import diagrams
from ui.resources import architecture_comparison, architecture_summary

TABLE_ROWS = 30  # rows the layer table shows before it scrolls
ROW_PX = 35  # Streamlit's row height in a dataframe
# Whole numbers with thousands separators, still sortable as numbers.
COUNTS = {name: st.column_config.NumberColumn(name, format="localized") for name in ("parameters", "multiply-adds")}


def shape_text(shape: tuple[int, ...]) -> str:
    """(1, 64, 7, 7) -> "64×7×7": one digit's shape, without torchinfo's batch dimension."""
    return "×".join(map(str, shape[1:]))


st.title("Architecture")
left, right = st.columns([2, 1])
arch = left.selectbox("Network", list(ARCHITECTURES), format_func=lambda n: f"{n}: {ARCHITECTURES[n].description}")
family = ARCHITECTURES[arch].family
stem = right.selectbox(
    "Stem: the layers before the first block",
    list(STEMS),
    index=list(STEMS).index(ARCHITECTURES[arch].stem),
    format_func=lambda name: STEMS[name].description,
    help="What the stem does to a 28×28 digit before the first block. Larger maps show more detail and "
    "cost more multiply-adds: compare the figures below.",
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
    st.graphviz_chart(diagrams.network_stages(arch, row.block, row.blocks_per_stage, shapes, STEMS[stem].layers))
with stage_table:
    st.markdown("**Output shape per stage** (channels × height × width)")
    st.dataframe(
        pd.DataFrame({"stage": list(shapes), "output": [shape_text(s) for s in shapes.values()]}),
        hide_index=True,
        width="stretch",
    )

st.subheader("Layer table (torchinfo)")
rows = [r for r in table.rows if r.type != "Identity"]  # the small stem's empty max-pool slot: it does nothing
st.caption(
    "Shapes are channels × height × width for one digit. Every figure is measured on this network by torchinfo."
    + (" The small stem has no max-pool, so it has no row." if len(rows) < len(table.rows) else "")
)
show_all = len(rows) > TABLE_ROWS and st.toggle(
    f"Show all {len(rows):,} rows at once", help="A long page; otherwise scroll inside the table."
)
st.dataframe(
    pd.DataFrame(
        {
            "layer": [("· " * (r.depth - 1)) + r.name for r in rows],
            "type": [r.type for r in rows],
            "input": [shape_text(r.input_shape) for r in rows],
            "output": [shape_text(r.output_shape) for r in rows],
            "parameters": [r.parameters for r in rows],
            "multiply-adds": [r.mult_adds for r in rows],
            "trainable": [r.trainable for r in rows],
        }
    ),
    hide_index=True,
    width="stretch",
    height=ROW_PX * (len(rows) + 1) + 3 if show_all or len(rows) <= TABLE_ROWS else ROW_PX * (TABLE_ROWS + 1) + 3,
    column_config=COUNTS,
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
    column_config=COUNTS,
)
