"""Plotly figures of one convolution: the digit with the filter's place on it beside the map it makes,
the filter's arithmetic as numbered grids, and the whole map filling in row by row (animated in the
browser, so a class pressing Play costs the server nothing)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from torch import Tensor

from resnet_core.inside.convolution import Step

_FONT = dict(size=15)
_PLACE = dict(color="#e6550d", width=3)


def _limit(*maps: Tensor) -> float:
    return max(float(m.abs().max()) for m in maps) or 1.0


def _box(fig: go.Figure, top: float, left: float, size: float, col: int) -> None:
    fig.add_shape(
        type="rect", x0=left - 0.5, x1=left + size - 0.5, y0=top - 0.5, y1=top + size - 0.5, line=_PLACE, row=1, col=col
    )


def sliding(
    image: Tensor,
    done: Tensor,
    step: Step,
    kernel: int,
    title: str,
    source: str = "the digit (the model's input)",
    source_is_map: bool = False,
) -> go.Figure:
    """Left: what the window slides over (the digit as the model gets it), its place outlined. Right: the
    output map so far (pixels not yet computed blank), the pixel being computed outlined."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(source, title), horizontal_spacing=0.08)
    colours = dict(colorscale="RdBu", zmid=0) if source_is_map else dict(colorscale="gray")
    fig.add_trace(
        go.Heatmap(z=image.numpy(), showscale=False, hovertemplate="%{z:.2f}<extra></extra>", **colours), 1, 1
    )
    limit = _limit(done.nan_to_num())
    fig.add_trace(
        go.Heatmap(
            z=done.numpy(),
            colorscale="RdBu",
            zmid=0,
            zmin=-limit,
            zmax=limit,
            hoverongaps=False,
            colorbar=dict(title=dict(text="sum", side="right"), thickness=14),
            hovertemplate="%{z:.2f}<extra></extra>",
        ),
        1,
        2,
    )
    _box(fig, step.top, step.left, kernel, col=1)
    _box(fig, step.row, step.col, 1, col=2)
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showticklabels=False, row=1, col=1)
    fig.update_yaxes(autorange="reversed", scaleanchor="x2", constrain="domain", showticklabels=False, row=1, col=2)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=40, b=10), font=_FONT)
    return fig


def arithmetic(step: Step, weights: Tensor) -> go.Figure:
    """The patch, the weights and their products as numbered grids: the sum of the last is the output pixel."""
    grids = {"pixels under the filter": step.patch, "× the filter's weights": weights, "= products": step.products}
    fig = make_subplots(rows=1, cols=3, subplot_titles=list(grids), horizontal_spacing=0.05)
    k = weights.shape[0]
    for col, grid in enumerate(grids.values(), start=1):
        limit = _limit(grid)
        fig.add_trace(
            go.Heatmap(
                z=grid.numpy(),
                colorscale="gray" if col == 1 else "RdBu",
                zmid=None if col == 1 else 0,
                zmin=None if col == 1 else -limit,
                zmax=None if col == 1 else limit,
                showscale=False,
                text=np.vectorize(lambda v: f"{v:.2f}")(grid.numpy()),
                texttemplate="%{text}",
                textfont=dict(size=16 if k <= 3 else 11),
                hoverinfo="skip",
            ),
            1,
            col,
        )
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=240 if k <= 3 else 330, margin=dict(l=10, r=10, t=40, b=10), font=_FONT)
    return fig


def filling_in(feature: Tensor, title: str) -> go.Figure:
    """The whole output map, revealed one row per frame when Play is pressed (in the browser)."""
    z = feature.numpy()
    limit = _limit(feature)
    blank = np.full_like(z, np.nan)

    def rows_done(rows: int) -> np.ndarray:
        shown = blank.copy()
        shown[:rows] = z[:rows]
        return shown

    heatmap = dict(colorscale="RdBu", zmid=0, zmin=-limit, zmax=limit, hovertemplate="%{z:.2f}<extra></extra>")
    fig = go.Figure(go.Heatmap(z=z, colorbar=dict(thickness=14), **heatmap))
    fig.frames = [
        go.Frame(data=[go.Heatmap(z=rows_done(rows), **heatmap)], name=str(rows)) for rows in range(1, len(z) + 1)
    ]
    fig.update_layout(
        title=title,
        height=420,
        margin=dict(l=10, r=10, t=50, b=10),
        font=_FONT,
        updatemenus=[
            dict(
                type="buttons",
                direction="left",
                x=0,
                y=-0.02,
                xanchor="left",
                yanchor="top",
                buttons=[
                    dict(
                        label="▶ Play",
                        method="animate",
                        args=[None, dict(frame=dict(duration=180, redraw=True), fromcurrent=False, mode="immediate")],
                    )
                ],
            )
        ],
    )
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showticklabels=False)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    return fig
