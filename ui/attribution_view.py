""" "Where it looks": Grad-CAM at every stage, saliency and Integrated Gradients over the digit the model
sees; occlusion and the random-weights sanity check on request."""

from __future__ import annotations

import streamlit as st
import torch

from resnet_core.data.augment import denormalize
from resnet_core.inside.attribution import (
    grad_cam,
    integrated_gradients,
    map_similarity,
    occlusion,
    randomized_copy,
    saliency,
)
from resnet_core.networks.resnet import STEMS
from ui.caches import once_per
from ui.drawing.overlays import overlay
from ui.models.model_list import ModelEntry

THUMBNAIL = 112


def where_it_looks(
    chosen: ModelEntry,
    x: torch.Tensor,
    answer: int,
    classes: tuple[str, ...],
    key: str,
    label: str = "Where it looks",
    expanded: bool = False,
) -> None:
    """The section for one prepared input x (1, 1, 28, 28) and the model's answer, in an expander
    (`key` keeps it open or folded). The maps are worked out only while it is open: a dozen backward
    passes on every stroke would cost the shared server far more than the answer itself."""
    section = st.expander(label, expanded=expanded, icon=":material/visibility:", key=key, on_change="rerun")
    if section.open:
        with section:
            _maps(chosen, x, answer, classes)


def _maps(chosen: ModelEntry, x: torch.Tensor, answer: int, classes: tuple[str, ...]) -> None:
    target = st.selectbox(
        "Explain the class",
        range(len(classes)),
        index=answer,
        format_func=lambda c: f"{classes[c]} (the answer)" if c == answer else classes[c],
        help="Each map shows what made the model's score for this class higher.",
    )
    digit = denormalize(x[0, 0])
    cams = grad_cam(chosen.model, x, target)
    pictures = [overlay(digit, cam) for cam in cams.values()]
    captions = [f"Grad-CAM, {stage} ({_side(chosen, stage)})" for stage in cams]  # the names the other pages use
    pictures += [
        overlay(digit, saliency(chosen.model, x, target)),
        overlay(digit, integrated_gradients(chosen.model, x, target), signed=True),
    ]
    captions += ["saliency", "Integrated Gradients"]
    st.image(pictures, caption=captions, width=THUMBNAIL)
    st.caption(
        f"Each picture shows what counted for **{classes[target]}**, brightest where it counted most (each scaled "
        "to its own strongest point, so a weak case looks as bright as a strong one). Grad-CAM: where the maps "
        "of layer1, layer2, … pushed the score up, enlarged to 28×28; later layers see whole parts of the digit, "
        "so their pictures are coarser. Saliency: the pixels where a small change would move the score most. "
        "Integrated Gradients: red pixels raise the score, blue ones lower it, measured from a blank canvas "
        "to this drawing."
    )
    left, right = st.columns(2)
    if left.toggle("Cover parts of the digit (occlusion)", help="A 6×6 black patch slides over the digit."):
        left.image(
            overlay(digit, occlusion(chosen.model, x, target)),
            caption="probability lost when covered",
            width=2 * THUMBNAIL,
        )
        left.caption("Bright: covering this part costs the answer most. No gradients: just hide and watch.")
    if right.toggle(
        "Sanity check",
        help="Is the Grad-CAM picture about what the network learned? Compare it with the same network given "
        "random weights (the test of Adebayo et al., 2018).",
    ):
        # The model's architecture with random weights: the sanity check's control, made once per model.
        random_net = once_per(chosen.model, "random twin", lambda: randomized_copy(chosen.model))
        stage = list(cams)[-1]
        noise = grad_cam(random_net, x, target, stages=(stage,))[stage]
        right.image(
            [pictures[len(cams) - 1], overlay(digit, noise)],
            caption=[f"trained, {stage}", f"random weights, {stage}"],
            width=THUMBNAIL,
        )
        similarity = map_similarity(cams[stage], noise)
        verdict = (
            "Passed: the trained network's picture is its own."
            if similarity < 0.5
            else "Not passed here: the picture looks much the same without the training, so it shows the image more "
            "than the network."
        )
        right.caption(
            f"Grad-CAM at {stage}. Rank correlation of the two pictures: {similarity:.2f} (1: the same picture, "
            f"0: unrelated). {verdict} A method whose picture survives random weights explains nothing about the network."
        )


def _side(chosen: ModelEntry, stage: str) -> str:
    side = STEMS[chosen.model.model_kwargs["stem"]].side
    for _ in range(chosen.model.stages.index(stage)):
        side = (side + 1) // 2
    return f"{side}×{side}"
