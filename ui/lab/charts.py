"""Plotly figures for the Residual Lab: twin curves, depth sweep, gradient flow, block anatomy, lesions.

Every figure draws the residual net in blue and its plain twin in orange.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from resnet_core.depth_study.twins import TWINS, SweepPoint, TwinSnapshot
from resnet_core.inside.gradient_flow import GradientFlow
from resnet_core.inside.lesion import LesionResult
from resnet_core.inside.loss_slice import LossSlice
from ui.charts import SIGNED, TEXT, readable

COLORS = {"residual": "#2b6cb0", "plain": "#dd6b20"}
OTHER_NET = "#2f855a"  # a third net (the model in use): green, apart from both twins and from the maps' red
NAMES = {"residual": "residual (with shortcuts)", "plain": "plain (no shortcuts)"}
_LAYOUT = dict(margin=dict(l=10, r=10, t=50, b=10), font=TEXT)  # as ui.charts' figures
_LEGEND = dict(orientation="h", y=-0.32)  # below the x axis title


@readable
def twin_curves(snap: TwinSnapshot) -> tuple[go.Figure, go.Figure]:
    """Training loss per reported step, and test accuracy per evaluation: both twins on each chart."""
    loss, accuracy = _chart("Training loss"), _chart("Test accuracy (%)")
    for twin in TWINS:
        curves = snap.curves[twin]
        line = dict(color=COLORS[twin], width=3)
        loss.add_trace(go.Scatter(x=curves.steps, y=curves.train_loss, name=NAMES[twin], line=line))
        accuracy.add_trace(
            go.Scatter(
                x=curves.eval_steps,
                y=curves.test_accuracy,
                name=NAMES[twin],
                mode="lines+markers",
                line=line,
                showlegend=False,
            )
        )
    for fig in (loss, accuracy):
        fig.update_xaxes(title_text="training step", range=[0, max(snap.total_steps, 1) * 1.03])
    loss.update_yaxes(rangemode="tozero")
    accuracy.update_yaxes(range=[0, 100])
    return loss, accuracy


@readable
def sweep_chart(points: list[SweepPoint]) -> tuple[go.Figure, go.Figure]:
    """Training loss and test accuracy after training, against depth, residual vs plain."""
    loss, accuracy = _chart("Final training loss"), _chart("Test accuracy (%)")
    depths = [p.depth for p in points]
    for twin in TWINS:
        marker = dict(color=COLORS[twin], size=12)
        line = dict(color=COLORS[twin], width=3)
        loss.add_trace(
            go.Scatter(x=depths, y=[p.train_loss[twin] for p in points], name=NAMES[twin], marker=marker, line=line)
        )
        accuracy.add_trace(
            go.Scatter(x=depths, y=[p.test_accuracy[twin] for p in points], marker=marker, line=line, showlegend=False)
        )
    for fig in (loss, accuracy):
        fig.update_xaxes(title_text="layers", tickvals=depths)
    loss.update_yaxes(rangemode="tozero")
    # From just below the lowest accuracy: on 0-100 a gap of a few points between nets near 99% vanishes.
    lowest = min(p.test_accuracy[twin] for p in points for twin in TWINS)
    accuracy.update_yaxes(range=[max(0.0, math.floor(lowest) - 1), 100.5])
    return loss, accuracy


def _chart(title: str) -> go.Figure:
    """One of a pair of charts that sit side by side on a projector and one under the other on a phone
    (a single figure of two would give each half a phone's width)."""
    fig = go.Figure()
    fig.update_layout(title=dict(text=title), height=340, legend=_LEGEND, **_LAYOUT)
    return fig


@readable
def gradient_heatmaps(flows: dict[str, GradientFlow]) -> go.Figure:
    """Blocks x recorded steps of |dLoss/d(block output)|, both twins on one log colour scale."""
    titles = list(TWINS)  # short: two titles side by side must fit a phone
    # Spaced so that on a phone the right panel's tick marks stay clear of the left panel.
    fig = make_subplots(rows=1, cols=2, subplot_titles=titles, shared_yaxes=True, horizontal_spacing=0.08)
    logs = {}
    for twin in TWINS:
        _, output = flows[twin].as_tensors()
        logs[twin] = np.log10(output.clamp(min=1e-12).numpy().T) if output.numel() else np.zeros((0, 0))
    finite = np.concatenate([v[np.isfinite(v)].ravel() for v in logs.values()] or [np.zeros(1)])
    low, high = (math.floor(finite.min()), math.ceil(finite.max())) if finite.size else (-3, 0)
    high = max(high, low + 1)
    ticks = list(range(low, high + 1))
    for col, twin in enumerate(TWINS, start=1):
        flow = flows[twin]
        fig.add_trace(
            go.Heatmap(
                z=logs[twin],
                x=flow.steps,
                y=flow.blocks,
                coloraxis="coloraxis",
                hovertemplate="block %{y}, step %{x}: 10^%{z:.2f}<extra></extra>",
            ),
            1,
            col,
        )
    fig.update_layout(
        coloraxis=dict(
            colorscale="Viridis",
            cmin=low,
            cmax=high,
            colorbar=dict(title="gradient", tickvals=ticks, ticktext=[f"1e{t}" for t in ticks]),
        ),
        height=max(320, 60 + 14 * len(flows[TWINS[0]].blocks)),
        **_LAYOUT,
    )
    fig.update_yaxes(autorange="reversed", type="category", title_text="block (first at the top)", col=1)
    # One axis title, under the first half: on a phone each half is a third of the screen wide, and two
    # titles would run into each other.
    fig.update_xaxes(nticks=4)
    fig.update_xaxes(title_text="training step", col=1)
    return fig


def signed_bound(*grids: np.ndarray) -> float:
    """The largest size of any value in the grids (blank cells left out): their one colour scale's end."""
    values = np.concatenate([a[np.isfinite(a)].ravel() for a in grids])
    return float(np.abs(values).max()) if values.size else 1.0


@readable
def block_parts(shortcut: np.ndarray, branch: np.ndarray, output: np.ndarray, residual: bool) -> list[go.Figure]:
    """Three channel grids on one signed colour scale: what the shortcut carries, F(x), the output; one figure
    each, so that a phone, which stacks them, shows each at its full width."""
    titles = ("x", "F(x)", "relu(F(x) + x)") if residual else ("x (not added)", "F(x)", "relu(F(x))")
    bound = signed_bound(shortcut, branch, output)
    figures = []
    for title, grid in zip(titles, (shortcut, branch, output), strict=True):
        fig = go.Figure(go.Heatmap(z=grid, coloraxis="coloraxis", hoverongaps=False))
        # No colour bar: on one of the three it would make that picture narrower; the caption gives the scale.
        scale = dict(colorscale=SIGNED, cmin=-bound, cmax=bound, showscale=False)
        fig.update_layout(title=dict(text=title), coloraxis=scale, height=330, **_LAYOUT)
        fig.update_yaxes(autorange="reversed", scaleanchor="x", visible=False)
        fig.update_xaxes(visible=False)
        figures.append(fig)
    return figures


@readable
def ratio_bars(ratios: dict[str, dict[str, float]]) -> go.Figure:
    """||F(x)|| / ||x|| per block, one bar series per twin given."""
    fig = go.Figure()
    for twin, by_block in ratios.items():
        fig.add_trace(
            go.Bar(
                x=list(by_block),
                y=list(by_block.values()),
                name=NAMES.get(twin, twin),
                marker_color=COLORS.get(twin, OTHER_NET),
            )
        )
    # The line at 1 named in the legend, not by a label on the plot, where it would sit over some bars.
    blocks = list(next(iter(ratios.values()), {}))
    fig.add_trace(
        go.Scatter(
            x=blocks,
            y=[1.0] * len(blocks),
            mode="lines",
            line=dict(dash="dot", color="#31333f", width=2),
            name="F(x) as large as x",
            hoverinfo="skip",
        )
    )
    fig.update_layout(
        height=360,
        barmode="group",
        yaxis=dict(title="‖F(x)‖ / ‖x‖"),
        xaxis=dict(type="category", title="block"),
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),  # above the plot, clear of the block names
        **_LAYOUT,
    )
    return fig


