"""What the Residual Lab's numbers say, in sentences a teacher can read aloud.

Every sentence is worked out from the numbers on screen, and none is written before all of them
exist. When a run does not show what the papers found, the sentence says so, and why when the
numbers tell (a run stopped early, a net that never learned). No Streamlit here: tests feed these
functions both kinds of result.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

SAME = 0.05  # losses within 5% of each other count as the same
LEARNED = 50.0  # percent on the test digits: below this a net has barely learned (10% is guessing)
LITTLE_LOSS = 5.0  # points of accuracy: a removal that costs less than this "can go with little loss"
BIG_LOSS = 20.0  # points lost per removal on average: the net did not come through well, even if better
GROWN = 3.0  # a gradient more than this many times stronger at the first block than at the last has grown
FAILED_TO_LEARN = 2.0  # a training loss this many times the other twin's: that net failed to learn


def _compare(with_shortcuts: float, without: float) -> str:
    if with_shortcuts < without * (1 - SAME):
        return "lower"
    if with_shortcuts > without * (1 + SAME):
        return "higher"
    return "about the same"


def twins(res: dict, plain: dict, layers: int, steps_done: int, total_steps: int) -> str:
    """The twins' outcome. res / plain: a twin's final train_loss and test_accuracy (percent)."""
    if steps_done < total_steps:
        return (
            f"This run was stopped after {steps_done} of {total_steps} steps: both nets have barely trained, "
            "so these numbers say little about shortcuts. Train them to the end to compare."
        )
    if res["test_accuracy"] < LEARNED and plain["test_accuracy"] < LEARNED:
        return (
            f"Neither net has learned yet ({res['test_accuracy']:.1f}% and {plain['test_accuracy']:.1f}%, "
            "where guessing scores 10%): train on more digits or for more epochs, then compare."
        )
    loss = _compare(res["train_loss"], plain["train_loss"])
    if loss == "lower" and plain["train_loss"] > FAILED_TO_LEARN * res["train_loss"]:
        return (
            f"With shortcuts the {layers}-layer net learned its training digits far better (loss "
            f"{res['train_loss']:.3f} against {plain['train_loss']:.3f}): the plain net does not fail only on new "
            "digits, it fails to learn the ones it is shown. That is the degradation problem shortcuts solve."
        )
    if loss == "lower":
        deeper = " In He et al.'s experiments the gap grew with depth: try 56 layers." if layers < 56 else ""
        tested = ""
        if plain["test_accuracy"] > res["test_accuracy"]:
            tested = (
                f" On the test digits, though, the plain net scored higher ({plain['test_accuracy']:.1f}% against "
                f"{res['test_accuracy']:.1f}%): at {layers} layers the shortcuts make no clear difference."
            )
        return (
            f"With shortcuts the {layers}-layer net learned its training digits somewhat better (loss "
            f"{res['train_loss']:.3f} against {plain['train_loss']:.3f}).{tested}{deeper}"
        )
    if loss == "about the same":
        deeper = " Try 56 layers: the plain net's trouble grows with depth." if layers < 56 else ""
        return (
            f"At {layers} layers both nets learned about equally well (loss {res['train_loss']:.3f} and "
            f"{plain['train_loss']:.3f}): this run does not show shortcuts helping.{deeper}"
        )
    why = (
        "At this depth the two nets are close and either can come out ahead: the plain net's trouble grows "
        "with depth (try 56 layers)."
        if layers < 56
        else "With short runs and few digits one net can get lucky: train longer, or on more digits, and compare again."
    )
    return (
        f"In this run the net without shortcuts learned better (loss {plain['train_loss']:.3f} against "
        f"{res['train_loss']:.3f}): this run does not show what He et al. found. {why}"
    )


def sweep(points: Sequence, depths_asked: int) -> str | None:
    """The sweep's outcome once all `depths_asked` depths are in; None before (a verdict on part of a sweep
    can reverse when the last depth comes in). points: SweepPoints, shallowest first."""
    if len(points) < depths_asked or len(points) < 2:
        return None
    first, last = points[0], points[-1]
    sentences = []
    for twin, name in (("plain", "The plain net"), ("residual", "The residual net")):
        before, after = first.train_loss[twin], last.train_loss[twin]
        trend = {"higher": "got worse", "lower": "got better", "about the same": "stayed about the same"}[
            _compare(after, before)
        ]
        sentences.append(
            f"{name}'s training loss {trend} from {first.depth} to {last.depth} layers ({before:.3f} → {after:.3f})."
        )
    plain_worse = _compare(last.train_loss["plain"], first.train_loss["plain"]) == "higher"
    residual_kept = _compare(last.train_loss["residual"], first.train_loss["residual"]) != "higher"
    if plain_worse and residual_kept:
        verdict = "That is He et al.'s picture: depth hurt the plain net and not the residual one."
    elif plain_worse:
        verdict = (
            "Depth hurt both nets here, so this sweep does not show what shortcuts do: its runs are short. "
            "More digits or epochs give the deeper nets time to learn."
        )
    else:
        verdict = (
            "This sweep does not show depth hurting the plain net: its runs are short and its nets small. "
            "More digits or epochs usually bring it out."
        )
    return " ".join(sentences) + " " + verdict


def _change(ratio: float) -> str:
    if ratio >= 1:
        return f"{ratio:.3g} times as strong as at the last block (it grew on the way back)"
    return f"1/{1 / ratio:.3g} of its strength at the last block (it faded on the way back)"


def gradient(residual_ratio: float, plain_ratio: float) -> str:
    """Gradient flow: each ratio is the gradient at the first block over the one at the last."""
    said = (
        f"The gradient reaching the first block is {_change(residual_ratio)} in the residual net, and "
        f"{_change(plain_ratio)} in the plain net."
    )
    distance = {twin: abs(math.log(ratio)) for twin, ratio in (("residual", residual_ratio), ("plain", plain_ratio))}
    trouble = (
        "Fading and growing both mean trouble: a faded gradient leaves the first layers almost unable to learn; "
        "a grown one means the smallest change in the first layers swings the output wildly, so what they learn "
        "is erratic."
    )
    if distance["residual"] < distance["plain"] and distance["residual"] <= math.log(GROWN):
        meaning = f"The shortcuts carry it back past every block, so it arrives nearly unchanged. {trouble}"
    elif distance["residual"] < distance["plain"]:
        meaning = (
            "It changed on the way back in both nets, less in the residual one: the shortcuts carry part of it "
            f"past every block. {trouble}"
        )
    else:
        meaning = (
            "In this run the residual net's gradient changed as much as the plain net's or more, which is not "
            "what shortcuts usually do: early in training, or in a shallow net, both can look alike."
        )
    if distance["residual"] < distance["plain"] and plain_ratio > GROWN:
        meaning += (
            " Here the plain net's grew: plain nets with batch normalisation do that, the more the deeper they "
            "are (Yang et al. 2019), "
            "so vanishing gradients are only half of the story."
        )
    return f"{said} {meaning} (Median over the recorded steps; 1 would mean it arrives unchanged.)"


def lesion(intact: dict, mean_drop: dict, little_loss: dict, removable: dict, shared: int) -> str:
    """The lesion study's outcome. Per twin: intact accuracy (percent), mean points lost per removal of the
    `shared` blocks that can be taken out of both (not one that changes the picture's size from a plain net), how
    many single removals cost less than LITTLE_LOSS points, and how many could be made."""
    counts = (
        f"{little_loss['residual']} of {removable['residual']} single removals cost the residual net less than "
        f"{LITTLE_LOSS:.0f} points, and {little_loss['plain']} of {removable['plain']} cost the plain net as little."
    )
    if intact["plain"] < LEARNED and intact["residual"] < LEARNED:
        return (
            f"Neither net learned in this run ({intact['residual']:.1f}% and {intact['plain']:.1f}%, where guessing "
            "scores 10%), so removing blocks from them shows nothing: train the twins on more digits or for more "
            "epochs first."
        )
    if intact["plain"] < LEARNED:
        return (
            f"The plain net barely learned ({intact['plain']:.1f}%, against the residual net's "
            f"{intact['residual']:.1f}%), so it had little to lose and its small losses say nothing about "
            "robustness. " + counts
        )
    if intact["residual"] < LEARNED:
        return f"The residual net barely learned ({intact['residual']:.1f}%): train the twins longer first. " + counts
    if shared == 0:
        return "No block can be taken out of the plain net, so there is nothing to compare. " + counts
    over = (
        "the one block that can be taken out of both nets"
        if shared == 1
        else f"the {shared} blocks that can be taken out of both nets"
    )
    cost = (
        f"removing {over} cost {{it}} {mean_drop['residual']:.1f} points{' on average' if shared > 1 else ''}, "
        f"the plain net {mean_drop['plain']:.1f}."
    )
    extra = removable["residual"] - shared
    # Never "can lose": taking out such a block may cost the residual net the most.
    only_residual = (
        f" {extra} more block{'s' if extra > 1 else ''} can be taken out of the residual net only (the chart's "
        "gaps in the plain line): not counted in these averages."
        if extra > 0
        else ""
    )
    gap = mean_drop["plain"] - mean_drop["residual"]
    if abs(gap) < LITTLE_LOSS:
        return (
            "The two nets came through about the same: "
            + cost.format(it="the residual net")
            + only_residual
            + " "
            + counts
        )
    if gap > 0:
        both = " Both lost a lot, though." if mean_drop["residual"] >= BIG_LOSS else ""
        return "The residual net came through better: " + cost.format(it="it") + both + only_residual + " " + counts
    return (
        "In this run the residual net did not come through better: "
        + cost.format(it="it")
        + " Veit et al. measured nets trained far longer on far more images; train on more digits and remove "
        "blocks again. " + counts
    )
