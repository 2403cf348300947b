"""A confusion matrix whose cells open the test images behind them, with what the model said of each."""

from __future__ import annotations

import streamlit as st
import torch

from resnet_core.data.datasets import DATASETS
from resnet_core.training.evaluation import TestResult
from ui import charts

GALLERY_SIZE = 24


def confusion_section(result: TestResult, images: torch.Tensor, dataset: str, key: str) -> list[int]:
    """The matrix beside the images of the chosen cell (at first the most common mistake).

    A cell is chosen by clicking it or from a list of the mistakes (a phone's cells are too small to tap);
    whichever was used last wins. images: (N, 28, 28) uint8 in the result's order. Returns the positions shown.
    """
    data = DATASETS[dataset]
    classes = data.classes
    chosen_key = f"{key}:cell"

    def clicked() -> None:
        cell = _clicked_cell(st.session_state[key])
        if cell is not None:
            st.session_state[chosen_key] = cell

    def picked() -> None:
        st.session_state[chosen_key] = st.session_state[f"{key}:pick"]

    left, right = st.columns(2)
    with left:
        st.markdown("**Confusion matrix**: grey, right answers; red, mistakes. Click a cell to see its images.")
        st.plotly_chart(
            charts.confusion_heatmap(result.confusion_matrix, classes),
            on_select=clicked,
            selection_mode="points",
            key=key,
            config=charts.NO_TOOLBAR,
        )
        mistakes = sorted(
            (
                (count, t, p)
                for t, row in enumerate(result.confusion_matrix)
                for p, count in enumerate(row)
                if t != p and count
            ),
            reverse=True,
        )
        if mistakes:
            st.selectbox(
                "Or pick a mistake",
                [(t, p) for _, t, p in mistakes],
                index=None,
                format_func=lambda cell: (
                    f"true {classes[cell[0]]}, read as {classes[cell[1]]}: "
                    f"{result.confusion_matrix[cell[0]][cell[1]]:,}"
                ),
                key=f"{key}:pick",
                on_change=picked,
            )
    with right:
        cell = st.session_state.get(chosen_key) or result.most_common_mistake()
        if cell is None:
            st.markdown(f"**No mistakes**: every test {data.items[:-1]} was read right.")
            return []
        true, predicted = cell
        members = result.in_cell(true, predicted)
        kind = "read right" if true == predicted else f"read as {classes[predicted]}"
        count = f"{len(members):,} test {data.items if len(members) != 1 else data.items[:-1]}"
        st.markdown(
            f"**True {classes[true]}, {kind}**: {count}"
            + (f", the first {GALLERY_SIZE} shown" if len(members) > GALLERY_SIZE else "")
        )
        shown = members[:GALLERY_SIZE]
        if shown:
            st.image([images[i].numpy() for i in shown], width=64, caption=said(result, shown, classes))
        else:
            st.caption(f"No test {data.items[:-1]} was read this way.")
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
