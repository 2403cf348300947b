"""Plotly figures for the pages: training curves, probabilities, confusion matrix, images and feature maps."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_core.training.trainer import EpochStats, StepProgress, ValidationCheck

Figures = go.Figure | tuple[go.Figure, ...] | list[go.Figure]

# Plotly's toolbar sits over a chart's title on a phone; dragging still zooms, a double tap resets.
NO_TOOLBAR = {"displayModeBar": False}
# No Plotly template: st.plotly_chart draws every chart in the app's theme anyway, and validating a
# template made up most of a chart's cost (15 ms of 18 per probability chart, per stroke in class).
# 15 px text, ticks included, in the body text's colour rather than the theme's light grey: readable
# from a classroom's back row on a projector.
TEXT = dict(size=15, color="#31333f")
# Signed values (weights, maps, attributions): red above zero, blue below, white at zero, on every page.
SIGNED = "RdBu_r"
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), font=TEXT)


def readable(build: Callable[..., Figures]) -> Callable[..., Figures]:
    """A figure builder whose figures' axes, legend and colour bars read at TEXT's size and colour.

    Streamlit's chart theme gives each of those its own 12 px grey, which layout.font does not reach:
    only the figure's own settings on each of them beat the theme."""

    @functools.wraps(build)
    def built(*args, **kwargs) -> Figures:
        figures = build(*args, **kwargs)
        for fig in [figures] if isinstance(figures, go.Figure) else figures:
            _text_readable(fig)
        return figures

    return built


def _text_readable(fig: go.Figure) -> None:
    # Plain assignments on the parts the figure has: Plotly's update_xaxes and update_coloraxes cost about
    # 12 ms a figure where these cost 3 (benchmarks.latency), and the probability chart is built per stroke.
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        axis.tickfont = TEXT
        axis.title.font = TEXT
    fig.layout.legend.font = TEXT
    fig.layout.title.font = TEXT
    for coloraxis in fig.select_coloraxes():
        coloraxis.colorbar.tickfont = TEXT
        coloraxis.colorbar.title.font = TEXT
    for trace in fig.data:
        if trace.type == "heatmap":
            trace.colorbar.tickfont = TEXT
            trace.colorbar.title.font = TEXT


