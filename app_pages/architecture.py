"""Architecture: key figures, the layer table, a stage diagram and the net's family side by side."""

import pandas as pd
import streamlit as st

from resnet_core.networks.layer_tables import format_count
from resnet_core.networks.resnet import ARCHITECTURES, STEMS
from ui import architecture_view, diagrams, widget_state
from ui.models.model_list import active_model
from ui.resources import architecture_comparison, architecture_summary
from ui.teacher_note import teacher_note

# It opens on the model in use, the net every other page shows.
in_use = active_model()
opens_on = (
    (in_use.arch, in_use.stem) if in_use is not None and in_use.arch in ARCHITECTURES else ("resnet18", "imagenet")
)
widget_state.set_defaults({"architecture:arch": opens_on[0], "architecture:stem": opens_on[1], "architecture:depth": 2})


def stem_of_arch() -> None:
    """A newly chosen net starts with its own stem."""
    st.session_state["architecture:stem"] = ARCHITECTURES[st.session_state["architecture:arch"]].stem


st.title("Architecture")
teacher_note(
    "A ResNet is built in stages: a **stem** that first looks at the picture, then **stages** of blocks, each "
    "block with a shortcut around it, then one layer that gives an answer per class. Each stage after the first "
    "halves the picture's height and width and doubles its channels.",
    "the output shape of each stage: the picture shrinks while the channels grow, so later layers know less "
    "about *where* and more about *what*.",
)
left, right = st.columns([2, 1])
arch = left.selectbox(
    "Network",
    list(ARCHITECTURES),
    key="architecture:arch",
    on_change=stem_of_arch,
    format_func=lambda n: f"{n}: {ARCHITECTURES[n].description}",
)
family = ARCHITECTURES[arch].family
stem = right.selectbox(
    "Stem: the layers before the first block",
    list(STEMS),
    key="architecture:stem",
    format_func=lambda name: STEMS[name].description,
    help="What the stem does to a 28×28 digit before the first block. Larger maps show more detail and "
    "cost more multiply-adds: compare the figures below.",
)
depth = st.slider(
    "Table depth", 1, 3, key="architecture:depth", help="1: stages only; 2: every block; 3: every layer inside a block"
)

table, shapes = architecture_summary(arch, stem, depth)
row = next(row for row in architecture_comparison(stem, family) if row.name == arch)

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
    # A plain table: body-size text, and no grid toolbar over the line above it when a phone taps it.
    st.table(
        pd.DataFrame(
            {"stage": list(shapes), "output": [architecture_view.shape_text(s) for s in shapes.values()]}
        ).set_index("stage")
    )

st.subheader("Layer table (torchinfo)")
rows = [r for r in table.rows if r.type != "Identity"]  # the small stem's empty max-pool slot: it does nothing
st.caption(
    "Shapes are channels × height × width for one digit. Every figure is measured on this network by torchinfo."
    + (" The small stem has no max-pool, so it has no row." if len(rows) < len(table.rows) else "")
)
show_all = len(rows) > architecture_view.TABLE_ROWS and st.toggle(
    f"Show all {len(rows):,} rows at once", help="A long page; otherwise scroll inside the table."
)
architecture_view.layer_table(rows, show_all)

st.subheader("The five ImageNet-style depths side by side" if family == "imagenet" else "The depth family side by side")
architecture_view.comparison_table(stem, family)
