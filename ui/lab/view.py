"""The Residual Lab page's sections: each draws what the library measured and says it in words."""

from __future__ import annotations

import streamlit as st

from resnet_core.depth_study.reference import LESION_DIGITS, SLICE_DIGITS
from resnet_core.depth_study.twins import TWINS, TwinRun, TwinSnapshot
from resnet_core.inside.anatomy import block_anatomy
from resnet_core.inside.feature_maps import channel_grid
from resnet_core.inside.lesion import LesionResult, lesion_study, mean_accuracy_drop, removable_blocks
from resnet_core.inside.loss_slice import DEFAULT_ALPHAS, LossSlice, loss_slice
from ui.caches import made_for, once_per
from ui.charts import NO_TOOLBAR
from ui.lab import charts as lab_charts
from ui.lab import verdicts
from ui.lab.works import layers

GRID_CHANNELS = 16


def twins_verdict(snap: TwinSnapshot, arch: str, test_digits: int, measured_on: str | None = None) -> None:
    """What the finished twins show, in numbers and a sentence; `measured_on`: the machine, for a run
    measured in advance."""
    res, plain = snap.final["residual"], snap.final["plain"]
    when = (
        f"in advance ({arch}, {snap.steps_done} steps, {snap.seconds:.0f} s on {measured_on})"
        if measured_on
        else (f"in this run ({arch}, {snap.steps_done} steps, {snap.seconds:.0f} s)")
    )
    st.markdown(
        f"**Measured {when}:** training loss "
        f"{res['train_loss']:.3f} with shortcuts, {plain['train_loss']:.3f} without; accuracy on "
        f"{test_digits:,} test digits {res['test_accuracy']:.1f}% with, {plain['test_accuracy']:.1f}% "
        "without. " + verdicts.twins(res, plain, layers(arch), snap.steps_done, snap.total_steps)
    )
    st.caption(
        "The training loss here is measured after training, on 1,000 training digits without augmentation, "
        "with the network in test mode (batch normalisation using the averages it kept); the curve above is the "
        "running average during training. After a short run the two can differ a lot: those kept averages have "
        "not settled yet. The test-accuracy points during training are measured the same way, so either net can "
        "dip for a while before its averages settle."
    )


def sweep_verdict(points, depths_asked: int) -> None:
    said = verdicts.sweep(points, depths_asked)
    if said is None:
        st.caption(f"{len(points)} of {depths_asked} depths done: what the sweep shows is said once all are in.")
    else:
        st.markdown("**Measured in this sweep:** " + said)


def gradient_verdict(snap: TwinSnapshot) -> None:
    ratios = {twin: snap.gradients[twin].first_to_last() for twin in TWINS}
    if None in ratios.values():
        return
    st.markdown("**Measured:** " + verdicts.gradient(ratios["residual"], ratios["plain"]))


def block_inspector(nets: dict, x) -> None:
    """Choose a net and a block; show x, F(x) and the output on one scale, and ||F(x)||/||x|| per block."""
    left, right = st.columns([1, 3])
    _forget_unless_offered("anatomy-net", nets)  # a followed teacher's "model in use" may not be this student's
    which = left.radio("Network", list(nets), horizontal=False, key="anatomy-net")
    anatomy = {twin: block_anatomy(net, x) for twin, net in nets.items()}
    parts = {p.name: p for p in anatomy[which]}
    _forget_unless_offered("anatomy-block", parts)  # another net's block
    name = right.select_slider("Block", list(parts), key="anatomy-block")
    part = parts[name]
    channels = list(range(min(GRID_CHANNELS, part.branch.shape[0])))
    grids = [
        channel_grid(t, channels, columns=4, per_channel_scale=False).numpy()
        for t in (part.shortcut, part.branch, part.output)
    ]
    figures = lab_charts.block_parts(*grids, residual=part.residual)
    bound = lab_charts.signed_bound(*grids)
    for column, figure, shown in zip(st.columns(3), figures, ("shortcut", "branch", "output"), strict=True):
        column.plotly_chart(figure, key=f"anatomy-{shown}", config=NO_TOOLBAR)
    st.caption(
        f"{name}: the first {len(channels)} of {part.branch.shape[0]} channels, {part.branch.shape[1]}×"
        f"{part.branch.shape[2]} each; one colour scale for all three: white is zero, the deepest red "
        f"+{bound:.2f}, the deepest blue −{bound:.2f}. "
        f"‖F(x)‖ / ‖x‖ = {part.ratio:.2f}."
    )
    ratios = {twin: {p.name: p.ratio for p in parts_} for twin, parts_ in anatomy.items()}
    # Beside the chosen net only the nets with the same blocks: a 20-layer model in use and 56-layer twins
    # would put 27 block names under nine bars.
    alike = {twin: by_block for twin, by_block in ratios.items() if list(by_block) == list(ratios[which])}
    st.plotly_chart(lab_charts.ratio_bars(alike), key="anatomy-ratios", config=NO_TOOLBAR)


def _forget_unless_offered(key: str, offered) -> None:
    if key in st.session_state and st.session_state[key] not in offered:
        del st.session_state[key]


def _test_digits(run: TwinRun, count: int):
    return run.data.test_images[:count], run.data.test_labels[:count]


