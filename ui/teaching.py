"""The Teach page's rules: which symbol names are allowed, and which drawings are kept back to test on."""

from __future__ import annotations

import torch

MOST_CLASSES = 4
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