@readable
def lesion_chart(results: dict[str, list[LesionResult]]) -> go.Figure:
    """Test accuracy with one block removed, per block, residual vs plain; dashed: nothing removed."""
    fig = go.Figure()
    for twin, rows in results.items():
        intact, removed = rows[0], rows[1:]
        fig.add_trace(
            go.Scatter(
                x=[r.removed[0] for r in removed],
                y=[r.accuracy for r in removed],
                name=NAMES[twin],
                mode="lines+markers",
                connectgaps=False,
                marker=dict(color=COLORS[twin], size=9),
                line=dict(color=COLORS[twin], width=3),
            )
        )
        fig.add_hline(y=intact.accuracy, line=dict(color=COLORS[twin], dash="dash"))
    fig.update_layout(
        height=380,
        yaxis=dict(title="test accuracy (%)", range=[0, 100]),
        xaxis=dict(type="category", title="block removed"),
        # Above the plot: a phone tilts 27 block names, which push the axis title down into a legend below.
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
        **_LAYOUT,
    )
    return fig


def _whole_decades(values: list[float]) -> dict:
    """A log axis from the power of ten below the smallest value to the one above the largest, each labelled:
    the sentence's losses (0.04 as well as 8,130) then lie between two labels."""
    positive = [v for v in values if v > 0] or [1.0]
    low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    high = max(high, low + 1)
    return dict(tickvals=[10.0**e for e in range(low, high + 1)], range=[low, high])


@readable
def loss_slices(slices: dict[str, LossSlice]) -> go.Figure:
    """Loss against the step along the random direction, both twins; the trained weights at 0."""
    fig = go.Figure()
    for twin, result in slices.items():
        fig.add_trace(
            go.Scatter(
                x=result.alphas,
                y=result.losses,
                name=NAMES[twin],
                mode="lines+markers",
                line=dict(color=COLORS[twin], width=3),
            )
        )
    fig.update_layout(
        height=360,
        xaxis=dict(title="step along a random direction (0: the trained weights)"),
        yaxis=dict(
            title="loss on test digits",
            type="log",
            **_whole_decades([loss for result in slices.values() for loss in result.losses]),
        ),
        legend=_LEGEND,
        **_LAYOUT,
    )
    return fig