def lesion_results(run: TwinRun) -> dict[str, list[LesionResult]]:
    """One-block-at-a-time lesion studies of both twins, made once by the first session that asks."""
    images, labels = _test_digits(run, LESION_DIGITS)
    return once_per(run, "lesions", lambda: {twin: lesion_study(run.nets[twin], images, labels) for twin in TWINS})


def loss_slices(run: TwinRun) -> dict[str, LossSlice]:
    """Both twins' loss along a filter-normalised random direction (the same seed for both), made once."""
    images, labels = _test_digits(run, SLICE_DIGITS)
    return once_per(run, "loss slices", lambda: {twin: loss_slice(run.nets[twin], images, labels) for twin in TWINS})


def requested(run: TwinRun, study: str, label: str, icon: str, hint: str) -> bool:
    """Whether to show a study of the run: it is already made (by anyone), or its button was pressed now."""
    if made_for(run, study) or st.button(label, icon=icon):
        return True
    st.caption(hint)
    return False


def lesion_section(run: TwinRun) -> None:
    hint = f"Tests {2 * len(run.nets['residual'].blocks())} damaged nets on {LESION_DIGITS} test digits."
    if not requested(run, "lesions", "Remove each block in turn", ":material/content_cut:", hint):
        return
    with st.spinner("Removing one block at a time and testing what is left…"):
        results = lesion_results(run)
    st.plotly_chart(lab_charts.lesion_chart(results), key="lesion-chart", config=NO_TOOLBAR)
    refused = [r.removed[0] for r in results["plain"][1:] if r.accuracy is None]
    if refused:
        st.caption(
            f"Gaps in the plain line ({', '.join(refused)}): those blocks change the image size or channel count, "
            "and a plain net has no shortcut to carry anything past them, so they cannot be removed at all."
        )
    intact = {twin: rows[0].accuracy for twin, rows in results.items()}
    tested, total = len(_test_digits(run, LESION_DIGITS)[1]), len(run.data.test_labels)
    part_of = (
        f" (the first {tested:,} of the twins' {total:,}, so with nothing removed the scores differ a little from section 1's)"
        if tested < total
        else ""
    )
    made = {twin: [r for r in rows[1:] if r.accuracy is not None] for twin, rows in results.items()}
    # Every block that can be taken out of a plain net can be taken out of its residual twin, and more.
    shared = {r.removed for r in made["plain"]}
    drops = {twin: mean_accuracy_drop(rows, among=shared) for twin, rows in results.items()}
    worst = {twin: min(rows, key=lambda r: r.accuracy) for twin, rows in made.items()}
    little = {twin: sum(intact[twin] - r.accuracy < verdicts.LITTLE_LOSS for r in rows) for twin, rows in made.items()}
    st.markdown(
        f"**Measured on {tested:,} test digits**{part_of}: with nothing removed the residual net scores "
        f"{intact['residual']:.1f}% and the plain net {intact['plain']:.1f}%; the worst single removal left "
        f"{worst['residual'].accuracy:.1f}% ({worst['residual'].removed[0]}) and {worst['plain'].accuracy:.1f}% "
        f"({worst['plain'].removed[0]}). "
        + verdicts.lesion(intact, drops, little, {twin: len(rows) for twin, rows in made.items()}, len(shared))
    )
    st.caption(
        "For comparison, Veit et al. (2016), in residual nets trained for long on ImageNet and CIFAR-10: "
        "removing a block where the image shrinks (here layer2.0, layer3.0) hurt most; removing most other "
        "blocks cost little, while removing any layer of a plain net left it guessing."
    )
    several = st.multiselect(
        "Or remove several blocks together", removable_blocks(run.nets["plain"]), key="lesion-several"
    )
    if several:
        cols = st.columns(2)
        for col, twin in zip(cols, TWINS):
            # lesion_study works on a copy: other sessions may be looking at these same nets.
            score = lesion_study(run.nets[twin], *_test_digits(run, LESION_DIGITS), groups=[several])[1].accuracy
            col.metric(f"{twin} net without {len(several)} block(s)", f"{score:.1f}%")


def loss_slice_section(run: TwinRun) -> None:
    hint = f"Computes each net's loss at {len(DEFAULT_ALPHAS)} points on {SLICE_DIGITS} test digits."
    if not requested(run, "loss slices", "Slice the landscape", ":material/landscape:", hint):
        return
    with st.spinner("Moving the weights step by step and measuring the loss…"):
        slices = loss_slices(run)
    st.plotly_chart(lab_charts.loss_slices(slices), key="loss-slices", config=NO_TOOLBAR)
    at_zero = {twin: s.losses[s.alphas.index(0.0)] for twin, s in slices.items()}
    res, plain = slices["residual"], slices["plain"]
    st.markdown(
        f"**Measured:** at the chart's ends (α = −1 and +1, a whole step of the random direction each way) the "
        f"loss rises to {loss_text(res.losses[0])} and {loss_text(res.losses[-1])} for the residual net, and to "
        f"{loss_text(plain.losses[0])} and {loss_text(plain.losses[-1])} for the plain one; at the trained weights "
        f"(α = 0) it is {loss_text(at_zero['residual'])} and {loss_text(at_zero['plain'])}."
    )


def loss_text(value: float) -> str:
    """A loss as a person reads it: 0.0385, 79, 8,130, never 8.13e+03."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"
