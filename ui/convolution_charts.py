"""Plotly figures of one convolution: the digit with the filter's place on it beside the map it makes,
the filter's arithmetic as numbered grids, and the whole map filling in row by row (animated in the
browser, so a class pressing Play costs the server nothing)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from torch import Tensor

from ui.charts import SIGNED, TEXT, readable

_PLACE = dict(color="#e6550d", width=3)


def _limit(*maps: Tensor) -> float:
    return max(float(m.abs().max()) for m in maps) or 1.0


def _square(fig: go.Figure, height: int) -> go.Figure:
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showticklabels=False)
    fig.update_xaxes(showticklabels=False, constrain="domain")
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), font=TEXT)
    return fig


@readable
def window_on(picture: Tensor, top: float, left: float, size: int, title: str, is_map: bool = False) -> go.Figure:
    """What the window slides over (the digit as the model gets it, or a map), its place outlined."""
    colours = dict(colorscale=SIGNED, zmid=0) if is_map else dict(colorscale="gray")
    fig = go.Figure(go.Heatmap(z=picture.numpy(), showscale=False, hovertemplate="%{z:.2f}<extra></extra>", **colours))
    fig.add_shape(type="rect", x0=left - 0.5, x1=left + size - 0.5, y0=top - 0.5, y1=top + size - 0.5, line=_PLACE)
    fig.update_layout(title=title)
    return _square(fig, 340)


@readable
def map_so_far(done: Tensor, row: int, col: int, title: str) -> go.Figure:
    """The output map so far (pixels not yet computed blank), the pixel being computed outlined."""
    limit = _limit(done.nan_to_num())
    fig = go.Figure(
        go.Heatmap(
            z=done.numpy(),
            colorscale=SIGNED,
            zmid=0,
            zmin=-limit,
            zmax=limit,
            hoverongaps=False,
            colorbar=dict(thickness=14),
            hovertemplate="%{z:.2f}<extra></extra>",
        )
    )
    fig.add_shape(type="rect", x0=col - 0.5, x1=col + 0.5, y0=row - 0.5, y1=row + 0.5, line=_PLACE)
    fig.update_layout(title=title)
    return _square(fig, 340)


@readable
def number_grid(grid: Tensor, title: str, diverging: bool) -> go.Figure:
    """A small grid with its numbers written in: the patch, the weights or the products."""
    limit = _limit(grid)
    k = grid.shape[0]
    colours = dict(colorscale=SIGNED, zmid=0, zmin=-limit, zmax=limit) if diverging else dict(colorscale="gray")
    fig = go.Figure(
        go.Heatmap(
            z=grid.numpy(),
            showscale=False,
            text=np.vectorize(lambda v: f"{v:.2f}")(grid.numpy()),
            texttemplate="%{text}",
            textfont=dict(size=18 if k <= 3 else 12, color="black"),
            hoverinfo="skip",
            **colours,
        )
    )
    fig.update_layout(title=title)
    # Light enough that black numbers read on every cell.
    fig.update_traces(opacity=0.55)
    return _square(fig, 260 if k <= 3 else 360)


@readable
def filling_in(feature: Tensor, title: str) -> go.Figure:
    """The whole output map, revealed one row per frame when Play is pressed (in the browser)."""
    z = feature.numpy()
    limit = _limit(feature)
    blank = np.full_like(z, np.nan)

    def rows_done(rows: int) -> np.ndarray:
        shown = blank.copy()
        shown[:rows] = z[:rows]
        return shown

    heatmap = dict(colorscale=SIGNED, zmid=0, zmin=-limit, zmax=limit, hovertemplate="%{z:.2f}<extra></extra>")
    fig = go.Figure(go.Heatmap(z=z, colorbar=dict(thickness=14), **heatmap))
    fig.frames = [
        go.Frame(data=[go.Heatmap(z=rows_done(rows), **heatmap)], name=str(rows)) for rows in range(1, len(z) + 1)
    ]
    fig.update_layout(
        title=title,
        height=420,
        margin=dict(l=10, r=10, t=50, b=10),
        font=TEXT,
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
