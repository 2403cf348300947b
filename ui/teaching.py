"""The Teach page's rules (which symbol names are allowed, which drawings are kept back to test on) and
its pieces: the examples drawn so far, the taught copy's answer, and what teaching achieved."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from resnet_core.data.augment import denormalize
from resnet_core.training.finetune import LEARNS, FineTuned

MOST_CLASSES = 4
# Examples kept per symbol: five already teach three symbols (docs/benchmarks.md), and each one
# makes every teaching pass longer on the server that the whole class shares.
MOST_EXAMPLES_PER_SYMBOL = 20
HOLD_OUT_FROM = 3  # a symbol with this many drawings keeps its last one back for the accuracy test


def class_names(text: str) -> tuple[str, ...]:
    """ "circle, cross, heart" -> ("circle", "cross", "heart"); ValueError with what to change."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not 2 <= len(names) <= MOST_CLASSES:
        raise ValueError(f"Name 2 to {MOST_CLASSES} symbols, separated by commas (now {len(names)}).")
    if len(set(n.lower() for n in names)) < len(names):
        raise ValueError("Two symbols have the same name: give each its own.")
    return names


def held_out_split(
    examples: list[tuple[int, torch.Tensor]], classes: int
) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor] | None]:
    """(images, labels) to train on and (images, labels) held back: each class's last drawing once it has
    HOLD_OUT_FROM or more. Examples of classes that no longer exist (the names were shortened) are left out."""
    train, held = [], []
    for label in range(classes):
        mine = [x for c, x in examples if c == label]
        if len(mine) >= HOLD_OUT_FROM:
            held.append((label, mine.pop()))
        train += [(label, x) for x in mine]

    def stacked(pairs):
        if not pairs:
            return torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long)
        return torch.cat([x for _, x in pairs]), torch.tensor([c for c, _ in pairs])

    return stacked(train), (stacked(held) if held else None)


def example_gallery(examples: list[tuple[int, torch.Tensor]], names: tuple[str, ...]) -> None:
    """How many examples each symbol has, and the examples themselves as the model sees them."""
    counts = [sum(1 for c, _ in examples if c == i) for i in range(len(names))]
    st.markdown(" · ".join(f"**{name}**: {n}" for name, n in zip(names, counts)))
    for position, name in enumerate(names):
        pictures = [denormalize(x[0, 0]).clamp(0, 1).numpy() for c, x in examples if c == position]
        if pictures:
            st.image(pictures, width=48, caption=[name] * len(pictures))


def probabilities(taught: FineTuned, x: torch.Tensor) -> np.ndarray:
    """The taught copy's probability for each of its symbols, for one prepared drawing (1, 1, 28, 28)."""
    with torch.inference_mode():
        return torch.softmax(taught.model(x), dim=1)[0].numpy()


def results(taught: FineTuned, examples: int, learns: str) -> None:
    """What teaching trained, how long it took and how the held-back drawings fared before and after;
    a warning when the examples or what learns changed since."""
    if taught.examples + taught.held_out != examples or taught.learns != learns:
        st.warning("These results are from before your latest changes: press **Teach** again to update them.")
    share = 100 * taught.trained_parameters / taught.total_parameters
    cols = st.columns(3)
    cols[0].metric(
        "Parameters trained",
        f"{taught.trained_parameters:,}",
        f"{share:.2f}% of {taught.total_parameters:,}",
        delta_color="off",
        delta_arrow="off",
    )
    cols[1].metric("Took", f"{taught.seconds:.1f} s")
    if taught.accuracy_after is not None:
        right = round(taught.accuracy_after * taught.held_out / 100)
        was = round(taught.accuracy_before * taught.held_out / 100)
        cols[2].metric(
            "Right on held-out drawings",
            f"{right} of {taught.held_out}",
            f"{right - was:+d} (before teaching: {was} of {taught.held_out})",
        )
    st.caption(
        f"{LEARNS[taught.learns].capitalize()}; every other layer kept what it learned from MNIST. "
        + (
            "The last drawing of each symbol with at least 3 was kept back to test on: the model never trained on it."
            if taught.accuracy_after is not None
            else "Draw 3 or more of each symbol to keep one back and measure the accuracy."
        )
    )