@readable
def training_curves(
    steps: list[StepProgress], epochs: list[EpochStats], checks: Sequence[ValidationCheck] = ()
) -> go.Figure:
    """Loss and accuracy: training per reported step and per epoch, validation at each check (x in epochs).

    `checks`: the run's validation passes, several per epoch where its config asks; without them the
    validation curve is drawn from the epochs' own figures.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy (%)"))
    if steps:
        x = [p.epoch - 1 + p.step / p.steps_per_epoch for p in steps]
        fig.add_trace(
            go.Scatter(x=x, y=[p.loss for p in steps], name="train (steps)", line=dict(color="#9ecae1")), 1, 1
        )
        fig.add_trace(
            go.Scatter(
                x=x, y=[p.accuracy for p in steps], name="train (steps)", line=dict(color="#9ecae1"), showlegend=False
            ),
            1,
            2,
        )
    lines = []
    if epochs:
        x = [e.epoch - 1 + (1 if e.complete else 0.5) for e in epochs]
        lines += [
            (x, [e.train_loss for e in epochs], 1, "train (epoch)", "#3182bd"),
            (x, [e.train_acc for e in epochs], 2, "train (epoch)", "#3182bd"),
        ]
        if not checks:
            lines += [
                (x, [e.val_loss for e in epochs], 1, "validation", "#e6550d"),
                (x, [e.val_acc for e in epochs], 2, "validation", "#e6550d"),
            ]
    if checks:
        x = [c.epochs for c in checks]
        lines += [
            (x, [c.val_loss for c in checks], 1, "validation", "#e6550d"),
            (x, [c.val_acc for c in checks], 2, "validation", "#e6550d"),
        ]
    for x, values, col, name, color in lines:
        fig.add_trace(
            go.Scatter(x=x, y=values, name=name, mode="lines+markers", line=dict(color=color), showlegend=col == 1),
            1,
            col,
        )
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(height=340, legend=dict(orientation="h", y=-0.25), **_LAYOUT)
    return fig


@readable
def probability_bars(probabilities: np.ndarray, classes: tuple[str, ...]) -> go.Figure:
    best = int(np.argmax(probabilities))
    colors = ["#e6550d" if i == best else "#9ecae1" for i in range(len(classes))]
    fig = go.Figure(
        go.Bar(
            x=list(classes),
            y=100 * probabilities,
            marker_color=colors,
            text=[f"{100 * p:.1f}%" for p in probabilities],
            textposition="outside",
        )
    )
    fig.update_layout(
        height=300, yaxis=dict(range=[0, 110], title="probability (%)"), xaxis=dict(type="category"), **_LAYOUT
    )
    return fig


@readable
def confusion_heatmap(matrix: list[list[int]], classes: tuple[str, ...]) -> go.Figure:
    """Counts of (true, predicted) pairs: the right answers in grey, the mistakes in red on a log scale.

    On one linear scale the diagonal's thousands would leave every mistake white. Each cell also
    carries an invisible marker, so a click on it selects the cell (x: predicted, y: true).
    """
    counts = np.asarray(matrix, dtype=float)
    names = list(classes)
    diagonal = np.eye(len(names), dtype=bool)
    mistakes = np.where(diagonal | (counts == 0), np.nan, np.log10(np.maximum(counts, 1)))
    right = np.where(diagonal, 1.0, np.nan)
    text = [[f"{int(v)}" if v else "" for v in row] for row in counts]
    # The scale starts below one mistake, so a single one is a clear pink, not white, and ends at the largest.
    top = max(np.log10(2), float(np.nanmax(mistakes)) if np.isfinite(mistakes).any() else 0.0)
    ticks = [v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if np.log10(v) <= top]
    fig = go.Figure(
        [
            go.Heatmap(
                z=right,
                x=names,
                y=names,
                colorscale=[[0, "#e5e5e5"], [1, "#e5e5e5"]],
                showscale=False,
                hoverinfo="skip",
            ),
            go.Heatmap(
                z=mistakes,
                x=names,
                y=names,
                zmin=-0.4,
                zmax=top,
                colorscale="Reds",
                hoverinfo="skip",
                # Under the grid, not beside it: on a phone the grid keeps the width its numbers need.
                colorbar=dict(
                    title=dict(text="mistakes", side="top"),
                    tickvals=np.log10(ticks),
                    ticktext=ticks,
                    orientation="h",
                    thickness=12,
                    y=-0.2,
                    yanchor="top",
                ),
            ),
            go.Scatter(
                x=[names[p] for t in range(len(names)) for p in range(len(names))],
                y=[names[t] for t in range(len(names)) for p in range(len(names))],
                mode="markers+text",
                text=[text[t][p] for t in range(len(names)) for p in range(len(names))],
                textfont=dict(
                    # Four-figure counts (the diagonal of 10,000 digits) smaller, to stay inside a phone's cells.
                    size=[13 if counts[t, p] >= 1000 else 15 for t in range(len(names)) for p in range(len(names))],
                    color=[  # white on the darkest reds, where dark numbers vanish
                        "#fff" if t != p and counts[t, p] and np.log10(counts[t, p]) > 0.6 * top else "#222"
                        for t in range(len(names))
                        for p in range(len(names))
                    ],
                ),
                marker=dict(symbol="square", size=34, opacity=0.01, color="#000"),
                customdata=[[t, p] for t in range(len(names)) for p in range(len(names))],
                hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
                showlegend=False,
            ),
        ]
    )
    fig.update_layout(
        height=520,
        # Every class named on both axes: left to itself Plotly names every other one on a phone.
        # Ranges fixed to the cells: left to itself Plotly pads them for the click markers, leaving white bands.
        xaxis=dict(title="predicted", type="category", tickvals=names, range=[-0.5, len(names) - 0.5]),
        yaxis=dict(title="true", type="category", tickvals=names, range=[len(names) - 0.5, -0.5]),
        clickmode="event+select",
        dragmode=False,
        **_LAYOUT,
    )
    return fig


# The width a feature-map grid gets in the Feature Maps page's wide column at 1400 px: the
# figure's height follows from it, so tiles come out square and as large as the column allows.
GRID_WIDTH = 470


@readable
def feature_grid(grid: np.ndarray, low: float, high: float) -> go.Figure:
    """Tiled channels on one colour scale (low..high) with its legend; NaN gaps stay blank.

    Heatmap cells are drawn as flat squares, so a 7×7 map shows its 49 values, not a blur.
    """
    fig = go.Figure(
        go.Heatmap(
            z=grid,
            zmin=low,
            zmax=high,
            colorscale="Viridis",
            hoverongaps=False,
            colorbar=dict(title=dict(text="activation", side="right"), thickness=14),
            hovertemplate="activation %{z:.2f}<extra></extra>",
        )
    )
    rows, cols = grid.shape
    height = min(720, max(220, round(GRID_WIDTH * rows / cols)))
    fig.update_layout(height=height, **{**_LAYOUT, "margin": dict(l=0, r=0, t=0, b=0)})
    fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
    fig.update_xaxes(visible=False)
    return fig


@readable
def channel_bars(channels: list[int], values: list[float], low: float, high: float) -> go.Figure:
    """A 1×1 layer: one bar per channel, coloured on the same scale a grid would use."""
    fig = go.Figure(
        go.Bar(
            x=[f"{c}" for c in channels],
            y=values,
            marker=dict(
                color=values,
                colorscale="Viridis",
                cmin=low,
                cmax=high,
                colorbar=dict(title=dict(text="activation", side="right"), thickness=14),
            ),
            hovertemplate="channel %{x}: %{y:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        height=320,
        xaxis=dict(title="channel (strongest first)", type="category"),
        yaxis=dict(title="activation"),
        **_LAYOUT,
    )
    return fig


def weakest_classes(accuracies: list[float]) -> list[int]:
    """The classes whose accuracy, as the bars print it (one decimal), is the lowest: a class a hair's
    breadth above the lowest prints the same figure, and a class asks why it was not named."""
    shown = [round(a, 1) for a in accuracies]
    return [c for c, a in enumerate(shown) if a == min(shown)]


@readable
def per_class_bars(accuracies: list[float], classes: tuple[str, ...]) -> go.Figure:
    """Accuracy per class, the weakest in orange, the axis starting where the bars differ."""
    weakest = weakest_classes(accuracies)
    fig = go.Figure(
        go.Bar(
            x=list(classes),
            y=accuracies,
            marker_color=["#e6550d" if i in weakest else "#3182bd" for i in range(len(classes))],
            text=[f"{a:.1f}%" for a in accuracies],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f}%<extra></extra>",
        )
    )
    low = max(0.0, min(accuracies) - 5)
    # The axis starts where the bars differ, and says so: from 0 every bar of a good model looks the same.
    title = "right (%)" if low == 0 else f"right (%), from {low:.0f}"
    fig.update_layout(
        height=300,
        yaxis=dict(range=[low, 101.5], title=title),
        xaxis=dict(type="category", tickfont=dict(size=15)),
        **_LAYOUT,
    )
    return fig


@readable
def embedding_scatter(
    points: np.ndarray,
    labels: list[int],
    predictions: list[int],
    classes: tuple[str, ...],
    extra: tuple[float, float] | None = None,
) -> go.Figure:
    """Each test image at its 2-D position, coloured by its true class; mistakes as crosses; `extra`
    (the current drawing) as a large star. A point's customdata is [its answer, its position]."""
    labels_a, predictions_a = np.asarray(labels), np.asarray(predictions)
    fig = go.Figure()
    palette = plotly.colors.qualitative.T10
    for c, name in enumerate(classes):
        for wrong in (False, True):
            chosen = np.flatnonzero((labels_a == c) & ((predictions_a != labels_a) == wrong))
            if not len(chosen):
                continue
            fig.add_trace(
                go.Scattergl(
                    x=points[chosen, 0],
                    y=points[chosen, 1],
                    mode="markers",
                    name=name if not wrong else f"{name}, misread",
                    legendgroup=name,
                    showlegend=not wrong,
                    marker=dict(
                        color=palette[c % len(palette)],
                        size=11 if wrong else 6,
                        symbol="x" if wrong else "circle",
                        opacity=1.0 if wrong else 0.55,
                        line=dict(width=1, color="#222") if wrong else dict(width=0),
                    ),
                    customdata=[[classes[predictions_a[i]], int(i)] for i in chosen],
                    hovertemplate=f"true {name}, said %{{customdata[0]}} (click to look closer)<extra></extra>",
                )
            )
    if extra is not None:
        fig.add_trace(
            go.Scatter(
                x=[extra[0]],
                y=[extra[1]],
                mode="markers+text",
                name="your drawing",
                text=["your drawing"],
                textposition="top center",
                textfont=dict(size=16),
                marker=dict(symbol="star", size=22, color="#000", line=dict(width=2, color="#fff")),
            )
        )
    fig.update_layout(
        height=520,
        clickmode="event+select",
        xaxis=dict(title="first principal component", zeroline=False),
        yaxis=dict(title="second principal component", zeroline=False),
        legend=dict(title="true class", font=dict(size=14), orientation="h", y=-0.18),
        **_LAYOUT,
    )
    return fig


