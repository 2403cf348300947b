"""Tables of networks, the way every page shows them: a family side by side, and a net's layer table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from resnet_core.networks.layer_tables import LayerRow, format_count
from ui.resources import architecture_comparison

TABLE_ROWS = 30  # rows the layer table shows before it scrolls
UNITS = {"K": "thousand", "M": "million", "G": "billion"}  # format_count's
ROW_PX = 35  # Streamlit's row height in a dataframe
# Whole numbers with thousands separators, still sortable as numbers.
COUNTS = {name: st.column_config.NumberColumn(name, format="localized") for name in ("parameters", "multiply-adds")}


def shape_text(shape: tuple[int, ...]) -> str:
    """(1, 64, 7, 7) -> "64×7×7": one digit's shape, without torchinfo's batch dimension."""
    return "×".join(map(str, shape[1:]))


def comparison_table(stem: str | None, family: str) -> None:
    """The family's nets side by side ("imagenet": ResNet-18…152; "depth": ResNet-8…110), each built with
    `stem` (None: its own), measured on one 28×28 digit."""
    rows = architecture_comparison(stem, family)
    # What a class compares first, in counts a room reads aloud ("11.18M"): a phone shows these four
    # columns across its width and scrolls sideways only for the block type and the file size.
    table = pd.DataFrame(
        {
            "network": [r.name for r in rows],
            "parameters": [format_count(r.parameters) for r in rows],
            "multiply-adds": [format_count(r.mult_adds) for r in rows],
            "blocks per stage": [", ".join(map(str, r.blocks_per_stage)) for r in rows],
            "block": [r.block.removesuffix("Block").lower() for r in rows],
            "size (MB)": [f"{r.size_mb:.1f}" for r in rows],
        }
    )
    # A plain table, not a grid: a handful of rows a class reads off the projector, in the page's own text
    # size (ui.style), where a grid draws on a canvas in a smaller font.
    st.table(table.style.hide(axis="index"))
    counts = "".join(table["parameters"]) + "".join(table["multiply-adds"])
    units = ", ".join(f"{unit}: {word}" for unit, word in UNITS.items() if unit in counts)
    st.caption(f"{units}. Multiply-adds: the work of one answer, for one 28×28 digit.")


def layer_table(rows: list[LayerRow], show_all: bool) -> None:
    """torchinfo's rows, indented by depth; TABLE_ROWS of them on screen unless `show_all`."""
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
        height=ROW_PX * (min(len(rows), len(rows) if show_all else TABLE_ROWS) + 1) + 3,
        column_config=COUNTS,
    )
