"""A confusion matrix whose cells open the test images behind them, with what the model said of each."""

from __future__ import annotations

import streamlit as st
import torch

from resnet_core.data import DATASETS
from resnet_core.train import TestResult
from ui import charts

GALLERY_SIZE = 24


def confusion_section(result: TestResult, images: torch.Tensor, dataset: str, key: str) -> list[int]:
    """The matrix beside the images of the clicked cell (at first the most common mistake).

    images: (N, 28, 28) uint8 in the result's order. Returns the positions shown.
    """
    data = DATASETS[dataset]
    classes = data.classes
    left, right = st.columns(2)
    with left:
        st.markdown("**Confusion matrix**: grey, right answers; red, mistakes. Click a cell to see its images.")
        event = st.plotly_chart(
            charts.confusion_heatmap(result.confusion_matrix, classes),
            on_select="rerun",
            selection_mode="points",
            key=key,
            config=charts.NO_TOOLBAR,
        )
    with right:
        cell = _clicked_cell(event) or result.most_common_mistake()
        if cell is None:
            st.markdown(f"**No mistakes**: every test {data.items[:-1]} was read right.")
            return []
        true, predicted = cell
        members = result.in_cell(true, predicted)
        kind = "read right" if true == predicted else f"read as {classes[predicted]}"
        st.markdown(
            f"**True {classes[true]}, {kind}**: {len(members):,} test {data.items}"
            + (f", the first {GALLERY_SIZE} shown" if len(members) > GALLERY_SIZE else "")
        )
        shown = members[:GALLERY_SIZE]
        if shown:
            st.image([images[i].numpy() for i in shown], width=64, caption=said(result, shown, classes))
        return shown


def said(result: TestResult, positions: list[int], classes: tuple[str, ...]) -> list[str] | None:
    """Captions: what the model answered for each image and how sure it was (None without probabilities)."""
    if not result.confidences:
        return None
    return [f"{classes[result.predictions[i]]} · {100 * result.confidences[i]:.0f}%" for i in positions]


def _clicked_cell(event) -> tuple[int, int] | None:
    """(true, predicted) of the confusion-matrix cell clicked last, None before any click."""
    points = event.selection.points if event is not None else []
    data = points[0].get("customdata") if points else None
    return (int(data[0]), int(data[1])) if data else None