@readable
def run_curves(histories: dict[str, dict]) -> go.Figure:
    """Validation accuracy and training loss per epoch, one line per run (name -> its history)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Validation accuracy (%)", "Training loss"))
    palette = plotly.colors.qualitative.T10
    for i, (name, history) in enumerate(histories.items()):
        color = palette[i % len(palette)]
        epochs = history.get("epoch", [])
        accuracy = [a if a is not None else float("nan") for a in history.get("val_acc", [])]
        fig.add_trace(go.Scatter(x=epochs, y=accuracy, name=name, mode="lines+markers", line=dict(color=color)), 1, 1)
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=history.get("train_loss", []),
                name=name,
                mode="lines+markers",
                line=dict(color=color),
                showlegend=False,
            ),
            1,
            2,
        )
    fig.update_xaxes(title_text="epoch", dtick=1)
    fig.update_layout(height=360, legend=dict(orientation="h", y=-0.3), **_LAYOUT)
    return fig


@readable
def accuracy_against(
    x: list[float], accuracy: list[float], names: list[str], chosen: list[bool], title: str
) -> go.Figure:
    """Test accuracy against a cost (parameters, seconds) on a log axis; chosen runs larger and labelled."""
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=accuracy,
            mode="markers+text",
            text=[name if pick else "" for name, pick in zip(names, chosen)],
            textposition="top center",
            marker=dict(
                size=[16 if pick else 9 for pick in chosen], color=["#e6550d" if p else "#3182bd" for p in chosen]
            ),
            customdata=names,
            hovertemplate="%{customdata}: %{y:.2f}% at %{x:,.0f}<extra></extra>",
        )
    )
    axis = dict(title=title, type="log", tickvals=_one_two_five(x))
    fig.update_layout(height=320, xaxis=axis, yaxis=dict(title="test accuracy (%)"), **_LAYOUT)
    return fig


def _one_two_five(values: list[float]) -> list[float]:
    """Ticks at 1, 2 and 5 times a power of ten around `values`, each at full size: Plotly's own log ticks
    label the 2s and 5s in smaller type, too small for a projector."""
    positive = [v for v in values if v > 0] or [1.0]
    low, high = min(positive) / 1.5, max(positive) * 1.5
    decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
    ticks = [m * 10.0**e for e in decades for m in (1, 2, 5) if low <= m * 10.0**e <= high]
    return ticks if len(ticks) >= 2 else [min(positive), max(positive)]  # values close together: label them
